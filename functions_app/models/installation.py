from django.db import models

from .timestamps import Timestamped


class InstallationProvider(models.TextChoices):
    """Which kind of git host: it decides the web links of commits and branches, the default
    HTTPS user name for a token, and nothing else (webhooks are recognised by their headers)."""

    GITHUB = "github", "GitHub"
    GITLAB = "gitlab", "GitLab"
    GITEA = "gitea", "Gitea / Forgejo"
    GIT = "git", "Other git host"


class Installation(Timestamped):
    """A git connection of a project, Appwrite's "installation": a git host (``base_url``:
    ``https://…``, ``ssh://…`` or ``file:///…``) whose repositories ``owner/name`` live at
    ``<base_url>/owner/name.git`` (or without ``.git``), with optional credentials and the
    secret its push webhooks are signed with. ``token``, ``ssh_key`` and ``webhook_secret``
    hold sealed values (``services/secrets.py``), never the secrets themselves."""

    Provider = InstallationProvider

    project = models.ForeignKey(
        "functions_app.Project", on_delete=models.CASCADE, related_name="installations"
    )
    # Unique on the whole instance: the webhook URL names the installation without a project.
    uid = models.CharField(max_length=36, unique=True)
    name = models.CharField(max_length=128)
    provider = models.CharField(max_length=16, choices=Provider, default=Provider.GIT)
    base_url = models.CharField(max_length=1024)
    username = models.CharField(max_length=128, blank=True, default="")
    token = models.TextField(blank=True, default="")
    ssh_key = models.TextField(blank=True, default="")
    ssh_known_hosts = models.TextField(blank=True, default="")
    webhook_secret = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.name} ({self.base_url})"

    @property
    def has_token(self):
        return bool(self.token)

    @property
    def has_ssh_key(self):
        return bool(self.ssh_key)

    @property
    def has_webhook_secret(self):
        return bool(self.webhook_secret)

    def configure(self, name, provider, base_url, username, ssh_known_hosts):
        """The connection's public settings (checked by the service)."""
        self.name, self.provider, self.base_url = name, provider, base_url
        self.username, self.ssh_known_hosts = username, ssh_known_hosts
        self.save(update_fields=["name", "provider", "base_url", "username", "ssh_known_hosts"])

    def store_secrets(self, **sealed):
        """Replace some of ``token``, ``ssh_key``, ``webhook_secret`` with sealed values (""
        removes one)."""
        allowed = {"token", "ssh_key", "webhook_secret"}
        if set(sealed) - allowed:
            raise ValueError(f"Not a secret field: {sorted(set(sealed) - allowed)}")
        for field, value in sealed.items():
            setattr(self, field, value)
        if sealed:
            self.save(update_fields=list(sealed))
