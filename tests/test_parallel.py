"""claimlookup.parallel: one request's work shared with idle helper threads."""

from __future__ import annotations

import threading
import time

import pytest

from claimlookup import parallel

POOL = "tests:helpers"


def test_results_come_in_the_items_order_whoever_computed_them() -> None:
    def square(x: int) -> int:
        time.sleep(0.001)  # long enough for the helpers to take pieces too
        return x * x

    assert parallel.shared(list(range(50)), square, 3, POOL) == [x * x for x in range(50)]
    assert parallel.shared([], square, 3, POOL) == []
    assert parallel.shared([7], square, 3, POOL) == [49]


def test_one_thread_is_a_plain_loop_in_the_caller() -> None:
    names = parallel.shared([1, 2, 3], lambda _: threading.current_thread().name, 1, POOL)
    assert names == [threading.current_thread().name] * 3


def test_an_error_is_raised_to_the_caller_and_stops_the_rest() -> None:
    done: list[int] = []

    def fail_on_three(x: int) -> int:
        if x == 3:
            raise ValueError("three")
        time.sleep(0.002)  # a piece of work: the other thread runs meanwhile
        done.append(x)
        return x

    with pytest.raises(ValueError, match="three"):
        parallel.shared(list(range(200)), fail_on_three, 2, POOL)
    assert len(done) < 50  # nobody took another piece once one had failed (199 without the rule)


def test_the_caller_never_waits_for_a_busy_helper() -> None:
    """Under load every helper may be busy with another request: the caller
    then does all of its own work and the task it queued is dropped."""
    pool = "tests:busy"  # one helper thread, kept busy here
    release = threading.Event()
    busy = parallel.helpers(pool, 1).submit(release.wait, 120)
    result: list[list[int]] = []
    caller = threading.Thread(target=lambda: result.append(parallel.shared([1, 2, 3], lambda x: -x, 2, pool)))
    try:
        caller.start()
        caller.join(timeout=60)  # liveness, not speed: without the rule it waits until release
        assert not caller.is_alive(), "the call waited for a busy helper"
        assert result == [[-1, -2, -3]]
    finally:
        release.set()
        busy.result()
        caller.join()
