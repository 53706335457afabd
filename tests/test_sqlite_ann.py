"""The SQLite store's approximate vector index (``claimlookup.store.ann``,
``claimlookup.store.sqlite.neighbours``) on a small store, with the size
threshold lowered: the same results as exact search, rows written after the
build found, deleted rows never returned, unusable files ignored, killed
builds cleaned up, and the rebuild carrying its own index."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from claimlookup.model import Article, Filters, Sentence, SentenceRef
from claimlookup.store import ann
from claimlookup.store.sqlite import SQLiteStore, neighbours

REPO = Path(__file__).resolve().parents[1]
DIM = 384
ARTICLES = 150
SENTENCES = 4  # per article: 600 vectors
rng = np.random.default_rng(11)
CENTRES = rng.standard_normal((12, DIM)).astype(np.float32)


def normalised(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=-1, keepdims=True)


def vectors_of(seed: int) -> np.ndarray:
    """The sentence vectors of article ``seed``: near one of a few centres, so
    that neighbours are real neighbours rather than noise."""
    local = np.random.default_rng(seed)
    centre = CENTRES[seed % len(CENTRES)]
    return normalised(centre + 0.8 * local.standard_normal((SENTENCES, DIM)))


def article(i: int, vectors: np.ndarray | None = None) -> Article:
    vectors = vectors_of(i) if vectors is None else vectors
    sentences = [Sentence(position=p, text=f"Sentence {p} of article {i}.", start=0, end=10, vector=vectors[p])
                 for p in range(len(vectors))]
    return Article(id=f"a{i}", title=sentences[0].text, body=" ".join(s.text for s in sentences[1:]),
                   source="even" if i % 2 == 0 else "odd", published=date(2020, 1, 1 + i % 28),
                   sentences=sentences)


QUERIES = normalised(np.concatenate([vectors_of(7)[:2] + 0.3 * rng.standard_normal((2, DIM)),
                                     CENTRES[:6] + rng.standard_normal((6, DIM)),
                                     rng.standard_normal((4, DIM))]))


@pytest.fixture
def threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ann, "ANN_MIN_VECTORS", 100)


@pytest.fixture
def store(tmp_path: Path, threshold: None) -> Iterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "claimlookup.db")
    store.setup()
    list(store.write_articles(article(i) for i in range(ARTICLES)))
    assert store.refresh_vector_index().action == "built"
    yield store
    store.close()


def exact(path: Path, queries: np.ndarray, filters: Filters = Filters(), limit: int = 10) -> Found:
    """What exact search answers: a store object that never uses the index."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ann, "ANN_MIN_VECTORS", 10**9)
        other = SQLiteStore(path)
        try:
            return plain(other.vector_candidates(queries, filters, limit))
        finally:
            other.close()


class Found(list):
    """Candidates as (article id, position, score); equal when the refs are
    the same, in the same order, and the scores agree to float32 rounding
    (BLAS sums in another order for a few rows than for the whole matrix)."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, list) or len(self) != len(other):
            return False
        return all([h[:2] for h in mine] == [h[:2] for h in theirs]
                   and np.allclose([h[2] for h in mine], [h[2] for h in theirs], rtol=0, atol=1e-6)
                   for mine, theirs in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]


def plain(found: list) -> Found:
    return Found([[(c.ref.article_id, c.ref.position, c.score) for c in hits] for hits in found])


def uses_index(store: SQLiteStore) -> bool:
    snapshot = store._vector_snapshot()
    return snapshot.floor > 0


FILTERS = [Filters(), Filters(sources=("even",)), Filters(exclude_articles=("a7", "a19")),
           Filters(date_from=date(2020, 1, 3), date_to=date(2020, 1, 9))]


@pytest.mark.parametrize("filters", FILTERS)
def test_the_index_answers_what_exact_search_answers(store: SQLiteStore, filters: Filters) -> None:
    found = plain(store.vector_candidates(QUERIES, filters, 10))
    assert uses_index(store)
    assert found == exact(store.path, QUERIES, filters)


def test_one_query_at_a_time_too(store: SQLiteStore) -> None:
    for query in QUERIES:
        assert plain(store.vector_candidates(query[None, :], Filters(), 40)) == exact(store.path, query[None, :],
                                                                                      limit=40)


def test_the_index_file_is_as_readable_as_the_database(store: SQLiteStore) -> None:
    assert store.vector_index_path.stat().st_mode & 0o777 == store.path.stat().st_mode & 0o777


def test_the_process_holds_no_indexed_vectors(store: SQLiteStore) -> None:
    store.vector_candidates(QUERIES[:1], Filters(), 10)
    snapshot = store._vector_snapshot()
    assert snapshot.size == 0 and snapshot.floor == ARTICLES * SENTENCES  # sentence ids 1..600


def test_widening_and_the_exact_fallback_agree_with_exact_search(store: SQLiteStore,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(neighbours, "FILTERED_EXACT_ROWS", 0)  # filters go through the index
    monkeypatch.setattr(neighbours, "OVERSAMPLE", 1)
    monkeypatch.setattr(neighbours, "MAX_INDEX_CANDIDATES", 16)  # then the fallback reads rows from SQL
    monkeypatch.setattr(neighbours, "BUILD_BATCH_ROWS", 50)  # ... in several batches
    monkeypatch.setattr(neighbours, "FILTERED_ARTICLES_PER_BATCH", 7)
    filters = Filters(sources=("odd",), exclude_articles=tuple(f"a{i}" for i in range(1, 60, 2)))
    assert plain(store.vector_candidates(QUERIES, filters, 12)) == exact(store.path, QUERIES, filters, 12)


def test_rows_written_after_the_build_are_found(store: SQLiteStore) -> None:
    store.vector_candidates(QUERIES[:1], Filters(), 10)  # index and (empty) tail in use
    target = normalised(CENTRES[3] + rng.standard_normal(DIM))
    list(store.write_articles([article(900, np.stack([target] * 2))]))
    [hits] = store.vector_candidates(target[None, :], Filters(), 3)
    assert {h.ref for h in hits[:2]} == {SentenceRef("a900", 0), SentenceRef("a900", 1)}
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    snapshot = store._vector_snapshot()
    assert uses_index(store) and snapshot.size == 2  # only the tail is in memory
    assert plain(store.vector_candidates(QUERIES, Filters(), 10)) == exact(store.path, QUERIES)


def test_a_deleted_article_is_never_returned(store: SQLiteStore) -> None:
    query = vectors_of(7)[1][None, :]
    [before] = store.vector_candidates(query, Filters(), 10)
    assert before[0].ref == SentenceRef("a7", 1)
    store.delete_article("a7")
    [after] = store.vector_candidates(query, Filters(), 10)
    assert len(after) == 10 and all(c.ref.article_id != "a7" for c in after)
    assert plain([after]) == exact(store.path, query)
    for i in range(ARTICLES):  # nearly everything gone: the survivors still come back, exactly
        if i % 10 and i != 7:
            store.delete_article(f"a{i}")
    assert plain(store.vector_candidates(QUERIES, Filters(), 10)) == exact(store.path, QUERIES)
    assert {ref[0] for hits in plain(store.vector_candidates(QUERIES, Filters(), 50)) for ref in hits} <= {
        f"a{i}" for i in range(0, ARTICLES, 10)}


def damaged_copy(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "flipped":
        data[len(data) // 3] ^= 0xFF
    elif how == "truncated":
        data = data[:len(data) // 2]
    else:  # garbage
        data = bytearray(os.urandom(len(data)))
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["flipped", "truncated", "garbage"])
def test_a_damaged_index_is_ignored(store: SQLiteStore, how: str, caplog: pytest.LogCaptureFixture) -> None:
    damaged_copy(store.vector_index_path, how)
    reader = SQLiteStore(store.path)
    assert plain(reader.vector_candidates(QUERIES, Filters(), 10)) == exact(store.path, QUERIES)
    assert not uses_index(reader)
    assert "approximate vector index ignored" in caplog.text
    reader.close()
    assert store.refresh_vector_index().action == "built"  # the indexer replaces it


def test_an_index_of_another_epoch_is_ignored(store: SQLiteStore, tmp_path: Path) -> None:
    kept = tmp_path / "old.ann"
    shutil.copy(store.vector_index_path, kept)
    with store.rebuild() as fresh:  # new epoch, too small for an index: the old file goes
        list(fresh.write_articles(article(i) for i in range(10)))
    assert not store.vector_index_path.exists()
    shutil.copy(kept, store.vector_index_path)  # a stale file put back by hand
    list(store.write_articles(article(i) for i in range(10, 40)))  # now large enough again
    assert plain(store.vector_candidates(QUERIES, Filters(), 10)) == exact(store.path, QUERIES)
    assert not uses_index(store)
    assert store.refresh_vector_index().action == "built"
    assert plain(store.vector_candidates(QUERIES, Filters(), 10)) == exact(store.path, QUERIES)
    assert uses_index(store)


def test_an_index_newer_than_the_store_is_ignored(store: SQLiteStore, tmp_path: Path) -> None:
    store.close()
    older = tmp_path / "older.db"
    shutil.copy(store.path, older)  # a copy of the file before the next write
    list(store.write_articles([article(901)]))
    assert store.refresh_vector_index(force=True).action == "built"
    shutil.copy(store.vector_index_path, neighbours.sidecar_path(older))
    restored = SQLiteStore(older)  # the older file with the newer index beside it
    assert plain(restored.vector_candidates(QUERIES, Filters(), 10)) == exact(older, QUERIES)
    assert not uses_index(restored)
    restored.close()


def test_refresh_keeps_a_fresh_index_and_rebuilds_a_stale_one(store: SQLiteStore) -> None:
    assert store.refresh_vector_index().action == "kept"
    list(store.write_articles(article(i) for i in range(1000, 1010)))  # 40 rows: under a tenth of 600
    kept = store.refresh_vector_index()
    assert (kept.action, kept.written_since, kept.deleted_since) == ("kept", 40, 0)
    for i in range(20):
        store.delete_article(f"a{i}")  # 80 more rows: past a tenth
    rebuilt = store.refresh_vector_index()
    assert (rebuilt.action, rebuilt.indexed) == ("built", 600 + 40 - 80)
    assert plain(store.vector_candidates(QUERIES, Filters(), 10)) == exact(store.path, QUERIES)


def test_refresh_removes_the_index_below_the_threshold(store: SQLiteStore,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ann, "ANN_MIN_VECTORS", 10_000)
    assert store.refresh_vector_index().action == "removed"
    assert not store.vector_index_path.exists()
    assert store.refresh_vector_index().action == "none"
    assert plain(store.vector_candidates(QUERIES, Filters(), 10)) == exact(store.path, QUERIES)
    assert not uses_index(store)


def test_a_rebuild_brings_its_own_index(store: SQLiteStore) -> None:
    assert plain(store.vector_candidates(QUERIES, Filters(), 10)) == exact(store.path, QUERIES)
    old_epoch = store._vector_snapshot().token[0]
    with store.rebuild() as fresh:
        list(fresh.write_articles(article(i) for i in range(50, 200)))
        assert plain(store.vector_candidates(QUERIES, Filters(), 10)) == exact(store.path, QUERIES)
    assert not [p for p in store.path.parent.iterdir() if ".rebuild-" in p.name]
    assert plain(store.vector_candidates(QUERIES, Filters(), 10)) == exact(store.path, QUERIES)
    assert uses_index(store) and store._vector_snapshot().token[0] != old_epoch
    assert all(ref[0] not in {f"a{i}" for i in range(50)} for hits in plain(
        store.vector_candidates(QUERIES, Filters(), 50)) for ref in hits)


BUILDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import numpy as np
    from claimlookup.store import ann

    def batches():
        yield np.arange(1, 101), np.eye(100, 384, dtype=np.float32)
        print("building", flush=True)
        time.sleep(600)
        yield np.arange(101, 102), np.ones((1, 384), np.float32)

    ann.build(Path(sys.argv[1]), ("epoch", 1), np.eye(100, 384, dtype=np.float32), batches())
""")


def test_a_killed_build_leaves_the_old_index_and_its_temp_file_is_removed(store: SQLiteStore) -> None:
    before = store.vector_index_path.read_bytes()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    with subprocess.Popen([sys.executable, "-c", BUILDER, str(store.vector_index_path)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env) as child:
        assert child.stdout is not None and child.stderr is not None
        assert child.stdout.readline() == "building\n", child.stderr.read()
        temps = [p for p in store.path.parent.iterdir() if p.name.endswith(".tmp")]
        assert len(temps) == 1 and temps[0].name.startswith(f".{store.vector_index_path.name}-build-")
        store.setup()
        assert temps[0].exists()  # a live build keeps its file
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
    assert store.vector_index_path.read_bytes() == before
    assert plain(store.vector_candidates(QUERIES, Filters(), 10)) == exact(store.path, QUERIES)
    assert uses_index(store)
    store.setup()
    assert not temps[0].exists()


def test_the_indexer_builds_the_index_on_request(store: SQLiteStore, capsys: pytest.CaptureFixture[str]) -> None:
    from indexer import cli

    store.vector_index_path.unlink()
    url = f"sqlite:///{store.path}"
    assert cli.main(["--vector-index", "--store", url]) == cli.EXIT_OK
    assert capsys.readouterr().out.startswith("vector index: built: 600 vectors in ")
    assert plain(store.vector_candidates(QUERIES, Filters(), 10)) == exact(store.path, QUERIES)
    assert uses_index(store)
    assert cli.main(["--vector-index", "--reindex", "--store", url]) == cli.EXIT_USAGE
