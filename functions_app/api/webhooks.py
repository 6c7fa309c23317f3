"""/v1/vcs/webhooks/{installationId}: push notifications from a git host (GitHub, GitLab and
Gitea formats), checked against the git connection's webhook secret."""

from ..services import vcs
from .base import AppwriteView, ok


class WebhookView(AppwriteView):
    """No project and no key: the installation ID names the connection, and the signature (or
    GitLab's token) proves the sender knows its secret. The raw body is what is signed."""

    scopes = {"POST": "public"}
    project_required = False

    def post(self, request, installation_id):
        return ok(vcs.receive_webhook(installation_id, request.headers, request.body))
