"""Call this platform's API with the execution's own API key: list the project's functions."""

import json
import os
import urllib.error
import urllib.request


def main(context):
    key = context.req.headers.get("x-appwrite-key", "")
    if not key:
        return context.res.json(
            {"error": "No API key: run this function through the platform."}, 500
        )
    endpoint = os.environ["APPWRITE_FUNCTION_API_ENDPOINT"].rstrip("/")
    request = urllib.request.Request(
        f"{endpoint}/functions",
        headers={
            "x-appwrite-project": os.environ["APPWRITE_FUNCTION_PROJECT_ID"],
            "x-appwrite-key": key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            listing = json.load(response)
    except urllib.error.HTTPError as error:
        detail = json.loads(error.read() or b"{}")
        context.error(f"the API answered {error.code}: {detail.get('message', '')}")
        return context.res.json({"error": detail.get("message", str(error))}, 502)

    functions = [
        {"id": fn["$id"], "name": fn["name"], "runtime": fn["runtime"]}
        for fn in listing["functions"]
    ]
    context.log(f"the project has {listing['total']} functions")
    return context.res.json({"total": listing["total"], "functions": functions})
