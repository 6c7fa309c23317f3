"""List pages: the filters their forms offer, and pagination that keeps them."""

from django.core.paginator import Paginator

from ..models import Deployment, Execution, Function

PAGE_SIZE = 25
DEPLOYMENT_STATUSES = Deployment.Status.values
EXECUTION_STATUSES = Execution.Status.values
TRIGGERS = Execution.Trigger.values


def paginate(request, queryset):
    """One page of ``queryset`` plus the query string (without ``page``) for page links."""
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {"page": page, "query": query.urlencode()}


def functions(project, params):
    queryset = Function.objects.filter(project=project).order_by("-created_at", "-id")
    phrase = " ".join(params.get("search", "").split())
    if phrase:
        queryset = queryset.filter(search__icontains=phrase)
    if params.get("runtime"):
        queryset = queryset.filter(runtime=params["runtime"])
    if params.get("enabled") in ("true", "false"):
        queryset = queryset.filter(enabled=params["enabled"] == "true")
    return by_status(queryset, params.get("status", ""))


def by_status(queryset, status):
    if status == "none":
        return queryset.filter(latest_deployment_uid="")
    return queryset.filter(latest_deployment_status=status) if status else queryset


def executions(function, params):
    queryset = Execution.objects.filter(function=function).order_by("-created_at", "-id")
    for name, field in (("status", "status"), ("trigger", "trigger"), ("method", "request_method")):
        if params.get(name):
            queryset = queryset.filter(**{field: params[name]})
    code = params.get("code", "").strip()
    return queryset.filter(response_status_code=int(code)) if code.isdigit() else queryset
