"""Queued executions of a function at capacity wait in the queue, never in a worker: the worker
that finds no slot free parks the execution (``waiting`` again, with no task queued) and goes on
with other work, and whoever frees a slot of that function queues its oldest parked execution
again. A flag file per function tells those releasers, without a query, whether anything is
parked; maintenance re-queues whatever a crash may have left parked."""

import contextlib
import os

from ..models import Execution
from . import capacity, enqueue, runtime_state


def _flag(function_pk):
    return os.path.join(runtime_state.folder(), f"parked-{function_pk}")


def _raise_flag(function_pk):
    runtime_state.folder().mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    os.close(os.open(_flag(function_pk), flags, 0o600))


def park(execution, function, worker):
    """Park a claimed execution. Returns a slot when capacity came free meanwhile (the
    execution is then the caller's to run after all), else None."""
    _raise_flag(function.pk)
    execution.park()
    slot = capacity.try_acquire_worker(function)
    if slot is None:
        _raise_flag(function.pk)  # a releaser may have lowered it meanwhile
        return None
    if execution.unpark(worker):
        return slot
    capacity.release(slot)  # a releaser queued it first: its task runs it
    wake(function)
    return None


def wake(function):
    """A slot of the function was freed: queue its oldest parked execution again."""
    if not os.path.exists(_flag(function.pk)):
        return
    pk = Execution.wake_parked(function.pk)
    if pk is None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(_flag(function.pk))
        return
    enqueue.execution_id(pk)


def sweep():
    """Maintenance: queue again the oldest parked execution of each function that has any
    (one is enough: each run that ends wakes the next). Returns how many were queued."""
    parked = Execution.objects.filter(parked=True, status=Execution.Status.WAITING)
    woken = 0
    for function_id in set(parked.values_list("function_id", flat=True)):
        pk = Execution.wake_parked(function_id)
        if pk is not None:
            enqueue.execution_id(pk)
            woken += 1
    return woken
