"""Console and admin requests with NUL (``%00``) in their path or query string get a 400 before
any view looks anything up: no stored ID or text holds NUL, and PostgreSQL refuses to even
compare a value with one (a 500 otherwise). The API's own validators refuse NUL with Appwrite's
errors, and function domains pass their raw request on, so neither is concerned."""

from django.http import HttpResponseBadRequest


def has_nul(request):
    if "\x00" in request.path:
        return True
    return any(
        "\x00" in name or any("\x00" in value for value in values)
        for name, values in request.GET.lists()
    )


def nul_guard_middleware(get_response):
    def middleware(request):
        if not request.path.startswith("/v1/") and has_nul(request):
            return HttpResponseBadRequest("Bad request: NUL in the URL.", content_type="text/plain")
        return get_response(request)

    return middleware
