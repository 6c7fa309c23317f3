"""What every tab of a function page shares: the header, the tab bar and the domain URL."""

from ..services import rules
from .access import page

TABS = [
    ("deployments", "Deployments"),
    ("executions", "Executions"),
    ("variables", "Variables"),
    ("settings", "Settings"),
    ("usage", "Usage"),
]


def domain_url(request, function):
    """The function's domain URL, with the port this request came in on."""
    return rules.url_of(function, request.get_port())


def function_page(request, function, tab, context=None, status=200, template=None):
    """Render ``console/function_<tab>.html`` (or ``template``) under the function's header."""
    context = {"function": function, "tab": tab, "tabs": TABS, **(context or {})}
    context["domain"] = domain_url(request, function)
    return page(request, template or f"console/function_{tab}.html", context, status=status)
