"""Function domains: Appwrite's proxy rules of type ``deployment`` for functions.

Each function gets a rule when it is created, its automatic domain:
``<functionId>-<projectId>.<FUNCTIONS_DOMAIN>`` (lowercased, other characters as ``-``, with a
random suffix if that is taken or too long), unique on the whole instance, with trigger
``deployment`` (made by the platform, not through the API). ``POST /v1/proxy/rules/function``
adds more (trigger ``manual``): one label under ``FUNCTIONS_DOMAIN``, or any other host name
that is not one of this service's own. A rule follows its function's active deployment.

A host under ``FUNCTIONS_DOMAIN`` resolves through its rule, or as
``<functionId>.<projectId>.<FUNCTIONS_DOMAIN>`` (case-insensitive); any other host only through
its rule, and never when it is one of this service's own names (``reserved``)."""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from ..errors import AppwriteError, argument_invalid
from ..models import Function, Rule
from . import cache, events

NOT_ALLOWED = "This domain name is not allowed. Please use a different domain."
ALWAYS_DENIED = ("localhost", "appwrite")  # as Appwrite denies them


def parent_domain():
    return settings.FUNCTIONS_DOMAIN.lower()


def create_rule(function):
    """The function's automatic domain (called when the function is created)."""
    return Rule.claim(function, parent_domain())


def domain_of(function):
    """The function's domain (its first rule), or "" if it has none."""
    rule = function.rules.order_by("id").first()
    return rule.domain if rule else ""


def url_of(function, port=""):
    """``http://<domain>[:port]`` of its first rule, or "" for a function without a rule."""
    return _url(domain_of(function), port)


def url_of_rule(rule, port=""):
    return _url(rule.domain, port)


def _url(domain, port):
    """With ``port`` under ``FUNCTIONS_DOMAIN`` (served by this very service), without it for
    other domains (their owners point them here, on the usual ports)."""
    if not under_parent(domain):
        port = ""
    if not domain:
        return ""
    return f"http://{domain}:{port}" if port and port not in ("80", "443") else f"http://{domain}"


# -- which host names a rule may take ------------------------------------------------------


def _hostname(url):
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def reserved_hosts():
    """This service's own names, which no rule may take and the router never hands to a
    function: ``localhost``, ``appwrite``, ``FUNCTIONS_DOMAIN`` itself, the host of
    ``PUBLIC_URL``, the names in ``ALLOWED_HOSTS`` (``.example.com`` as ``example.com``) and
    ``CSRF_TRUSTED_ORIGINS``, and ``CUSTOM_DOMAIN_DENY_LIST``."""
    hosts = {*ALWAYS_DENIED, parent_domain(), _hostname(settings.PUBLIC_URL)}
    hosts.update(entry.lower().lstrip(".") for entry in settings.ALLOWED_HOSTS if entry != "*")
    hosts.update(_hostname(origin) for origin in settings.CSRF_TRUSTED_ORIGINS)
    hosts.update(entry.lower() for entry in settings.CUSTOM_DOMAIN_DENY_LIST)
    return hosts - {""}


def is_reserved(host):
    """A name of this service's own, or an IP address (never a rule's)."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return host.lower() in reserved_hosts()


def under_parent(domain):
    return domain.endswith("." + parent_domain())


def check_domain(domain):
    """What Appwrite checks after the ``Domain`` validator: a name under ``FUNCTIONS_DOMAIN``
    must be exactly one label deeper, and the denied names (``is_reserved``) are refused."""
    if under_parent(domain) and domain.count(".") != parent_domain().count(".") + 1:
        raise argument_invalid(NOT_ALLOWED)
    if is_reserved(domain):
        raise argument_invalid(NOT_ALLOWED)


def status_for(domain):
    """``verified`` under ``FUNCTIONS_DOMAIN`` (the service answers there already); any other
    name is ``created``: pointing its DNS here is its owner's part (no certificates here)."""
    return Rule.Status.VERIFIED if under_parent(domain) else Rule.Status.CREATED


# -- the API's rules ------------------------------------------------------------------------


def create_function_rule(project, domain, function_id, branch="", origin=None):
    """``POST /v1/proxy/rules/function``, checks in Appwrite's order. Host names have no case:
    the domain is kept lowercase, so ``Example.com`` and ``example.com`` are the same rule."""
    domain = domain.lower()
    check_domain(domain)
    function = Function.objects.filter(project=project, uid=function_id).first()
    if function is None:
        raise AppwriteError("rule_resource_not_found")
    if Rule.objects.filter(domain=domain).exists():
        raise AppwriteError("rule_already_exists")
    try:
        with transaction.atomic():
            rule = Rule.objects.create(
                project=project,
                function=function,
                domain=domain,
                branch=branch,
                trigger=Rule.Trigger.MANUAL,
                status=status_for(domain),
            )
    except IntegrityError:
        raise AppwriteError("rule_already_exists") from None  # taken meanwhile
    events.rule_changed(rule, "create", origin)
    return rule


def delete_rule(rule, origin=None):
    payload = events.payload_of(rule)
    rule.delete()
    events.rule_changed(rule, "delete", origin, payload)


# -- routing --------------------------------------------------------------------------------


def find_function(host):
    """The function a (lowercase, port-less) host under the functions domain routes to."""
    return cache.lookup("host", host, lambda: _routed(host, qualified=True), keep=_always)


def custom_domain_function(host):
    """The function a (lowercase, port-less) host outside the functions domain routes to: only
    through a rule, and never for one of this service's own names."""
    if not host or is_reserved(host):
        return None
    return cache.lookup("host", host, lambda: _routed(host, qualified=False), keep=_always)


def _always(found):
    return True  # a host without a function is remembered too (until the next change)


def _routed(host, qualified):
    rule = Rule.objects.filter(domain=host).select_related("function__project").first()
    if rule is not None:
        return rule.function
    return qualified_function(host[: -len(parent_domain()) - 1]) if qualified else None


def qualified_function(label):
    """``<functionId>.<projectId>``, IDs compared without case. When case variants make it
    ambiguous, only the exact (lowercase) match is served; otherwise nothing is."""
    parts = label.split(".")
    if len(parts) < 2:
        return None
    splits = Q()
    for cut in range(1, len(parts)):
        splits |= Q(uid__iexact=".".join(parts[:cut]), project__id__iexact=".".join(parts[cut:]))
    candidates = list(Function.objects.filter(splits).select_related("project")[:10])
    exact = [f for f in candidates if f"{f.uid}.{f.project_id}" == label]
    if len(exact) == 1:
        return exact[0]
    return candidates[0] if len(candidates) == 1 else None
