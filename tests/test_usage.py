"""/v1/functions/usage and /v1/functions/{functionId}/usage. Python SDK 16 has neither method
nor model (they are console-only), so the replies are checked over raw HTTP against pydantic
models written from Appwrite 1.8's UsageFunctions / UsageFunction / Metric, field order
included, with rows created at known times."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr

from functions_app.models import ApiKey, Deployment, Execution, Function

from .conftest import Raw
from .helpers import expect_raw_error


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Metric(Strict):
    value: StrictInt
    date: StrictStr


USAGE_FUNCTIONS_FIELDS = [
    "range",
    "functionsTotal",
    "deploymentsTotal",
    "deploymentsStorageTotal",
    "buildsTotal",
    "buildsStorageTotal",
    "buildsTimeTotal",
    "buildsMbSecondsTotal",
    "executionsTotal",
    "executionsTimeTotal",
    "executionsMbSecondsTotal",
    "functions",
    "deployments",
    "deploymentsStorage",
    "buildsSuccessTotal",
    "buildsFailedTotal",
    "builds",
    "buildsStorage",
    "buildsTime",
    "buildsMbSeconds",
    "executions",
    "executionsTime",
    "executionsMbSeconds",
    "buildsSuccess",
    "buildsFailed",
]
USAGE_FUNCTION_FIELDS = [
    "range",
    "deploymentsTotal",
    "deploymentsStorageTotal",
    "buildsTotal",
    "buildsSuccessTotal",
    "buildsFailedTotal",
    "buildsStorageTotal",
    "buildsTimeTotal",
    "buildsTimeAverage",
    "buildsMbSecondsTotal",
    "executionsTotal",
    "executionsTimeTotal",
    "executionsMbSecondsTotal",
    "deployments",
    "deploymentsStorage",
    "builds",
    "buildsStorage",
    "buildsTime",
    "buildsMbSeconds",
    "executions",
    "executionsTime",
    "executionsMbSeconds",
    "buildsSuccess",
    "buildsFailed",
]


def model(name, fields):
    """A strict pydantic model: ``range`` a string, ``*Total``/``*Average`` ints, the rest
    lists of Metric."""
    annotations = {
        field: StrictStr
        if field == "range"
        else StrictInt
        if field.endswith(("Total", "Average"))
        else list[Metric]
        for field in fields
    }
    return type(name, (Strict,), {"__annotations__": annotations})


UsageFunctions = model("UsageFunctions", USAGE_FUNCTIONS_FIELDS)
UsageFunction = model("UsageFunction", USAGE_FUNCTION_FIELDS)
SERIES = [f for f in USAGE_FUNCTIONS_FIELDS if f != "range" and not f.endswith("Total")]
LENGTHS = {"24h": 24, "30d": 30, "90d": 90}


def get_usage(raw, path, range_=None, model_=UsageFunctions):
    response = raw.get(path, params={"range": range_} if range_ else None)
    assert response.status_code == 200, response.text
    body = response.json()
    model_.model_validate(body)
    assert list(body) == list(model_.model_fields)
    return body


def bucket(moment, unit):
    """Appwrite's bucket date for a moment: the hour or day it falls in."""
    if unit == "hour":
        moment = moment.replace(minute=0, second=0, microsecond=0)
    else:
        moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+00:00")


def value_at(series, moment, unit):
    """The value of the bucket ``moment`` falls in (0 for a missing bucket)."""
    found = [point["value"] for point in series if point["date"] == bucket(moment, unit)]
    assert len(found) <= 1
    return found[0] if found else 0


def nonzero(series):
    return {point["date"]: point["value"] for point in series if point["value"]}


def add_execution(function, uid, when, status="completed", duration=1.5):
    return Execution.objects.create(
        project_id=function.project_id,
        function=function,
        uid=uid,
        status=status,
        duration=duration,
        created_at=when,
    )


def add_deployment(function, uid, when, status="ready", built=None, seconds=0, size=0, out=0):
    return Deployment.objects.create(
        project_id=function.project_id,
        function=function,
        uid=uid,
        status=status,
        created_at=when,
        source_size=size,
        build_size=out,
        build_duration=seconds,
        build_started_at=built - timedelta(seconds=seconds) if built else None,
        build_ended_at=built,
    )


@pytest.fixture
def now():
    return datetime.now(UTC)


@pytest.fixture
def rows(functions, project, now):
    """Two functions (s-1vcpu-512mb: 512 MB x 1 CPU; s-0.5vcpu-512mb: 512 x 0.5) and rows at
    known times: in the last hours, days ago, 40 days ago (90d only), 200 days ago (totals only)."""
    functions.create("alpha", "Alpha", "python-3.11")
    functions.create("beta", "Beta", "python-3.11", specification="s-0.5vcpu-512mb")
    alpha, beta = (Function.objects.get(project=project, uid=uid) for uid in ("alpha", "beta"))
    hours, days = (lambda n: now - timedelta(hours=n)), (lambda n: now - timedelta(days=n))
    add_execution(alpha, "a1", now, duration=1.5)  # 1500 ms, 768 MB s
    add_execution(alpha, "a2", hours(3), "failed", duration=0.2509)  # 250 ms, 128 MB s
    add_execution(alpha, "a3", days(2), duration=2.0)  # 2000 ms, 1024 MB s
    add_execution(alpha, "a4", days(40), duration=1.0)  # 90d only
    add_execution(alpha, "a5", days(200), duration=1.0)  # totals only
    add_execution(alpha, "a6", now, "waiting", duration=0)  # has not run: not counted
    add_execution(alpha, "a7", now, "scheduled", duration=0)  # neither
    add_execution(beta, "b1", hours(3), duration=3.0)  # 3000 ms, 768 MB s
    add_deployment(alpha, "d1", hours(5), "ready", hours(2), seconds=12, size=1000, out=5000)
    add_deployment(alpha, "d2", days(1), "failed", days(1), seconds=3, size=300)
    add_deployment(alpha, "d3", now, "canceled", now, seconds=1, size=10)  # no build
    add_deployment(alpha, "d4", now, "building", None, size=20)  # not finished
    add_deployment(beta, "d5", days(60), "ready", days(60), seconds=5, size=7, out=70)
    return alpha, beta


def test_project_usage_model_buckets_and_totals(raw, rows, now):
    usage = get_usage(raw, "/functions/usage")  # default: 30d
    assert usage["range"] == "30d"
    for name in SERIES:
        assert len(usage[name]) == 30
        dates = [point["date"] for point in usage[name]]
        assert dates == sorted(dates) and dates[-1] == bucket(now, "day")  # oldest first
        assert all(date.endswith("T00:00:00.000+00:00") for date in dates)
    totals = {name: usage[name] for name in USAGE_FUNCTIONS_FIELDS if name.endswith("Total")}
    assert totals == {
        "functionsTotal": 2,
        "deploymentsTotal": 5,
        "deploymentsStorageTotal": 1337,
        "buildsTotal": 3,  # d1, d2, d5
        "buildsStorageTotal": 5070,
        "buildsTimeTotal": 20000,
        "buildsMbSecondsTotal": 12 * 512 + 3 * 512 + int(5 * 256),
        "executionsTotal": 6,  # a1-a5, b1
        "executionsTimeTotal": 1500 + 250 + 2000 + 1000 + 1000 + 3000,
        "executionsMbSecondsTotal": 768 + 128 + 1024 + 512 + 512 + 768,
        "buildsSuccessTotal": 2,
        "buildsFailedTotal": 1,
    }
    expected = Counter()  # a1 now, a2 and b1 3 hours ago, a3 2 days ago
    for moment, count in ((now, 1), (now - timedelta(hours=3), 2), (now - timedelta(days=2), 1)):
        expected[bucket(moment, "day")] += count
    assert nonzero(usage["executions"]) == expected
    assert sum(p["value"] for p in usage["executionsTime"]) == 1500 + 250 + 2000 + 3000
    assert sum(p["value"] for p in usage["executionsMbSeconds"]) == 768 + 128 + 1024 + 768
    assert sum(p["value"] for p in usage["functions"]) == 2
    assert value_at(usage["functions"], now, "day") == 2
    assert sum(p["value"] for p in usage["deployments"]) == 4  # d5 is 60 days old
    assert sum(p["value"] for p in usage["deploymentsStorage"]) == 1330
    assert nonzero(usage["builds"]) == Counter(
        [bucket(now - timedelta(hours=2), "day"), bucket(now - timedelta(days=1), "day")]
    )
    assert nonzero(usage["buildsFailed"]) == {bucket(now - timedelta(days=1), "day"): 1}
    assert sum(p["value"] for p in usage["builds"]) == 2
    assert sum(p["value"] for p in usage["buildsSuccess"]) == 1
    assert sum(p["value"] for p in usage["buildsFailed"]) == 1
    assert sum(p["value"] for p in usage["buildsStorage"]) == 5000
    assert sum(p["value"] for p in usage["buildsTime"]) == 15000
    assert sum(p["value"] for p in usage["buildsMbSeconds"]) == 15 * 512


def test_ranges_have_their_lengths_and_units(raw, rows, now):
    hourly = get_usage(raw, "/functions/usage", "24h")
    assert hourly["range"] == "24h"
    for name in SERIES:
        dates = [point["date"] for point in hourly[name]]
        assert len(dates) == 24 and dates == sorted(dates)
        assert all(date.endswith(":00:00.000+00:00") for date in dates)
    last = datetime.fromisoformat(hourly["executions"][-1]["date"])
    assert now - timedelta(hours=1) < last <= now  # the current hour
    assert value_at(hourly["executions"], now - timedelta(hours=3), "hour") == 2  # a2, b1
    assert value_at(hourly["executionsTime"], now - timedelta(hours=3), "hour") == 3250
    assert value_at(hourly["buildsTime"], now - timedelta(hours=2), "hour") == 12000
    assert sum(p["value"] for p in hourly["executions"]) == 3  # a1, a2, b1
    assert hourly["executionsTotal"] == 6  # all time, whatever the range
    quarterly = get_usage(raw, "/functions/usage", "90d")
    assert all(len(quarterly[name]) == 90 for name in SERIES)
    assert sum(p["value"] for p in quarterly["executions"]) == 5  # and a4, 40 days ago
    assert value_at(quarterly["builds"], now - timedelta(days=60), "day") == 1  # d5
    assert quarterly["executionsTotal"] == 6


def test_function_usage(raw, rows, now):
    usage = get_usage(raw, "/functions/alpha/usage", "30d", UsageFunction)
    assert "functions" not in usage and "functionsTotal" not in usage
    assert (usage["range"], usage["executionsTotal"], usage["deploymentsTotal"]) == ("30d", 5, 4)
    assert (usage["buildsTotal"], usage["buildsSuccessTotal"], usage["buildsFailedTotal"]) == (
        2,
        1,
        1,
    )
    assert (usage["buildsTimeTotal"], usage["buildsTimeAverage"]) == (15000, 7500)
    assert usage["executionsMbSecondsTotal"] == 768 + 128 + 1024 + 512 + 512
    assert sum(p["value"] for p in usage["executions"]) == 3
    beta = get_usage(raw, "/functions/beta/usage", "24h", UsageFunction)
    assert (beta["executionsTotal"], beta["executionsMbSecondsTotal"]) == (1, 768)
    assert (beta["buildsTotal"], beta["buildsTimeAverage"], beta["buildsMbSecondsTotal"]) == (
        1,
        5000,
        1280,
    )
    assert all(len(beta[name]) == 24 for name in SERIES if name in beta)


def test_empty_usage_is_all_zero_points(raw, functions):
    functions.create("idle", "Idle", "python-3.11")
    usage = get_usage(raw, "/functions/idle/usage", "24h", UsageFunction)
    assert usage["buildsTimeAverage"] == 0 and usage["executionsTotal"] == 0
    assert all(p["value"] == 0 for name in SERIES if name in usage for p in usage[name])


def test_usage_is_routed_before_a_function_called_usage(raw, functions):
    functions.create("usage", "Named usage", "python-3.11")
    assert get_usage(raw, "/functions/usage")["functionsTotal"] == 1
    assert get_usage(raw, "/functions/usage/usage", model_=UsageFunction)["range"] == "30d"
    updated = raw.put("/functions/usage", json={"name": "Renamed", "runtime": "python-3.11"})
    assert updated.status_code == 200 and updated.json()["name"] == "Renamed"
    assert raw.delete("/functions/usage").status_code == 204  # the function called "usage"
    assert get_usage(raw, "/functions/usage")["functionsTotal"] == 0


@pytest.mark.parametrize("value", ["7d", "24H", "", "1y", "30"])
def test_a_bad_range_is_refused(raw, functions, value):
    functions.create("fn", "Fn", "python-3.11")
    message = "Invalid `range` param: Value must be one of (24h, 30d, 90d)"
    for path in ("/functions/usage", "/functions/fn/usage", "/functions/missing/usage"):
        response = raw.get(path, params={"range": value})
        expect_raw_error(response, 400, "general_argument_invalid", message)


def test_other_projects_are_invisible(raw, rows, outsider_functions, live_server):
    outsider_functions.create("theirs", "Theirs", "python-3.11")
    theirs = Function.objects.get(uid="theirs")
    add_execution(theirs, "t1", datetime.now(UTC))
    for path in ("/functions/theirs/usage", "/functions/missing/usage", "/functions/-bad/usage"):
        response = raw.get(path)
        if path.endswith("-bad/usage"):
            expect_raw_error(response, 400, "general_argument_invalid")
        else:
            expect_raw_error(response, 404, "function_not_found")
    ours = get_usage(raw, "/functions/usage")
    assert (ours["functionsTotal"], ours["executionsTotal"]) == (2, 6)


def test_scope_functions_read_is_required(live_server, project, rows):
    secret = ApiKey.issue(project, "No functions.read", ["execution.read", "rules.read"])[1]
    limited = Raw(live_server.url, project.id, secret)
    for path in ("/functions/usage", "/functions/alpha/usage"):
        expect_raw_error(
            limited.get(path),
            401,
            "general_unauthorized_scope",
            'User (role: applications) missing scopes (["functions.read"])',
        )
    guest = Raw(live_server.url, project.id, "")
    guest.headers.pop("X-Appwrite-Key")
    expect_raw_error(guest.get("/functions/usage"), 401, "general_unauthorized_scope")
