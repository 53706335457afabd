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
from test_indexer_cli import count, indexer_command, opened, run_cli, sentence_counts, store_url, write_jsonl

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
    from claimlookup.embed import cached_model

    cached_model()  # the derived embedding model is written once, outside the limit
    db = tmp_path / "full.db"
    store = SQLiteStore(db)
    store.setup()
    store.close()
    started = time.monotonic()
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
    assert time.monotonic() - started < 150
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
