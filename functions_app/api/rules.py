"""/v1/proxy/rules: the project's function domains as Appwrite's proxy rules (list, create
for a function, get, delete)."""

from ..errors import AppwriteError
from ..models import Rule
from ..services import documents
from ..services import rules as service
from . import fields as parse
from . import queries
from .base import AppwriteView, no_content, ok
from .functions import COMMON_ATTRIBUTES, list_params

A = queries.Attribute
RULE_ATTRIBUTES = COMMON_ATTRIBUTES | {
    "domain": A("domain", "string"),
    "type": A("type", "string"),
    "trigger": A("trigger", "string"),
    "deploymentResourceType": A("resource_type", "string"),
    "deploymentResourceId": A("function__uid", "string"),
    "deploymentId": A("function__deployment_uid", "string"),
    "deploymentVcsProviderBranch": A("branch", "string"),
}


def project_rules(project):
    return Rule.objects.filter(project=project).select_related("function")


def get_rule(project, rule_id):
    rule = project_rules(project).filter(uid=rule_id).first()
    if rule is None:
        raise AppwriteError("rule_not_found")
    return rule


class RulesView(AppwriteView):
    scopes = {"GET": "rules.read"}

    def get(self, request):
        args = list_params(self.params())
        items, total, _ = queries.run(
            project_rules(self.project), resource="Rule", schema=RULE_ATTRIBUTES, **args
        )
        return ok(documents.listing("rules", [documents.rule(r) for r in items], total))


class RuleView(AppwriteView):
    scopes = {"GET": "rules.read", "DELETE": "rules.write"}

    def get(self, request, rule_id):
        return ok(documents.rule(get_rule(self.project, rule_id)))

    def delete(self, request, rule_id):
        service.delete_rule(get_rule(self.project, rule_id), self.origin)
        return no_content()


class FunctionRuleView(RuleView):
    """``POST /v1/proxy/rules/function``; other methods on this path are the rule ``function``
    (as Appwrite's router would match ``/v1/proxy/rules/:ruleId``)."""

    scopes = {**RuleView.scopes, "POST": "rules.write"}

    def get(self, request):
        return super().get(request, "function")

    def delete(self, request):
        return super().delete(request, "function")

    def post(self, request):
        fields = parse.function_rule_fields(self.params())
        rule = service.create_function_rule(self.project, **fields, origin=self.origin)
        return ok(documents.rule(rule, created=True), status=201)
