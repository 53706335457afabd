"""The in-memory vector search ranks ties by row (sentence id), so that the
same sentences come first whatever the limit and whichever articles are
left out: a scan asks once for more candidates and drops its page's own
articles itself (``features.candidate_sets_without``), which must give what
the excluding search gives."""

from __future__ import annotations

import numpy as np
import pytest

from claimlookup.store import vectors


def _snapshot(matrix: np.ndarray) -> vectors.VectorSnapshot:
    ids = np.arange(1, len(matrix) + 1, dtype=np.int64)
    rows = vectors.VectorRows(ids, ids, np.array([f"a{i}" for i in ids], dtype=object),
                              np.zeros(len(ids), np.int32), matrix.astype(np.float32))
    return vectors.load(("e", 1), rows)


def _copies() -> np.ndarray:
    """Twelve rows of three distinct vectors (wire copies embed alike),
    interleaved so that no order of the rows is already the answer."""
    rng = np.random.default_rng(3)
    distinct = rng.normal(size=(3, 8)).astype(np.float32)
    distinct /= np.linalg.norm(distinct, axis=1, keepdims=True)
    return distinct[[2, 0, 1, 0, 2, 1, 0, 2, 1, 1, 0, 2]]


def test_ties_come_in_row_order_at_every_limit() -> None:
    matrix = _copies()
    snapshot = _snapshot(matrix)
    query = matrix[0] + 0.5 * matrix[1]
    whole = snapshot.search(query[None, :], vectors.ArticleMask(), len(matrix))[0]
    scores = [s for _, _, s in whole]
    assert scores == sorted(scores, reverse=True)
    for a, b in zip(whole, whole[1:], strict=False):  # equal scores: the earlier row first
        assert a[2] > b[2] or int(a[0][1:]) < int(b[0][1:]), (a, b)
    for limit in range(1, len(matrix) + 1):
        assert snapshot.search(query[None, :], vectors.ArticleMask(), limit)[0] == whole[:limit]


@pytest.mark.parametrize("excluded", [[1], [2, 5], [4, 7, 10, 11]])
def test_leaving_articles_out_keeps_the_order_of_the_rest(excluded: list[int]) -> None:
    matrix = _copies()
    snapshot = _snapshot(matrix)
    query = matrix[3]
    whole = snapshot.search(query[None, :], vectors.ArticleMask(), len(matrix))[0]
    mask = vectors.ArticleMask(excluded=np.array(excluded, dtype=np.int64))
    rest = [hit for hit in whole if int(hit[0][1:]) not in excluded]
    for limit in (1, 3, 6, len(rest)):
        assert snapshot.search(query[None, :], mask, limit)[0] == rest[:limit]


def test_rows_that_are_not_finite_are_never_hits() -> None:
    """A vector that is not finite scores NaN: it is left out at every limit
    (the k-th best is never NaN, so the others are all found)."""
    matrix = _copies()
    matrix[[1, 4]] = np.nan
    snapshot = _snapshot(matrix)
    query = matrix[0]
    for limit in range(1, len(matrix) + 1):
        hits = snapshot.search(query[None, :], vectors.ArticleMask(), limit)[0]
        assert len(hits) == min(limit, len(matrix) - 2)
        assert {"a2", "a5"}.isdisjoint(a for a, _, _ in hits)
        assert all(np.isfinite(s) for _, _, s in hits)
