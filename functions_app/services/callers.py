"""Who is calling: the ``Caller`` that the API's one authentication path resolves (and the
console and admin build for their signed-in staff), and the scopes of each role."""

from dataclasses import dataclass, field

from ..models import ApiKey, Project

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

KEY_SCOPES = [
    "functions.read",
    "functions.write",
    "execution.read",
    "execution.write",
    "rules.read",
    "rules.write",
]
GUEST_SCOPES = {"public", "global", "execution.write"}
# Appwrite also gives signed-in users rules.read; not here: our users are the instance's
# accounts, not a project's own, so they would see every project's domains and function IDs.
USER_SCOPES = {"public", "global", "execution.read", "execution.write"}
APP_EXTRA_SCOPES = {"public", "global", "health.read", "graphql"}
ADMIN_SCOPES = set(KEY_SCOPES) | APP_EXTRA_SCOPES


@dataclass
class Caller:
    project: Project | None
    role: str  # guests | users | apps | admin
    scopes: set = field(default_factory=set)
    user: object = None
    key: ApiKey | None = None
    cause_execution: str = ""  # the execution whose dynamic key is calling
    cause_chain: str = ""  # and the event chain that execution belongs to

    @property
    def privileged(self):
        """Keys and console admins bypass execute permissions and see logs."""
        return self.role in ("apps", "admin")

    @property
    def user_id(self):
        return str(self.user.pk) if self.user is not None else ""

    @property
    def end_user_id(self):
        """The user an execution runs for: only a plain ``users`` caller. Console accounts acting
        as the project's admins run functions as the project, with no user and no user JWT."""
        return self.user_id if self.role == "users" else ""

    @property
    def role_label(self):
        return {"apps": "applications", "admin": "owner"}.get(self.role, self.role)


def user_caller(project, user):
    if project is not None and project.members.filter(pk=user.pk).exists():
        return Caller(project, "admin", set(ADMIN_SCOPES), user=user)
    return Caller(project, "users", set(USER_SCOPES), user=user)


def admin_caller(project, user):
    """A console member (or support staff in the admin) acting as the project's owner."""
    return Caller(project, "admin", set(ADMIN_SCOPES), user=user)
