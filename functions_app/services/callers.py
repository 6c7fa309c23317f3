"""Who is calling: the ``Caller`` that the API's one authentication path resolves (and the
console and admin build for their signed-in staff), and the scopes of each role."""

from dataclasses import dataclass, field

from ..models import ApiKey, Project, ProjectUser, Session

# The scopes a function may ask for its per-execution key (Appwrite 1.8's list).
SCOPES_ALL = [
    "sessions.write",
    "users.read",
    "users.write",
    "teams.read",
    "teams.write",
    "databases.read",
    "databases.write",
    "collections.read",
    "collections.write",
    "tables.read",
    "tables.write",
    "attributes.read",
    "attributes.write",
    "columns.read",
    "columns.write",
    "indexes.read",
    "indexes.write",
    "documents.read",
    "documents.write",
    "rows.read",
    "rows.write",
    "files.read",
    "files.write",
    "buckets.read",
    "buckets.write",
    "functions.read",
    "functions.write",
    "sites.read",
    "sites.write",
    "log.read",
    "log.write",
    "execution.read",
    "execution.write",
    "locale.read",
    "avatars.read",
    "health.read",
    "providers.read",
    "providers.write",
    "messages.read",
    "messages.write",
    "topics.read",
    "topics.write",
    "subscribers.read",
    "subscribers.write",
    "targets.read",
    "targets.write",
    "rules.read",
    "rules.write",
    "migrations.read",
    "migrations.write",
    "vcs.read",
    "vcs.write",
    "assistant.read",
    "tokens.read",
    "tokens.write",
]

# What a key gets when no scopes are named: everything this instance serves.
KEY_SCOPES = [
    "functions.read",
    "functions.write",
    "execution.read",
    "execution.write",
    "users.read",
    "users.write",
    "rules.read",
    "rules.write",
]
GUEST_SCOPES = {"public", "global", "sessions.write", "execution.write"}
USER_SCOPES = {
    "public",
    "global",
    "sessions.write",
    "account",
    "execution.read",
    "execution.write",
    "rules.read",
}
# A console account in the console project (Appwrite's ``console``): its own account, the
# instance's console variables.
CONSOLE_SCOPES = USER_SCOPES | {"projects.read"}
APP_EXTRA_SCOPES = {"public", "global", "health.read", "graphql"}
# A console account that administers the project (a member, or staff): every scope but
# ``account`` (as Appwrite's team owners and admins in admin mode).
ADMIN_SCOPES = set(SCOPES_ALL) | APP_EXTRA_SCOPES


@dataclass
class Caller:
    project: Project | None
    role: str  # guests | users | apps | admin
    scopes: set = field(default_factory=set)
    user: ProjectUser | None = None  # a user of the project (role ``users``)
    account: object = None  # a console account (Django user): the console project, or admin
    key: ApiKey | None = None
    session: Session | None = None  # the session the caller signed in with, if any
    cause_execution: str = ""  # the execution whose dynamic key is calling
    cause_chain: str = ""  # and the event chain that execution belongs to

    @property
    def privileged(self):
        """Keys and console admins bypass execute permissions and see logs."""
        return self.role in ("apps", "admin")

    @property
    def user_id(self):
        """The project user's ID ("" for guests, keys and console accounts)."""
        return self.user.uid if self.user is not None else ""

    @property
    def end_user_id(self):
        """The user an execution runs for. Console accounts acting as the project's admins run
        functions as the project, with no user and no user JWT."""
        return self.user_id

    @property
    def email(self):
        person = self.user if self.user is not None else self.account
        return getattr(person, "email", "") or ""

    @property
    def role_label(self):
        return {"apps": "applications", "admin": "owner"}.get(self.role, self.role)


def guest(project):
    return Caller(project, "guests", set(GUEST_SCOPES))


def project_user_caller(project, user, session=None):
    return Caller(project, "users", set(USER_SCOPES), user=user, session=session)


def console_caller(account, session=None):
    """A console account in the console project."""
    return Caller(None, "users", set(CONSOLE_SCOPES), account=account, session=session)


def account_caller(project, account, session=None):
    """A console account on a project: its admin when it is a member (or a superuser, who may
    open every project), else a guest (console accounts are not the project's users)."""
    if project is None:
        return console_caller(account, session)
    if account.is_superuser or project.members.filter(pk=account.pk).exists():
        return admin_caller(project, account, session)
    return guest(project)


def admin_caller(project, account, session=None):
    """A console member (or support staff in the admin) acting as the project's owner."""
    return Caller(project, "admin", set(ADMIN_SCOPES), account=account, session=session)
