"""Usage of one function, aggregated from its Execution and Deployment rows: executions and
failures, p50/p95 duration and build times per hour (last 24 hours) or per day (last 30 days)."""

import math
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from ..models import Deployment, Execution


@dataclass(frozen=True)
class Period:
    key: str
    title: str
    step: timedelta
    count: int
    label_format: str

    def start(self, now):
        if self.step == timedelta(hours=1):
            now = now.replace(minute=0, second=0, microsecond=0)
        else:
            now = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return now - self.step * (self.count - 1)


PERIODS = [
    Period("day", "Last 24 hours", timedelta(hours=1), 24, "%H:00"),
    Period("month", "Last 30 days", timedelta(days=1), 30, "%b %d"),
]


def percentile(values, q):
    """Nearest-rank percentile (0 when there are no values)."""
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def group(rows, start, period):
    """``[(moment, value), ...]`` into one list of values per bucket."""
    groups = [[] for _ in range(period.count)]
    for moment, value in rows:
        index = int((moment - start) / period.step)
        if 0 <= index < period.count:
            groups[index].append(value)
    return groups


def execution_rows(function, start):
    return Execution.objects.filter(function=function, created_at__gte=start).values_list(
        "created_at", "status", "duration"
    )


def build_rows(function, start):
    return (
        Deployment.objects.filter(function=function, build_ended_at__gte=start)
        .filter(status__in=(Deployment.Status.READY, Deployment.Status.FAILED))
        .values_list("build_ended_at", "build_duration")
    )


def period_usage(function, period, now):
    start = period.start(now)
    runs = group([(m, (s, d)) for m, s, d in execution_rows(function, start)], start, period)
    builds = group(list(build_rows(function, start)), start, period)
    durations = [[d for _, d in bucket] for bucket in runs]
    return {
        "key": period.key,
        "title": period.title,
        "labels": [
            (start + period.step * i).strftime(period.label_format) for i in range(period.count)
        ],
        "executions": [len(bucket) for bucket in runs],
        "failures": [sum(1 for s, _ in bucket if s == Execution.Status.FAILED) for bucket in runs],
        "p50": [round(percentile(d, 50), 3) for d in durations],
        "p95": [round(percentile(d, 95), 3) for d in durations],
        "builds": [round(sum(b) / len(b), 1) if b else 0 for b in builds],
        "totals": totals(runs, builds),
    }


def totals(runs, builds):
    flat = [item for bucket in runs for item in bucket]
    durations = [d for _, d in flat]
    build_times = [b for bucket in builds for b in bucket]
    return {
        "executions": len(flat),
        "failures": sum(1 for s, _ in flat if s == Execution.Status.FAILED),
        "p50": round(percentile(durations, 50), 3),
        "p95": round(percentile(durations, 95), 3),
        "builds": len(build_times),
        "build_average": round(sum(build_times) / len(build_times), 1) if build_times else 0,
    }


def usage(function, now=None):
    now = now or timezone.now()
    return [period_usage(function, period, now) for period in PERIODS]
