"""Delete the project's finished executions older than RETENTION_DAYS, through this API, with
the execution's own API key (x-appwrite-key: the function's scopes, for its timeout)."""

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta

PAGE = 100
FINISHED = ("completed", "failed")


class Api:
    def __init__(self, key):
        self.endpoint = os.environ["APPWRITE_FUNCTION_API_ENDPOINT"].rstrip("/")
        self.headers = {
            "x-appwrite-project": os.environ["APPWRITE_FUNCTION_PROJECT_ID"],
            "x-appwrite-key": key,
            "content-type": "application/json",
        }

    def call(self, method, path, queries=()):
        query = urllib.parse.urlencode([("queries[]", json.dumps(q)) for q in queries])
        url = f"{self.endpoint}{path}" + (f"?{query}" if query else "")
        request = urllib.request.Request(url, method=method, headers=self.headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None


def function_ids(api):
    wanted = [
        item.strip() for item in os.environ.get("FUNCTION_IDS", "").split(",") if item.strip()
    ]
    if wanted:
        return wanted
    found, offset = [], 0
    while True:
        page = api.call(
            "GET",
            "/functions",
            [{"method": "limit", "values": [PAGE]}, {"method": "offset", "values": [offset]}],
        )
        found += [function["$id"] for function in page["functions"]]
        offset += PAGE
        if offset >= page["total"] or not page["functions"]:
            return found


def old_executions(api, function_id, before):
    queries = [
        {"method": "lessThan", "attribute": "$createdAt", "values": [before]},
        {"method": "limit", "values": [PAGE]},
    ]
    return api.call("GET", f"/functions/{function_id}/executions", queries)["executions"]


def main(context):
    key = context.req.headers.get("x-appwrite-key", "")
    if not key:
        return context.res.json(
            {"error": "No API key: run this function through the platform."}, 500
        )
    api = Api(key)
    days = int(os.environ.get("RETENTION_DAYS") or 14)
    dry_run = os.environ.get("DRY_RUN", "false").lower() in ("1", "true", "yes")
    before = (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
    report = {
        "before": before,
        "dryRun": dry_run,
        "functions": 0,
        "found": 0,
        "deleted": 0,
        "skipped": 0,
    }

    for function_id in function_ids(api):
        report["functions"] += 1
        seen = set()
        while True:
            batch = [e for e in old_executions(api, function_id, before) if e["$id"] not in seen]
            if not batch:
                break
            for execution in batch:
                seen.add(execution["$id"])
                report["found"] += 1
                if dry_run or execution["status"] not in FINISHED:
                    report["skipped"] += 1
                    continue
                try:
                    api.call("DELETE", f"/functions/{function_id}/executions/{execution['$id']}")
                    report["deleted"] += 1
                except urllib.error.HTTPError as error:
                    context.error(f"could not delete {execution['$id']}: {error.code}")
                    report["skipped"] += 1
    context.log(json.dumps(report))
    return context.res.json(report)
