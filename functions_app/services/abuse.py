"""Appwrite-style abuse limits: utopia-php/abuse's ``TimeLimit`` (fixed windows aligned to
multiples of the period; a request is refused when its window already holds the limit, and
refused requests are not counted), kept in the database so that every web process shares the
counts. ``createExecution`` is limited per IP + user per function for callers without a key
(Appwrite 1.8 has no limit there; this follows the shape of its other routes' limits)."""

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone

from ..models import RateWindow


@dataclass(frozen=True)
class Quota:
    limit: int
    remaining: int
    reset: int  # unix seconds: the end of the window
    exceeded: bool

    def headers(self):
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


def hit(key, limit, period, now=None):
    """Count one request under ``key`` in the current window of ``period`` seconds."""
    now = time.time() if now is None else now
    start = int(now // period * period)
    reset = start + period
    counted, count = RateWindow.hit(key, start, datetime.fromtimestamp(reset, UTC), limit)
    return Quota(limit, max(0, limit - count), reset, not counted)


def execution_quota(caller, function_id, client_ip):
    """The createExecution quota of a caller without a key; None when not limited."""
    limit = settings.FUNCTIONS_EXECUTION_ABUSE_LIMIT
    if caller.privileged or not limit:
        return None
    ip = client_ip[:64]
    key = f"createExecution:{caller.project.pk}:{function_id}:ip:{ip}:user:{caller.user_id}"
    return hit(key, limit, settings.FUNCTIONS_EXECUTION_ABUSE_PERIOD)


def prune(now=None):
    """Maintenance: drop windows that have ended."""
    return RateWindow.objects.filter(expires_at__lt=now or timezone.now()).delete()[0]


# Appwrite 1.8's limits on the account routes: (requests, window in seconds).
ACCOUNT_LIMITS = {
    "createAccount": (10, 3600),  # per IP
    "createEmailPasswordSession": (10, 3600),  # per email
    "deleteSession": (100, 3600),  # per IP
    "createJWT": (100, 3600),  # per user
}


def account_quota(caller, route, subject):
    """The quota of one account route for ``subject`` (an IP, an email or a user ID); None for
    keys and admins, or when ``ACCOUNT_ABUSE_LIMITS`` is off."""
    if caller.privileged or not settings.ACCOUNT_ABUSE_LIMITS:
        return None
    limit, period = ACCOUNT_LIMITS[route]
    return hit(f"{route}:{subject[:320]}", limit, period)
