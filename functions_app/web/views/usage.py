"""The Usage tab (charts drawn by chart.js from aggregated rows) and the catalogue pages."""

from django.contrib.auth.decorators import login_required

from ...services import functions, specifications
from ...services.usage import chart_usage
from ..access import function_view, page
from ..tabs import function_page


@function_view
def usage_tab(request, function):
    return function_page(request, function, "usage", {"periods": chart_usage(function)})


@login_required
def runtimes(request):
    return page(request, "console/runtimes.html", {"runtimes": functions.available_runtimes()})


@login_required
def specification_list(request):
    rows = [(spec, specifications.is_enabled(spec)) for spec in specifications.CATALOGUE]
    return page(request, "console/specifications.html", {"specifications": rows})
