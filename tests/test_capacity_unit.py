"""A function's capacity slots without Docker: exclusive across processes, freed when their
process dies, taken lowest first, and waited for in arrival order within a process."""

import os
import threading
import time
from types import SimpleNamespace

import pytest

from functions_app.services import capacity


@pytest.fixture
def function(settings, tmp_path):
    settings.NODE_DIR = tmp_path
    return SimpleNamespace(
        pk=4242, specification="s-1vcpu-512mb", max_replicas=1, max_concurrency=2
    )


def in_child(work):
    """Run ``work()`` in a forked process that holds what it took until told to exit."""
    read_end, write_end = os.pipe()
    done_read, done_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        taken = work()
        os.write(write_end, repr(taken).encode() + b"\n")
        os.read(done_read, 1)
        os._exit(0)
    os.close(write_end)
    taken = os.read(read_end, 100).decode().strip()
    return pid, taken, done_write


def test_slots_are_exclusive_across_processes_and_freed_with_them(function):
    pid, taken, done = in_child(
        lambda: [s and s.index for s in (capacity.acquire(function, 0),) * 1]
    )
    assert taken == "[0]"
    held = capacity.acquire(function, 0)
    assert held.index == 1  # the lowest free one
    assert capacity.acquire(function, 0) is None  # both taken: one here, one there
    assert capacity.running(function) == 2
    os.write(done, b"x")
    os.waitpid(pid, 0)  # the other process is gone, and its slot with it
    again = capacity.acquire(function, 0)
    assert again.index == 0
    capacity.release(held)
    capacity.release(again)
    assert capacity.running(function) == 0


def test_waiters_of_a_process_are_served_in_arrival_order(function):
    function.max_concurrency = 1
    first, order = capacity.acquire(function, 0), []

    def wait_turn(name):
        slot = capacity.acquire(function, 10)
        order.append(name)
        time.sleep(0.02)
        capacity.release(slot)

    threads = [threading.Thread(target=wait_turn, args=(name,)) for name in "abc"]
    for thread in threads:
        thread.start()
        time.sleep(0.05)  # a queues first, then b, then c
    capacity.release(first)
    for thread in threads:
        thread.join(10)
    assert order == ["a", "b", "c"]


def test_a_waiter_gives_up_after_its_wait(function):
    function.max_concurrency = 1
    held = capacity.acquire(function, 0)
    started = time.monotonic()
    assert capacity.acquire(function, 0.2) is None
    assert time.monotonic() - started >= 0.2
    capacity.release(held)
    assert capacity.acquire(function, 0) is not None


def test_the_default_limits_come_from_the_specification_and_the_host(function, settings):
    settings.COMPUTE_CPUS, settings.COMPUTE_MEMORY, settings.FUNCTIONS_MAX_REPLICAS = 2, 4096, 8
    settings.FUNCTIONS_REPLICA_CONCURRENCY = 4
    function.max_replicas = function.max_concurrency = 0
    found = capacity.limits(function)
    assert (found.replicas, found.concurrency) == (4, 16)  # 2 x 2 CPUs / 1; 4096 / 2 / 512 = 4
    function.specification = "s-2vcpu-2gb"
    assert capacity.limits(function).replicas == 1  # 2 x 2 / 2 = 2, but 4096 / 2 / 2048 = 1
    function.max_replicas, function.max_concurrency = 3, 5
    assert (capacity.limits(function).replicas, capacity.limits(function).concurrency) == (3, 5)
