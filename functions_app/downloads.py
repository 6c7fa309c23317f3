"""Deployment file downloads, shared by the API and the console: whole files, or one byte
range of at most 10 MiB (as Appwrite's chunked downloads)."""

import re

from django.http import FileResponse, HttpResponse

from .errors import AppwriteError

DOWNLOAD_RANGE = re.compile(r"(\w+)=([0-9]{1,18})-([0-9]{0,18})")
MAX_RANGE = 10 * 1024 * 1024


def file_response(request, download):
    """The file of a ``deployments.Download``, whole or the asked ``Range`` of it."""
    path = download.path
    size = path.stat().st_size
    header = request.headers.get("Range")
    if header:
        start, end = parse_range(header, size)
        with open(path, "rb") as f:
            f.seek(start)
            response = HttpResponse(
                f.read(end - start + 1), status=206, content_type="application/gzip"
            )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Accept-Ranges"] = "bytes"
    else:
        response = FileResponse(open(path, "rb"), content_type="application/gzip")  # noqa: SIM115
        response["Content-Length"] = str(size)
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    response["Cache-Control"] = "no-cache, no-store, must-revalidate"
    response["Expires"] = "0"
    response["Pragma"] = "no-cache"
    return response


def parse_range(header, size):
    match = DOWNLOAD_RANGE.fullmatch(header.strip())
    if not match or match.group(1) != "bytes":
        raise AppwriteError("storage_invalid_range")
    start = int(match.group(2))
    end = int(match.group(3)) if match.group(3) else min(start + MAX_RANGE - 1, size - 1)
    if start >= end or end >= size:
        raise AppwriteError("storage_invalid_range")
    return start, end
