"""/v1/health: Appwrite's Health API, for the checks this platform has (services/health.py):
one view per check, as each is its own SDK method."""

from dataclasses import replace

from ..services import documents, health
from . import params as p
from .base import AppwriteView, ok
from .declarations import PATH, Param, operation

THRESHOLD = Param("threshold", p.Integer(), default=5000)
# The SDK method of a queue's route, where it is not ``getQueue`` + the queue's name.
QUEUE_METHODS = {"stats-usage": "getQueueUsage"}
FAILS = (500,)  # a check that fails answers 500, as on Appwrite


class HealthView(AppwriteView):
    scopes = {"GET": "health.read"}

    @operation("get", "Get HTTP", returns={200: "healthStatus"})
    def get(self, request):
        return ok(health.status("http"))


class HealthDBView(HealthView):
    @operation("getDB", "Get DB", returns={200: "healthStatusList"}, errors=FAILS)
    def get(self, request):
        return ok(documents.listing("statuses", health.database()))


class HealthCacheView(HealthView):
    @operation(
        "getCache",
        "Get cache",
        returns={200: "healthStatusList"},
        description="This platform has no cache: the list is empty.",
    )
    def get(self, request):
        return ok(documents.listing("statuses", []))


class HealthPubSubView(HealthView):
    @operation(
        "getPubSub",
        "Get pubsub",
        returns={200: "healthStatusList"},
        description="This platform has no pubsub: the list is empty.",
    )
    def get(self, request):
        return ok(documents.listing("statuses", []))


class HealthTimeView(HealthView):
    @operation("getTime", "Get time", returns={200: "healthTime"}, errors=FAILS)
    def get(self, request):
        return ok(health.clock())


class HealthStorageView(HealthView):
    @operation("getStorage", "Get storage", returns={200: "healthStatus"}, errors=FAILS)
    def get(self, request):
        return ok(health.storage())


class HealthStorageLocalView(HealthView):
    @operation("getStorageLocal", "Get local storage", returns={200: "healthStatus"}, errors=FAILS)
    def get(self, request):
        return ok(health.storage())


class HealthAntivirusView(HealthView):
    @operation("getAntivirus", "Get antivirus", returns={200: "healthAntivirus"})
    def get(self, request):
        return ok(health.antivirus())


class HealthQueueView(HealthView):
    """One of Appwrite's queues (``as_view(queue=...)``): builds and executions are counted,
    the others are always empty."""

    queue = ""

    @operation("getQueue", "Get queue", THRESHOLD, returns={200: "healthQueue"}, errors=(503,))
    def get(self, request):
        threshold = self.params()["threshold"]
        return ok(health.check_threshold(health.queue_size(self.project, self.queue), threshold))

    def declaration(self, method):
        op = super().declaration(method)
        name = QUEUE_METHODS.get(self.queue) or "getQueue" + camel(self.queue)
        return replace(op, name=name, summary=f"Get {self.queue} queue")


def camel(name):
    return "".join(part.title() for part in name.split("-"))


class HealthDatabasesQueueView(HealthView):
    @operation(
        "getQueueDatabases",
        "Get databases queue",
        Param("name", p.Text(256), default="database_db_main"),
        THRESHOLD,
        returns={200: "healthQueue"},
        errors=(503,),
        description="This platform has no databases queue: its size is always 0.",
    )
    def get(self, request):
        return ok(health.check_threshold(0, self.params()["threshold"]))


class HealthFailedView(HealthView):
    @operation(
        "getFailedJobs",
        "Get number of failed queue jobs",
        Param("name", p.WhiteList(health.FAILED_QUEUES), required=True, location=PATH),
        THRESHOLD,
        returns={200: "healthQueue"},
        errors=(503,),
    )
    def get(self, request, name):
        threshold = self.params()["threshold"]
        return ok(health.check_threshold(health.failed_jobs(name), threshold, "failed jobs"))


class VersionView(AppwriteView):
    scopes = {"GET": "public"}
    project_required = False

    @operation("getVersion", "Get version", returns={200: "healthVersion"})
    def get(self, request):
        return ok(health.version())
