"""``manage.py node``: this node's worker cluster (what ``manage.py qcluster`` starts) plus
what only this node may do: its heartbeat, the cron ticker, and the maintenance of its own
Docker engine (``services/maintenance.py``). ``bin/run`` starts it."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django_q.cluster import Cluster

from functions_app.services import maintenance


class Command(BaseCommand):
    help = "Run this node's worker cluster, heartbeat, cron ticker and maintenance."

    def handle(self, *args, **options):
        settings.SECRET_KEY  # noqa: B018 (the cluster signs tasks with it: fail early)
        cluster = Cluster()
        cluster.start()  # forks the sentinel (and it the workers) before any thread starts
        maintenance.serve(lambda: cluster.sentinel is not None and cluster.sentinel.is_alive())
