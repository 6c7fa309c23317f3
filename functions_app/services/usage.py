"""Usage, computed from our own rows (Function, Deployment, Execution): nothing is counted on
the side, so a deleted row takes its usage with it.

Two readers share the periods and rows:

* the API's ``UsageFunctions`` / ``UsageFunction`` (``project_usage``, ``function_usage``):
  Appwrite 1.8's metrics per hour (``24h``) or day (``30d``, ``90d``), oldest first, each bucket
  dated at its truncated start (UTC), plus all-time totals. Summed in the database.
* the console's charts (``chart_usage``): executions and failures, p50/p95 duration and build
  time per hour (last 24 hours) or per day (last 30 days), for one function.

Metrics, as Appwrite's stats define them:

* ``functions``: functions, by creation time (project-wide only).
* ``deployments`` / ``deploymentsStorage``: deployments and their archives' bytes, by creation.
* ``builds``: finished builds (``ready`` or ``failed``; canceled ones are not builds), by the
  time they ended; ``buildsSuccess`` / ``buildsFailed`` split them; ``buildsStorage`` is their
  output's bytes; ``buildsTime`` the build duration in ms (whole seconds x 1000, as Appwrite
  counts it); ``buildsMbSeconds`` = memory MB x duration s x CPUs of the function's
  specification, truncated per build.
* ``executions``: executions that ran (``completed`` or ``failed``), by creation time;
  ``executionsTime`` = duration in ms, ``executionsMbSeconds`` = memory MB x duration s x CPUs
  of the function's specification, each truncated per execution.
"""

import math
from dataclasses import dataclass
from datetime import UTC, timedelta

from django.db.models import Case, Count, ExpressionWrapper, F, FloatField, Q, Sum, Value, When
from django.db.models.functions import Floor, Trunc
from django.utils import timezone

from ..models import Deployment, Execution, Function
from . import specifications

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Period:
    key: str
    step: timedelta
    count: int

    @property
    def unit(self):
        return "hour" if self.step == HOUR else "day"

    def start(self, now):
        """The first bucket's start: ``count - 1`` steps before the current hour or day."""
        if self.step == HOUR:
            now = now.replace(minute=0, second=0, microsecond=0)
        else:
            now = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return now - self.step * (self.count - 1)

    def dates(self, now):
        start = self.start(now)
        return [start + self.step * i for i in range(self.count)]


RANGES = {
    period.key: period
    for period in (Period("24h", HOUR, 24), Period("30d", DAY, 30), Period("90d", DAY, 90))
}
DEFAULT_RANGE = "30d"


@dataclass(frozen=True)
class Usage:
    """One response's numbers: ``totals`` by name (``executionsTotal``...) and ``series`` by
    name (``executions``...), each a list of ``(bucket start, value)``, oldest first."""

    range: str
    totals: dict
    series: dict


# -- the API's metrics ----------------------------------------------------------------------


def _spec_factor(field):
    """Memory MB x CPUs of the specification named in ``field`` (the default for unknown)."""
    default = specifications.BY_SLUG[specifications.DEFAULT_SLUG]
    return Case(
        *(
            When(**{field: spec.slug}, then=Value(spec.memory * spec.cpus))
            for spec in specifications.CATALOGUE
        ),
        default=Value(default.memory * default.cpus),
        output_field=FloatField(),
    )


def _mb_seconds(duration_field, spec_field):
    """Memory MB x duration s x CPUs, truncated (per row: the sum adds truncated values)."""
    product = ExpressionWrapper(F(duration_field) * _spec_factor(spec_field), FloatField())
    return Sum(Floor(product))


def _function_metrics():
    return {"functions": Count("pk")}


def _deployment_metrics():
    return {"deployments": Count("pk"), "deploymentsStorage": Sum("source_size")}


def _build_metrics(spec_field):
    ready, failed = Deployment.Status.READY, Deployment.Status.FAILED
    return {
        "builds": Count("pk"),
        "buildsSuccess": Count("pk", filter=Q(status=ready)),
        "buildsFailed": Count("pk", filter=Q(status=failed)),
        "buildsStorage": Sum("build_size"),
        "buildsTime": Sum(F("build_duration") * 1000),
        "buildsMbSeconds": _mb_seconds("build_duration", spec_field),
    }


def _execution_metrics(spec_field):
    return {
        "executions": Count("pk"),
        "executionsTime": Sum(Floor(F("duration") * 1000)),
        "executionsMbSeconds": _mb_seconds("duration", spec_field),
    }


def _measure(queryset, date_field, metrics, period, now, usage):
    """All-time totals (``<name>Total``) and the period's buckets of each metric, into ``usage``."""
    names = list(metrics)
    aliases = {f"m{i}": metrics[name] for i, name in enumerate(names)}
    totals = queryset.aggregate(**aliases)
    for i, name in enumerate(names):
        usage.totals[f"{name}Total"] = int(totals[f"m{i}"] or 0)
    dates = period.dates(now)
    index = {date: i for i, date in enumerate(dates)}
    buckets = {name: [0] * period.count for name in names}
    rows = (
        queryset.filter(**{f"{date_field}__gte": dates[0]})
        .annotate(bucket=Trunc(date_field, period.unit, tzinfo=UTC))
        .order_by()
        .values("bucket")
        .annotate(**aliases)
    )
    for row in rows:
        position = index.get(row["bucket"])
        if position is not None:
            for i, name in enumerate(names):
                buckets[name][position] = int(row[f"m{i}"] or 0)
    for name in names:
        usage.series[name] = list(zip(dates, buckets[name], strict=True))


def _builds(deployments):
    return deployments.filter(
        status__in=(Deployment.Status.READY, Deployment.Status.FAILED),
        build_ended_at__isnull=False,
    )


def _ran(executions):
    return executions.filter(status__in=(Execution.Status.COMPLETED, Execution.Status.FAILED))


def project_usage(project, range_key=DEFAULT_RANGE, now=None):
    """``GET /v1/functions/usage``: every function of ``project``."""
    period, now = RANGES[range_key], now or timezone.now()
    usage = Usage(range_key, {}, {})
    functions = Function.objects.filter(project=project)
    deployments = Deployment.objects.filter(project=project)
    executions = Execution.objects.filter(project=project)
    spec = "function__specification"
    _measure(functions, "created_at", _function_metrics(), period, now, usage)
    _measure(deployments, "created_at", _deployment_metrics(), period, now, usage)
    _measure(_builds(deployments), "build_ended_at", _build_metrics(spec), period, now, usage)
    _measure(_ran(executions), "created_at", _execution_metrics(spec), period, now, usage)
    return usage


def function_usage(function, range_key=DEFAULT_RANGE, now=None):
    """``GET /v1/functions/{functionId}/usage``: one function (no ``functions`` metric, and
    ``buildsTimeAverage`` = buildsTimeTotal / buildsTotal, truncated; 0 without builds)."""
    period, now = RANGES[range_key], now or timezone.now()
    usage = Usage(range_key, {}, {})
    deployments = Deployment.objects.filter(function=function)
    executions = Execution.objects.filter(function=function)
    spec = "function__specification"
    _measure(deployments, "created_at", _deployment_metrics(), period, now, usage)
    _measure(_builds(deployments), "build_ended_at", _build_metrics(spec), period, now, usage)
    _measure(_ran(executions), "created_at", _execution_metrics(spec), period, now, usage)
    builds = usage.totals["buildsTotal"]
    usage.totals["buildsTimeAverage"] = usage.totals["buildsTimeTotal"] // builds if builds else 0
    return usage


# -- the console's charts -------------------------------------------------------------------


@dataclass(frozen=True)
class ChartPeriod:
    key: str
    title: str
    period: Period
    label_format: str


CHART_PERIODS = [
    ChartPeriod("day", "Last 24 hours", RANGES["24h"], "%H:00"),
    ChartPeriod("month", "Last 30 days", RANGES["30d"], "%b %d"),
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


def chart_period_usage(function, chart, now):
    period = chart.period
    start = period.start(now)
    runs = group([(m, (s, d)) for m, s, d in execution_rows(function, start)], start, period)
    builds = group(list(build_rows(function, start)), start, period)
    durations = [[d for _, d in bucket] for bucket in runs]
    return {
        "key": chart.key,
        "title": chart.title,
        "labels": [date.strftime(chart.label_format) for date in period.dates(now)],
        "executions": [len(bucket) for bucket in runs],
        "failures": [sum(1 for s, _ in bucket if s == Execution.Status.FAILED) for bucket in runs],
        "p50": [round(percentile(d, 50), 3) for d in durations],
        "p95": [round(percentile(d, 95), 3) for d in durations],
        "builds": [round(sum(b) / len(b), 1) if b else 0 for b in builds],
        "totals": chart_totals(runs, builds),
    }


def chart_totals(runs, builds):
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


def chart_usage(function, now=None):
    """The console's Usage tab: one entry per chart period."""
    now = now or timezone.now()
    return [chart_period_usage(function, chart, now) for chart in CHART_PERIODS]
