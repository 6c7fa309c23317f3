"""/v1/proxy/rules: the project's function domains as Appwrite's proxy rules (list, create
for a function, get, delete)."""

from dataclasses import replace

from ..errors import AppwriteError
from ..models import Rule
from ..services import documents
from ..services import rules as service
from . import fields as parse
from . import queries
from .base import AppwriteView, no_content, ok
from .declarations import declare, operation
from .functions import COMMON_ATTRIBUTES

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

    @operation("listRules", "List rules", *parse.LIST, returns={200: "proxyRuleList"})
    def get(self, request):
        items, total, _ = queries.run(
            project_rules(self.project), resource="Rule", schema=RULE_ATTRIBUTES, **self.params()
        )
        return ok(documents.listing("rules", [documents.rule(r) for r in items], total))


class RuleView(AppwriteView):
    scopes = {"GET": "rules.read", "DELETE": "rules.write"}

    @operation("getRule", "Get rule", returns={200: "proxyRule"})
    def get(self, request, rule_id):
        return ok(documents.rule(get_rule(self.project, rule_id)))

    @operation("deleteRule", "Delete rule", returns={204: None})
    def delete(self, request, rule_id):
        service.delete_rule(get_rule(self.project, rule_id), self.origin)
        return no_content()


LITERAL = "The rule whose ID is `function` (this literal path wins, as on Appwrite)."


class FunctionRuleView(RuleView):
    """``POST /v1/proxy/rules/function``; other methods on this path are the rule ``function``
    (as Appwrite's router would match ``/v1/proxy/rules/:ruleId``)."""

    scopes = {**RuleView.scopes, "POST": "rules.write"}

    @operation(
        "createFunctionRule",
        "Create function rule",
        *parse.FUNCTION_RULE,
        returns={201: "proxyRule"},
        errors=(409,),
    )
    def post(self, request):
        rule = service.create_function_rule(self.project, **self.params(), origin=self.origin)
        return ok(documents.rule(rule, created=True), status=201)

    @declare(replace(RuleView.get.operation, name="getRuleFunction", description=LITERAL))
    def get(self, request):
        return super().get(request, "function")

    @declare(replace(RuleView.delete.operation, name="deleteRuleFunction", description=LITERAL))
    def delete(self, request):
        return super().delete(request, "function")
