"""Which of a caller's request headers reach a function, and which are kept.

* ``x-appwrite-*`` (and ``x-open-runtimes-*``) headers belong to the platform: whatever a caller
  sends under those prefixes, in any case, is dropped before the platform sets its own, so code
  can trust ``x-appwrite-user-id``, ``x-appwrite-event`` and the rest. (Appwrite 1.8 refuses
  lowercase ``x-appwrite-`` names in ``headers`` but lets other cases, and every header of a
  domain request, through.)
* Framing headers are set by our own HTTP client from the body.
* Credentials (``authorization``, ``cookie``, the API's own key, session and JWT headers) reach
  the function of a synchronous run, as on Appwrite, but are never stored: not in the execution's
  ``requestHeaders``, not in the headers kept for a queued run, which therefore runs without
  them.
"""

PLATFORM_PREFIXES = ("x-appwrite-", "x-open-runtimes-")
FRAMING = ("content-length", "transfer-encoding", "connection", "keep-alive", "upgrade")
CREDENTIALS = (
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-appwrite-key",
    "x-appwrite-session",
    "x-appwrite-jwt",
    "x-fallback-cookies",
)
REQUEST_ALLOWLIST = ("content-type", "agent", "content-length", "host")  # requestHeaders
RESPONSE_ALLOWLIST = ("content-type", "content-length")  # responseHeaders, as stored


def _not_platform(headers):
    lowered = {name.lower(): value for name, value in headers.items()}
    return {k: v for k, v in lowered.items() if not k.startswith(PLATFORM_PREFIXES)}


def from_caller(headers):
    """The caller's headers, names lowercased, without the platform's and the framing ones."""
    return {k: v for k, v in _not_platform(headers).items() if k not in FRAMING}


def storable(headers):
    """What may be kept of the caller's headers for a later run: no credentials."""
    return {name: value for name, value in from_caller(headers).items() if name not in CREDENTIALS}


def request_list(headers, client_ip):
    """``requestHeaders``: the allowlisted caller headers and the client IP the platform saw."""
    kept = [(k, v) for k, v in _not_platform(headers).items() if k in REQUEST_ALLOWLIST]
    if client_ip:
        kept.append(("x-appwrite-client-ip", client_ip))
    return [{"name": name, "value": value} for name, value in kept]


def response_list(headers):
    """``responseHeaders`` as stored: content type and length only."""
    return [{"name": k, "value": v} for k, v in headers if k.lower() in RESPONSE_ALLOWLIST]
