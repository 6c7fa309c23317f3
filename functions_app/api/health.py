"""/v1/health: Appwrite's Health API, for the checks this platform has (services/health.py)."""

from ..services import documents, health
from . import params as p
from .base import AppwriteView, ok

DEFAULT_THRESHOLD = 5000


class HealthView(AppwriteView):
    scopes = {"GET": "health.read"}
    path_ids = False  # queue names, checked against their own list
    check = "http"

    def get(self, request, **kwargs):
        return ok(getattr(self, f"_{self.check}")(**kwargs))

    def _threshold(self):
        return p.get(self.params(), "threshold", p.Integer(), default=DEFAULT_THRESHOLD)

    def _http(self):
        return health.status("http")

    def _db(self):
        return documents.listing("statuses", health.database())

    def _empty_list(self):
        return documents.listing("statuses", [])

    def _storage(self):
        return health.storage()

    def _time(self):
        return health.clock()

    def _antivirus(self):
        return {"version": "", "status": "disabled"}

    def _queue(self, name):
        threshold = self._threshold()
        return health.check_threshold(health.queue_size(self.project, name), threshold)

    def _databases(self):
        p.get(self.params(), "name", p.Text(256), default="database_db_main")
        return health.check_threshold(0, self._threshold())

    def _failed(self, name):
        name = p.get({"name": name}, "name", p.WhiteList(health.FAILED_QUEUES))
        threshold = self._threshold()
        return health.check_threshold(health.failed_jobs(name), threshold, "failed jobs")


class VersionView(AppwriteView):
    scopes = {"GET": "public"}
    project_required = False

    def get(self, request):
        return ok({"version": health.VERSION})
