"""The nodes sharing this database, read-only: each writes its own heartbeat, and a node's
death is claimed by another node's maintenance (``services/nodes.py``)."""

from django.conf import settings
from django.contrib import admin
from django.utils import timezone

from ..models import Node


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ("id", "state", "started_at", "heartbeat_at", "down_at")
    readonly_fields = ("id", "state", "started_at", "heartbeat_at", "down_at")
    search_fields = ("id",)

    @admin.display(description="state")
    def state(self, obj):
        if obj.down_at:
            return "down (its work was failed or queued again)"
        silent = (timezone.now() - obj.heartbeat_at).total_seconds()
        return "silent" if silent > settings.NODE_HEARTBEAT_TIMEOUT else "alive"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
