"""Git connections: secrets are set, never shown."""

from django import forms
from django.contrib import admin

from ..errors import AppwriteError
from ..models import Installation
from ..services import installations
from .common import ProjectLink

# -- git connections ------------------------------------------------------------------------

SECRET_FIELDS = (
    ("token", "HTTPS token"),
    ("ssh_key", "SSH private key"),
    ("webhook_secret", "Webhook secret"),
)


class InstallationForm(forms.ModelForm):
    """A git connection, checked and saved by ``services/installations.py``. Secrets are typed
    here and never shown back: empty keeps the stored one, "remove" deletes it."""

    new_token = forms.CharField(label="HTTPS token", required=False, widget=forms.PasswordInput)
    new_ssh_key = forms.CharField(label="SSH private key", required=False, widget=forms.Textarea)
    new_webhook_secret = forms.CharField(
        label="Webhook secret", required=False, widget=forms.PasswordInput
    )
    remove_token = forms.BooleanField(label="Remove the token", required=False)
    remove_ssh_key = forms.BooleanField(label="Remove the SSH key", required=False)
    remove_webhook_secret = forms.BooleanField(label="Remove the webhook secret", required=False)

    class Meta:
        model = Installation
        fields = ("project", "name", "provider", "base_url", "username", "ssh_known_hosts")

    def clean(self):
        cleaned = super().clean()
        try:
            installations.clean_name(cleaned.get("name"))
            installations.clean_base_url(cleaned.get("base_url"))
            installations.clean_ssh_key(cleaned.get("new_ssh_key"))
        except AppwriteError as error:
            raise forms.ValidationError(error.message) from None
        return cleaned

    def secrets(self, creating):
        """The secret fields to store: all on creation; on a change only those typed or removed."""
        found = {}
        for field, _ in SECRET_FIELDS:
            value = self.cleaned_data.get(f"new_{field}") or ""
            if self.cleaned_data.get(f"remove_{field}"):
                found[field] = ""
            elif value or creating:
                found[field] = value
        return found


@admin.register(Installation)
class InstallationAdmin(ProjectLink, admin.ModelAdmin):
    """Git connections; saves and deletes go through the service (secrets sealed; deleting
    unlinks the connection's functions)."""

    form = InstallationForm
    list_display = ("name", "base_url", "provider", "project_link", "credentials", "uid")
    list_filter = ("provider", "project")
    search_fields = ("name", "base_url", "uid", "project__id")
    readonly_fields = ("uid", "credentials", "webhook_url", "created_at", "updated_at")

    def get_fields(self, request, obj=None):
        secrets = ["new_token", "new_ssh_key", "new_webhook_secret"]
        if obj is not None:
            secrets += ["remove_token", "remove_ssh_key", "remove_webhook_secret"]
        return [
            "project", "name", "provider", "base_url", "username", "ssh_known_hosts", *secrets,
            *self.readonly_fields,
        ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        """A connection stays in its project."""
        return self.readonly_fields if obj is None else (*self.readonly_fields, "project")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        settings_ = {
            "name": data["name"],
            "base_url": data["base_url"],
            "provider": data["provider"],
            "username": data.get("username", ""),
            "ssh_known_hosts": data.get("ssh_known_hosts", ""),
        }
        if change:
            current = Installation.objects.get(pk=obj.pk)
            installations.update_installation(current, **settings_, **form.secrets(False))
        else:
            saved = installations.create_installation(
                data["project"], **settings_, **form.secrets(True)
            )
            obj.pk, obj.uid = saved.pk, saved.uid

    def delete_model(self, request, obj):
        installations.delete_installation(obj)

    def delete_queryset(self, request, queryset):
        for installation in queryset:
            installations.delete_installation(installation)

    @admin.display(description="credentials")
    def credentials(self, obj):
        held = [label for field, label in SECRET_FIELDS if getattr(obj, field)]
        return ", ".join(held) or "none"

    @admin.display(description="webhook URL")
    def webhook_url(self, obj):
        return installations.webhook_url(obj) if obj.pk else "–"
