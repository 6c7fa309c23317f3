"""Handing work to the django-q2 workers (the task bodies live in ``functions_app.tasks``).

Work is enqueued when the transaction that created its row commits, so a worker never looks
for a row that is not there yet; tasks take the row's primary key and claim it themselves."""

from django.db import transaction
from django_q.tasks import async_task


def _on_commit(task, *args):
    transaction.on_commit(lambda: async_task(f"functions_app.tasks.{task}", *args))


def build(deployment):
    _on_commit("build_deployment", deployment.pk)


def build_id(pk):
    _on_commit("build_deployment", pk)


def execution(execution):
    _on_commit("run_execution", execution.pk)


def execution_id(pk):
    _on_commit("run_execution", pk)


def warm_up(function):
    _on_commit("warm_up", function.pk)
