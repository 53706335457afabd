"""The in-memory vectors' full load fills its arrays batch by batch
(``vectors.load_batches``, ``candidates.load_vectors``) and must give the
same snapshot as loading every row at once (``vectors.load``)."""

from __future__ import annotations

import numpy as np
import pytest

from claimlookup.store import vectors
from claimlookup.store.sqlite import candidates


def _rows(start: int, count: int, dim: int = 4, seed: int = 0) -> vectors.VectorRows:
    rng = np.random.default_rng(seed + start)
    ids = np.arange(start, start + count, dtype=np.int64)
    return vectors.VectorRows(ids, ids // 3, np.array([f"a{i // 3}" for i in ids], dtype=object),
                              (ids % 3).astype(np.int32), rng.random((count, dim), dtype=np.float32))


def _concat(parts: list[vectors.VectorRows]) -> vectors.VectorRows:
    return vectors.VectorRows(*(np.concatenate([getattr(p, name) for p in parts])
                                for name in ("sentence_ids", "article_pks", "article_ids", "positions", "matrix")))


def _same(a: vectors.VectorSnapshot, b: vectors.VectorSnapshot) -> None:
    assert (a.token, a.size, a.floor) == (b.token, b.size, b.floor)
    assert a.buffer.matrix.shape == b.buffer.matrix.shape  # same spare capacity
    for name in ("sentence_ids", "article_pks", "article_ids", "positions", "matrix"):
        assert np.array_equal(getattr(a.buffer, name)[:a.size], getattr(b.buffer, name)[:b.size]), name
    assert np.array_equal(a.live, b.live)


@pytest.mark.parametrize("sizes", [[5], [3, 0, 7, 2], [1, 1, 1]])
def test_load_batches_equals_load(sizes: list[int]) -> None:
    parts, start = [], 1
    for size in sizes:
        parts.append(_rows(start, size))
        start += size
    whole = _concat(parts)
    _same(vectors.load_batches(("e", 3), len(whole), iter(parts), floor=0), vectors.load(("e", 3), whole))


def test_load_batches_grows_when_more_rows_come_than_expected() -> None:
    parts = [_rows(1, 700), _rows(701, 900)]
    snapshot = vectors.load_batches(("e", 1), 10, iter(parts), floor=0)
    assert snapshot.size == 1600 and snapshot.buffer.matrix.shape[0] >= 1600
    assert np.array_equal(snapshot.buffer.matrix[:1600], _concat(parts).matrix)


def test_load_batches_of_nothing_is_an_empty_load() -> None:
    _same(vectors.load_batches(("e", 1), 0, iter([]), floor=9), vectors.load(("e", 1), vectors.VectorRows.empty(), 9))


def test_the_store_loads_in_batches_the_rows_a_single_select_gives(tmp_path, monkeypatch) -> None:
    """A real SQLite store: the batched full load above a floor (batches of 7
    rows here) holds exactly what one select of the same rows held."""
    from claimlookup.pipeline import ArticleRecord, ingest
    from claimlookup.store import open_store
    from claimlookup.store.sqlite.connection import token as read_token

    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    store.setup()
    body = " ".join(f"Officials in town number {i} said {i + 3} people were hurt on Monday." for i in range(12))
    ingest(store, [ArticleRecord(id=f"art-{k}", title=f"Report {k} on the town", body=body) for k in range(3)])
    monkeypatch.setattr(candidates, "LOAD_BATCH_ROWS", 7)
    with store._read() as conn:
        token = read_token(conn)
        floor = 5
        batched = candidates.load_vectors(conn, token, floor)
        whole = vectors.load(token, candidates.vector_rows(conn, after=floor), floor)
    store.close()
    assert batched.size > 14  # several batches
    _same(batched, whole)
