"""The worker's garbage-collection policy (api/gcpolicy.py): survivors of a
request are frozen, and every FULL_EVERY requests the worker collects once."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from api import create_app, gcpolicy


class _Node:
    pass


def served(client) -> int:
    """One request, closed as a WSGI server closes it after sending the body."""
    response = client.get("/healthz")
    response.close()
    return response.status_code


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Nothing frozen, and no automatic collection: a young-generation pass
    triggered by the request's own allocations could free the test's cycle
    before the freeze (it did once in a full run), which is CPython's
    business, not the policy's. The policy's collections are explicit."""
    gc.unfreeze()
    was_enabled = gc.isenabled()
    gc.disable()
    yield
    if was_enabled:
        gc.enable()
    gc.unfreeze()


def test_survivors_are_frozen_and_cycles_collected_every_n_requests(tmp_path, unfrozen: None) -> None:
    app = create_app({"STORE_URL": f"sqlite:///{tmp_path / 'store.db'}", "GC_FULL_EVERY": 3, "TESTING": True})
    client = app.test_client()
    assert gc.get_freeze_count() == 0
    node = _Node()
    node.self = node  # a cycle: only the cycle collector frees it
    alive = weakref.ref(node)
    del node
    response = client.get("/healthz")  # request 1, not closed yet: nothing happened
    assert response.status_code == 200 and gc.get_freeze_count() == 0
    response.close()  # sent: the cycle is frozen with the rest
    assert gc.get_freeze_count() > 0
    gc.collect()
    assert alive() is not None  # frozen objects are not collected
    assert served(client) == 200  # request 2
    assert alive() is not None
    assert served(client) == 200  # request 3: unfreeze, collect, freeze
    assert alive() is None
    assert gc.get_freeze_count() > 0


def test_the_policy_can_be_turned_off(tmp_path, unfrozen: None) -> None:
    app = create_app({"STORE_URL": f"sqlite:///{tmp_path / 'store.db'}", "GC_FULL_EVERY": 0, "TESTING": True})
    assert served(app.test_client()) == 200
    assert gc.get_freeze_count() == 0


def test_the_heap_is_trimmed_every_trim_every_requests(tmp_path, unfrozen: None, monkeypatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(gcpolicy, "_TRIM", lambda pad: calls.append(pad))
    monkeypatch.setattr(gcpolicy, "TRIM_EVERY", 4)
    app = create_app({"STORE_URL": f"sqlite:///{tmp_path / 'store.db'}", "GC_FULL_EVERY": 1000, "TESTING": True})
    client = app.test_client()
    for _ in range(3):
        assert served(client) == 200
    assert calls == []
    assert served(client) == 200  # the 4th request
    assert calls == [0]
    for _ in range(4):
        assert served(client) == 200
    assert calls == [0, 0]


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(gcpolicy._TRIM is None,
                    reason="the C library has no malloc_trim (not glibc): release_free_heap is a no-op there")
def test_release_free_heap_gives_freed_pages_back() -> None:
    release_free_heap = gcpolicy.release_free_heap
    release_free_heap()
    keep, junk = [], []
    # ~200 MiB of 2 KB blocks from the C heap (over pymalloc's 512-byte limit), with a
    # survivor from the same heap after every 16: the heap cannot shrink from its top,
    # only the free pages between the survivors can go back, which only a trim does.
    for i in range(100_000):
        junk.append(bytes(2000))
        if i % 16 == 0:
            keep.append(bytes(600))
    del junk
    held = _rss_mib()
    assert release_free_heap() is True
    assert held - _rss_mib() > 100, "malloc_trim gave back less than half of the freed 200 MiB"
    assert keep  # the survivors stay alive through the trim
