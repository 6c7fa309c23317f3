"""The Django admin: every model, with links between related rows, read-only logs, and
actions that go through the same services as the API (rebuild, cancel, re-run, disable,
enable, revoke). django-q2 registers its own models (tasks, schedules, queue). Each module
registers the models of one area."""

from . import functions, installations, nodes, projects, runs

__all__ = ["functions", "installations", "nodes", "projects", "runs"]
