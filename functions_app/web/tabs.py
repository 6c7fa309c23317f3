"""What every tab of a function page shares: the header, the tab bar and the domain URL."""

from django.conf import settings

from ..models import Function
from .access import page

TABS = [
    ("deployments", "Deployments"),
    ("executions", "Executions"),
    ("variables", "Variables"),
    ("settings", "Settings"),
    ("usage", "Usage"),
]


def domain_url(request, function):
    """``http://<functionId>.<FUNCTIONS_DOMAIN>``, with the port this request came in on."""
    label = function.uid
    if Function.objects.filter(uid=function.uid).exclude(pk=function.pk).exists():
        label = f"{function.uid}.{function.project_id}"  # the ID alone is ambiguous
    port = request.get_port()
    suffix = "" if port in ("80", "443") else f":{port}"
    return f"http://{label}.{settings.FUNCTIONS_DOMAIN}{suffix}"


def function_page(request, function, tab, context=None, status=200, template=None):
    """Render ``console/function_<tab>.html`` (or ``template``) under the function's header."""
    context = {"function": function, "tab": tab, "tabs": TABS, **(context or {})}
    context["domain"] = domain_url(request, function)
    return page(request, template or f"console/function_{tab}.html", context, status=status)
