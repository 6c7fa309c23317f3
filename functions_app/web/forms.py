"""Form posts turned into the API's request parameters, so that the API's own validators
check them and report the API's exact messages. Also the reverse: a model as form values."""

import re
from datetime import UTC

from django.utils.dateparse import parse_datetime

from ..api import params as p
from ..api.fields import FUNCTION_ID
from ..errors import AppwriteError, param_invalid
from ..services.callers import KEY_SCOPES

SPLIT = re.compile(r"[\n,]")
FUNCTION_TEXT = ("name", "runtime", "entrypoint", "commands", "schedule", "specification")


def items(text):
    """One item per line (or comma): ``any\\nusers`` -> ``["any", "users"]``."""
    return [item.strip() for item in SPLIT.split(text or "") if item.strip()]


def checked(post, name):
    return post.get(name) in ("on", "true", "1")


def function_data(post):
    """The create/update body the API would receive for this form."""
    data = {name: post.get(name, "") for name in FUNCTION_TEXT}
    data.update(
        timeout=post.get("timeout", ""),
        execute=items(post.get("execute")),
        events=items(post.get("events")),
        scopes=post.getlist("scopes"),
        enabled=checked(post, "enabled"),
        logging=checked(post, "logging"),
    )
    return data


def function_values(function):
    """A function as the values of its settings form."""
    values = {name: getattr(function, name) for name in FUNCTION_TEXT}
    values.update(
        timeout=function.timeout,
        execute="\n".join(function.execute),
        events="\n".join(function.events),
        scopes=list(function.scopes),
        enabled=function.enabled,
        logging=function.logging,
    )
    return values


def posted_values(post):
    """What the user typed, to show the form again next to an error."""
    values = {**function_data(post), "scopes": post.getlist("scopes")}
    values.update(execute=post.get("execute", ""), events=post.get("events", ""))
    return values


def function_id(post):
    """The ID field, checked as the API checks ``functionId``; empty means ``ID.unique()``."""
    return FUNCTION_ID.read({"functionId": post.get("functionId", "").strip() or "unique()"})


# -- executions -----------------------------------------------------------------------------


def header_lines(text):
    """``Name: value`` lines, or a JSON object as the API takes it."""
    text = (text or "").strip()
    if not text or text.startswith("{"):
        return text
    pairs = [line.split(":", 1) for line in text.splitlines() if line.strip()]
    if any(len(pair) != 2 for pair in pairs):
        return text  # not an object: the API's validator says so
    return {name.strip(): value.strip() for name, value in pairs}


def execution_data(post):
    mode = post.get("mode", "sync")
    data = {
        "method": post.get("method", "POST"),
        "path": post.get("path", "") or "/",
        "headers": header_lines(post.get("headers")),
        "body": post.get("body", ""),
        "async": mode != "sync",
    }
    if mode == "schedule":
        data["scheduledAt"] = post.get("scheduledAt", "")
    return data


# -- variables --------------------------------------------------------------------------------


def variable_data(post, variable=None):
    """Create/update parameters; a secret's empty value field means "keep the value"."""
    data = {"key": post.get("key", ""), "value": post.get("value", "")}
    data["secret"] = checked(post, "secret")
    if variable is not None and variable.secret and not data["value"]:
        data["value"] = None
    return data


# -- projects and keys ------------------------------------------------------------------------


def project_fields(post):
    data = {"projectId": post.get("projectId", "").strip() or "unique()", "name": post.get("name")}
    return {
        "project_id": p.get(data, "projectId", p.CustomId(), required=True),
        "name": p.get(data, "name", p.Text(128), required=True),
    }


def key_fields(post):
    data = {"name": post.get("name", ""), "scopes": post.getlist("scopes")}
    return {
        "name": p.get(data, "name", p.Text(128), required=True),
        "scopes": p.get(data, "scopes", p.ArrayList(p.WhiteList(KEY_SCOPES), 100), default=[]),
        "expire": parse_expire(post.get("expire", "")),
    }


def platform_fields(post):
    """A web platform's form, as ``services.platforms`` takes it (and checks it)."""
    return {
        "type_": post.get("type", "web"),
        "name": post.get("name", ""),
        "hostname": post.get("hostname", ""),
    }


def parse_expire(value):
    """An optional expiry date (UTC), as Appwrite's Datetime validator checks it."""
    if not value:
        return None
    moment = parse_datetime(value)
    if moment is None:
        raise param_invalid("expire", "Value must be valid date.")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def message(error):
    """The text shown next to a form for a rejected submission."""
    return error.message if isinstance(error, AppwriteError) else str(error)


# -- templates and git ------------------------------------------------------------------------


def template_values(post, template):
    """The values typed for a template's variables, checked as ``createVariable`` checks them."""
    values = {}
    for variable in template.variables:
        data = {"value": post.get(f"var-{variable.name}", "")}
        values[variable.name] = p.get(data, "value", p.Text(8192, 0), default="")
    return values


def installation_fields(post, creating):
    """A git connection's form, as ``services.installations`` takes it (and checks it). On
    edit, an empty secret field keeps the stored one unless its "remove" box is checked."""
    fields = {
        "name": post.get("name", ""),
        "base_url": post.get("url", ""),
        "provider": post.get("provider", "git"),
        "username": post.get("username", ""),
        "ssh_known_hosts": post.get("knownHosts", ""),
    }
    for field, name in (
        ("token", "token"),
        ("ssh_key", "sshKey"),
        ("webhook_secret", "webhookSecret"),
    ):
        value = post.get(name, "")
        if creating:
            fields[field] = value
        elif value or checked(post, f"remove-{name}"):
            fields[field] = "" if checked(post, f"remove-{name}") else value
    return fields


def link_data(post, function_document):
    """The function's update body (every field as it is) with the Git section's link fields;
    ``disconnect`` unlinks."""
    data = dict(function_document)
    if "disconnect" in post:
        data["providerRepositoryId"] = ""
        return data
    data.update(
        installationId=post.get("installationId", ""),
        providerRepositoryId=post.get("providerRepositoryId", "").strip(),
        providerBranch=post.get("providerBranch", "").strip(),
        providerRootDirectory=post.get("providerRootDirectory", "").strip(),
        providerSilentMode=checked(post, "providerSilentMode"),
    )
    return data


def git_deployment_data(post):
    return {
        "type": post.get("type", "branch"),
        "reference": post.get("reference", "").strip(),
        "activate": checked(post, "activate"),
    }
