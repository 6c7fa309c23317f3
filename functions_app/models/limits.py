"""Fair-use counters shared by every process through the database: the event budget of each
chain of event-triggered executions, and the fixed windows of abuse limits. Both are claimed
with conditional updates, so concurrent web and worker processes can never overspend them."""

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone


class EventChain(models.Model):
    """What is left of one originating action's budget of event-triggered executions."""

    uid = models.CharField(max_length=36, unique=True)
    remaining = models.PositiveIntegerField()
    exhausted_noticed = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return self.uid

    @classmethod
    def claim(cls, uid, budget):
        """Take one execution from the chain (which starts with ``budget`` when first seen)."""
        now = timezone.now()
        chain = cls.objects.filter(uid=uid)
        if chain.filter(remaining__gt=0).update(remaining=F("remaining") - 1, updated_at=now):
            return True
        if budget < 1 or chain.exists():
            return False
        try:
            with transaction.atomic():
                cls.objects.create(uid=uid, remaining=budget - 1, updated_at=now)
        except IntegrityError:  # another process started the chain meanwhile
            return cls.claim(uid, budget)
        return True

    @classmethod
    def notice_exhausted(cls, uid):
        """True once per chain: whoever first finds it exhausted says so."""
        return bool(
            cls.objects.filter(uid=uid, exhausted_noticed=False).update(exhausted_noticed=True)
        )


class RateWindow(models.Model):
    """Requests counted under one abuse key in one fixed window (``start`` in unix seconds)."""

    key = models.CharField(max_length=255)
    start = models.PositiveBigIntegerField()
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "start"], name="rate_window_key")]

    def __str__(self):
        return f"{self.key}@{self.start}"

    @classmethod
    def hit(cls, key, start, expires_at, limit):
        """Count one request unless the window already holds ``limit``; returns
        ``(counted, count)``. Refused requests are not counted (as upstream)."""
        window = cls.objects.filter(key=key, start=start)
        if window.filter(count__lt=limit).update(count=F("count") + 1):
            return True, window.values_list("count", flat=True).first() or limit
        if limit < 1 or window.exists():
            return False, limit
        try:
            with transaction.atomic():
                cls.objects.create(key=key, start=start, count=1, expires_at=expires_at)
        except IntegrityError:  # another process opened the window meanwhile
            return cls.hit(key, start, expires_at, limit)
        return True, 1
