"""/v1/vcs/webhooks/{installationId}: push notifications from a git host (GitHub, GitLab and
Gitea formats), checked against the git connection's webhook secret."""

from ..services import vcs
from .base import AppwriteView, ok
from .declarations import operation


class WebhookView(AppwriteView):
    """No project and no key: the installation ID names the connection, and the signature (or
    GitLab's token) proves the sender knows its secret. The raw body is what is signed."""

    scopes = {"POST": "public"}
    project_required = False

    @operation(
        "createPushEvent",
        "Receive a push webhook",
        returns={200: "vcsWebhook"},
        description=(
            "Called by a git host, not by an SDK: the body is the host's own push notification "
            "(JSON, or GitHub's form-encoded `payload`), its kind told by `X-GitHub-Event`, "
            "`X-Gitlab-Event` or `X-Gitea-Event` (`400` without one) and checked against the "
            "git connection's webhook secret (`X-Hub-Signature-256`, `X-Gitea-Signature`, "
            "`X-Gitlab-Token`; `401` when missing or wrong). A branch push deploys and "
            "activates the commit for every function linked to that repository and branch; "
            "other events are answered and ignored."
        ),
    )
    def post(self, request, installation_id):
        return ok(vcs.receive_webhook(installation_id, request.headers, request.body))
