"""Function domains. Each function gets a rule when it is created:
``<functionId>-<projectId>.<FUNCTIONS_DOMAIN>`` (lowercased, other characters as ``-``, with a
random suffix if that is taken or too long), unique on the whole instance. A host resolves
through its rule, or as ``<functionId>.<projectId>.<FUNCTIONS_DOMAIN>`` (case-insensitive)."""

from django.conf import settings
from django.db.models import Q

from ..models import Function, Rule


def parent_domain():
    return settings.FUNCTIONS_DOMAIN.lower()


def create_rule(function):
    return Rule.claim(function, parent_domain())


def domain_of(function):
    """The function's domain (its first rule), or "" if it has none."""
    rule = function.rules.order_by("id").first()
    return rule.domain if rule else ""


def url_of(function, port=""):
    """``http://<domain>[:port]``, or "" for a function without a rule."""
    domain = domain_of(function)
    if not domain:
        return ""
    return f"http://{domain}:{port}" if port and port not in ("80", "443") else f"http://{domain}"


def find_function(host):
    """The function a (lowercase, port-less) host under the functions domain routes to."""
    rule = Rule.objects.filter(domain=host).select_related("function__project").first()
    if rule is not None:
        return rule.function
    return qualified_function(host[: -len(parent_domain()) - 1])


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
