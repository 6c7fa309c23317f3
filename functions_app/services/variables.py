"""Function and project (global) environment variables."""

import re

from django.db import IntegrityError, transaction

from ..errors import AppwriteError
from ..ids import unique_id
from ..models import Variable

ENV_KEY = re.compile(r"[A-Za-z0-9_.-]+")


def _save(variable, **kwargs):
    try:
        with transaction.atomic():
            variable.save(**kwargs)
    except IntegrityError:
        raise AppwriteError("variable_already_exists") from None


def _configuration_changed(project, function):
    """Variables reach containers when they start: the function is no longer ``live``, and
    its warm containers are retired so the next execution starts with the new values."""
    from . import executor

    for fn in [function] if function else project.functions.all():
        fn.mark_not_live()
        executor.remove_function_runtimes(fn)


def create_variable(project, function, key, value, secret):
    variable = Variable(
        project=project, function=function, uid=unique_id(), key=key, value=value, secret=secret
    )
    _save(variable)
    _configuration_changed(project, function)
    return variable


def update_variable(variable, key, value=None, secret=None):
    if variable.secret and secret is False:
        raise AppwriteError("variable_cannot_unset_secret")
    variable.key = key
    if value is not None:
        variable.value = value
    if secret is not None:
        variable.secret = secret
    _save(variable)
    _configuration_changed(variable.project, variable.function)
    return variable


def delete_variable(variable):
    variable.delete()
    _configuration_changed(variable.project, variable.function)


def environment(function):
    """Project variables, then function variables (later ones win). As Appwrite's executor
    does, only keys of ``[A-Za-z0-9_.-]`` reach a container (the API accepts no others; a row
    written some other way cannot break the container's environment)."""
    merged = {
        v.key: v.value
        for v in Variable.objects.filter(project_id=function.project_id, function=None)
    }
    merged.update({v.key: v.value for v in function.variables.all()})
    return {k: v for k, v in merged.items() if ENV_KEY.fullmatch(k) and "\x00" not in v}
