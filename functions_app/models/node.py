"""The nodes sharing this database: each node's worker cluster (``manage.py node``) records a
heartbeat every ``NODE_HEARTBEAT_INTERVAL`` seconds. A node silent for longer than
``NODE_HEARTBEAT_TIMEOUT`` is dead: the first other node whose maintenance notices it claims
its death (a conditional update only one can win) and queues its waiting work again; every
node's maintenance fails the dead node's builds and executions in flight."""

from datetime import timedelta

from django.db import models
from django.utils import timezone


class Node(models.Model):
    id = models.CharField(primary_key=True, max_length=63)
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()
    down_at = models.DateTimeField(null=True, blank=True)  # when another node found it dead

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.id

    @classmethod
    def beat(cls, node_id, started=False):
        """This node is alive (again): its heartbeat now, no longer down."""
        now = timezone.now()
        fields = {"heartbeat_at": now, "down_at": None} | ({"started_at": now} if started else {})
        if not cls.objects.filter(pk=node_id).update(**fields):
            cls.objects.get_or_create(pk=node_id, defaults={"started_at": now, **fields})

    @classmethod
    def silent(cls, timeout, now=None):
        """IDs of the nodes whose last heartbeat is older than ``timeout`` seconds."""
        since = (now or timezone.now()) - timedelta(seconds=timeout)
        return set(cls.objects.filter(heartbeat_at__lt=since).values_list("pk", flat=True))

    @classmethod
    def claim_death(cls, node_id, timeout, now=None):
        """Mark a silent node down; True for the one caller that did it (None still silent)."""
        now = now or timezone.now()
        since = now - timedelta(seconds=timeout)
        return bool(
            cls.objects.filter(pk=node_id, heartbeat_at__lt=since, down_at__isnull=True).update(
                down_at=now
            )
        )
