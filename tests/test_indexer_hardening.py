"""Issue 9, the indexer's share: a fatal store error ends the run (spaCy worker
processes or not), a lone surrogate costs one record, a killed ``--reindex``
leaves nothing behind after the next run, and ``--reindex`` keeps every article
written through the API (``POST /v1/articles``: ``ingest_one``).

Real parts throughout: the indexer as a subprocess or ``cli.main``, the real
SQLite store, spaCy and the embedder.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from contract.fixtures import extra_article
from test_indexer_cli import count, indexer_command, opened, run_cli, sentence_counts, store_url, write_jsonl

from claimlookup.model import Article, Filters, SearchRequest
from claimlookup.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]
FAKES_CSV = ROOT / "seeds" / "fa-kes" / "FA-KES-Dataset.csv"


# --- item 3: a full disk ends the run ----------------------------------------------------------


def _small_disk(limit_bytes: int):  # type: ignore[no-untyped-def]
    """A child whose files cannot grow past ``limit_bytes`` (RLIMIT_FSIZE): a
    write past it fails as on a full disk (EFBIG instead of a SIGXFSZ kill)."""
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return limit


@pytest.mark.slow
@pytest.mark.parametrize("processes", ["1", "2"])
def test_full_disk_ends_the_run_with_or_without_spacy_workers(processes: str, tmp_path: Path) -> None:
    """Before the fix, with worker processes the indexer printed the store
    error and then waited forever in Process.join."""
    db = tmp_path / "full.db"
    store = SQLiteStore(db)
    store.setup()
    store.close()
    process = subprocess.Popen(indexer_command(str(FAKES_CSV), "--store", store_url(db), "--processes", processes,
                                               "--quiet"),
                               cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               preexec_fn=_small_disk(1_500_000))
    try:
        _, err = process.communicate(timeout=150)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail("the indexer did not exit after the store failed (disk full)")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 1, err
    assert "store error" in err
    with pytest.raises(ProcessLookupError):  # no spaCy worker is left running
        os.killpg(process.pid, 0)

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    with opened(db) as reader:
        reader.integrity_check()  # type: ignore[attr-defined]  # FTS5 matches its tables
        written = reader.count_articles()
    assert 0 < written < 792
    assert min(sentence_counts(db).values()) >= 2  # every stored article is whole


# --- item 10: a lone surrogate costs its record only -----------------------------------------------


@pytest.mark.slow
def test_lone_surrogates_are_bad_records_reported_with_file_and_line(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    lines = [json.dumps({"id": "u:1", "title": "First", "body": "Twenty people were killed in Idlib."}),
             '{"id": "u:2", "title": "Bad body", "body": "Shelling \\ud800 in Aleppo."}',
             '{"id": "u:3\\udc00", "title": "Bad id", "body": "Shelling in Aleppo."}',
             '{"id": "u:4", "title": "Bad \\udfff title", "body": "Shelling in Homs."}',
             '{"id": "u:5", "source": "\\ud83d", "body": "A lone high half of an emoji."}',
             '{"id": "u:6", "title": "Emoji \\ud83d\\ude00", "body": "A surrogate pair is one character."}']
    path = write_jsonl(tmp_path / "s.jsonl", *lines)
    run = run_cli(str(path), "--store", store_url(db))
    assert run.status == 3, run.err
    assert f"{path}:2: field 'body' contains a lone surrogate (U+D800)" in run.err
    assert f"{path}:3: field 'id' contains a lone surrogate (U+DC00)" in run.err
    assert f"{path}:4: field 'title' contains a lone surrogate (U+DFFF)" in run.err
    assert f"{path}:5: field 'source' contains a lone surrogate (U+D83D)" in run.err
    assert "Traceback" not in run.err
    assert "2 new, 0 updated, 0 unchanged, 4 skipped" in run.out
    assert set(sentence_counts(db)) == {"u:1", "u:6"}
    with opened(db) as reader:
        assert reader.get_article("u:6").title == "Emoji \U0001f600"
    assert count(db) == 2


# --- item 11: a killed --reindex leaves nothing behind after the next run ---------------------------


def _rebuild_files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if ".rebuild-" in p.name}


@pytest.mark.slow
def test_next_run_removes_a_killed_rebuilds_files_but_not_a_live_ones(tmp_path: Path) -> None:
    from test_sqlite_store import kill_writer_after

    db = tmp_path / "k.db"
    kill_writer_after(db, 0, 20)
    kill_writer_after(db, 1, 40, mode="rebuild")  # SIGKILLed mid-rebuild
    dead = _rebuild_files(tmp_path)
    assert any(name.endswith(".db") for name in dead)
    live = SQLiteStore(db)
    with live.rebuild() as fresh:  # a concurrent rebuild, alive while the next run starts
        mine = _rebuild_files(tmp_path) - dead
        assert any(name.endswith(".db") for name in mine)
        path = write_jsonl(tmp_path / "n.jsonl", {"id": "n:1", "title": "Next", "body": "The next run."})
        run = run_cli(str(path), "--store", store_url(db))
        assert run.status == 0, run.err
        assert _rebuild_files(tmp_path) == mine  # the dead rebuild's files are gone, the live one's kept
        assert fresh.count_articles() == 0
    live.close()
    assert _rebuild_files(tmp_path) == set()


def test_rebuild_files_without_a_lock_file_are_removed_once_stale(tmp_path: Path) -> None:
    """Files that a rebuild of an older version (no lock files) left behind."""
    from claimlookup.store.sqlite import rebuilds

    store = SQLiteStore(tmp_path / "o.db")
    store.setup()
    old = [tmp_path / ".o.db.rebuild-abc123.db", tmp_path / ".o.db.rebuild-abc123.db-wal"]
    for path in old:
        path.write_bytes(b"x")
    store.setup()
    assert _rebuild_files(tmp_path) == {p.name for p in old}  # recent: might be a live rebuild of an old version
    stale = time.time() - rebuilds.ORPHAN_AGE_S - 1
    for path in old:
        os.utime(path, (stale, stale))
    store.setup()
    assert _rebuild_files(tmp_path) == set()
    store.close()


# --- item 6: --reindex keeps every article written through the API --------------------------------


@pytest.mark.slow
def test_reindex_keeps_articles_posted_through_the_api(tmp_path: Path) -> None:
    """Before: every article written by POST /v1/articles was gone after the swap."""
    from claimlookup.pipeline import ArticleRecord, ingest_one

    db = tmp_path / "p.db"
    first = write_jsonl(tmp_path / "a.jsonl", {"id": "f:1", "title": "Filed", "body": "Shelling in Homs."},
                        {"id": "f:2", "title": "Dropped", "body": "Shelling in Hama."},
                        {"id": "both", "title": "From a file", "body": "Shelling in Idlib."})
    assert run_cli(str(first), "--store", store_url(db)).status == 0
    with opened(db) as store:
        for i in range(3):
            ingest_one(store, ArticleRecord(id=f"api:{i}", title=f"Posted {i}", body=f"Desk report {i} from Aleppo."))
        ingest_one(store, ArticleRecord(id="f:1", title="Filed, corrected by the desk", body="Shelling in Homs."))
        ingest_one(store, ArticleRecord(id="both", title="Posted first", body="Shelling in Idlib, posted."))
    second = write_jsonl(tmp_path / "b.jsonl", {"id": "both", "title": "From a file", "body": "Shelling in Idlib."},
                         {"id": "f:3", "title": "New", "body": "Shelling in Deir ez-Zor."})
    run = run_cli(str(second), "--reindex", "--store", store_url(db))
    assert run.status == 0, run.err
    assert set(sentence_counts(db)) == {"api:0", "api:1", "api:2", "f:1", "both", "f:3"}
    with opened(db) as store:
        assert store.get_article("f:1").title == "Filed, corrected by the desk"  # its latest write was posted
        assert store.get_article("both").title == "From a file"  # the input wins over a post before the rebuild
        assert store.get_article("api:1").sentences[1].text == "Desk report 1 from Aleppo."
        store.integrity_check()  # type: ignore[attr-defined]
        [hit] = store.lexical_candidates(parse_query_terms("Desk report 2"), Filters(), 1)
        assert hit.ref.article_id == "api:2"
        assert store.vector_candidates(store.get_sentences([hit.ref])[0].sentence.vector[None, :],
                                       Filters(), 1)[0][0].ref == hit.ref  # vectors came along
    # a second reindex still carries them: the carried copies are marked posted
    assert run_cli(str(second), "--reindex", "--store", store_url(db)).status == 0
    assert {"api:0", "api:1", "api:2", "f:1"} <= set(sentence_counts(db))


def parse_query_terms(text: str):  # type: ignore[no-untyped-def]
    from claimlookup.query import parse_query

    return parse_query(text)


def _posted(store: SQLiteStore, *articles: Article) -> None:
    list(store.write_articles(articles, posted=True))


def test_posts_and_deletes_during_a_rebuild_are_kept(tmp_path: Path) -> None:
    live = SQLiteStore(tmp_path / "d.db")
    live.setup()
    _posted(live, extra_article("gone", "kite"), extra_article("old", "drum"))
    list(live.write_articles([extra_article("file", "tent")]))
    api = SQLiteStore(live.path)  # the API's own store object (another process in production)
    with live.rebuild() as fresh:
        list(fresh.write_articles([extra_article("rebuilt", "harp"), extra_article("old", "flute")]))
        _posted(api, extra_article("during", "oboe"), extra_article("rebuilt", "lute"))
        api.delete_article("gone")
        list(api.write_articles([extra_article("indexed-during", "horn")]))  # the indexer's: lost by design
    ids = {hit.article_id for hit in live.search(SearchRequest(size=50, facets=False)).hits}
    assert ids == {"rebuilt", "old", "during"}
    assert "lute" in live.get_article("rebuilt").title  # posted during the rebuild: newer than the input
    assert "flute" in live.get_article("old").title  # posted before it: the input wins
    live.integrity_check()
    api.close()
    live.close()


def test_a_post_after_the_first_carry_pass_is_carried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live = SQLiteStore(tmp_path / "c.db")
    live.setup()
    api = SQLiteStore(live.path)
    real_optimize = SQLiteStore.optimize

    def post_then_optimize(self: SQLiteStore) -> None:  # runs between the two passes
        _posted(api, extra_article("late", "cello"))
        api.delete_article("early")
        real_optimize(self)

    with live.rebuild() as fresh:
        _posted(api, extra_article("early", "viola"))
        list(fresh.write_articles([extra_article("rebuilt", "harp")]))
        monkeypatch.setattr(SQLiteStore, "optimize", post_then_optimize)
    assert {hit.article_id for hit in live.search(SearchRequest(size=50, facets=False)).hits} == {"rebuilt", "late"}
    api.close()
    live.close()


def test_writes_during_the_swap_are_refused_as_store_unavailable(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from claimlookup.store import StoreUnavailable
    from claimlookup.store.base import StoreRebuilding

    live = SQLiteStore(tmp_path / "w.db")
    live.setup()
    _posted(live, extra_article("kept", "kite"))
    api = SQLiteStore(live.path)
    real_replace = SQLiteStore._replace_with
    refused: list[StoreUnavailable] = []

    def write_then_replace(self: SQLiteStore, source: Path) -> None:  # the swap window
        for attempt in (lambda: _posted(api, extra_article("swap", "gong")), lambda: api.delete_article("kept")):
            with pytest.raises(StoreUnavailable) as caught:
                attempt()
            refused.append(caught.value)
        real_replace(self, source)

    monkeypatch.setattr(SQLiteStore, "_replace_with", write_then_replace)
    with live.rebuild() as fresh:
        list(fresh.write_articles([extra_article("rebuilt", "harp")]))
    assert len(refused) == 2 and all(isinstance(e, StoreRebuilding) for e in refused)
    assert {hit.article_id for hit in live.search(SearchRequest(size=50, facets=False)).hits} == {"rebuilt", "kept"}
    _posted(api, extra_article("after", "bell"))  # writes go through again once the swap committed
    api.delete_article("kept")
    assert api.count_articles() == 2
    api.close()
    live.close()
