"""``claimlookup-index`` end to end: real SQLite store in a temp dir, real spaCy
model, real embedder.

The whole corpus (five seeds + FA-KES) is indexed once per test session
(``full_run``: conftest.py ``default_corpus``, shared with test_lookup_default)
and then a second time (everything unchanged); the kill test indexes the seeds
and a prefix of FA-KES and compares its recovered store with that clean run.
The other tests use small inputs.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import Run, run_cli

from claimlookup.pipeline import PARALLEL_MIN_ARTICLES
from claimlookup.store import Store, open_store
from indexer import cli

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
#: FA-KES: 804 rows; 9 unit_ids repeat (12 extra rows, one with different content) -> 792 articles.
FAKES_ARTICLES = 792
FAKES_DUPLICATES = 12
ALL_ARTICLES = 5 + FAKES_ARTICLES




def store_url(path: Path) -> str:
    return f"sqlite:///{path}"


@contextlib.contextmanager
def opened(path: Path) -> Iterator[Store]:
    store = open_store(store_url(path))
    try:
        yield store
    finally:
        store.close()


def count(path: Path) -> int:
    with opened(path) as store:
        return store.count_articles()


def sentence_counts(path: Path) -> dict[str, int]:
    """Article id -> number of stored sentences (0 for an article without any)."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT a.id, count(s.id) FROM articles a LEFT JOIN sentences s ON s.article = a.pk "
                            "GROUP BY a.pk")
        return dict(rows.fetchall())


def write_jsonl(path: Path, *objects: dict | str) -> Path:
    lines = [o if isinstance(o, str) else json.dumps(o) for o in objects]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- the whole corpus, twice -----------------------------------------------------------


@pytest.fixture
def full_run(default_corpus: tuple[Path, Run]) -> tuple[Path, Run]:
    """The whole corpus indexed once per test session (conftest.py ``default_corpus``)."""
    return default_corpus


@pytest.mark.slow
def test_seeds_and_fakes_indexed_twice_second_run_all_unchanged(full_run: tuple[Path, Run]) -> None:
    db, first = full_run
    assert first.status == 0, first.err
    assert (f"indexed: {ALL_ARTICLES} new, 0 updated, 0 unchanged, 0 skipped, "
            f"{FAKES_DUPLICATES} duplicate articles") in first.out
    assert count(db) == ALL_ARTICLES
    fakes = SEEDS / "fa-kes" / "FA-KES-Dataset.csv"
    assert (f"{fakes}:492: duplicate id 'fa-kes:1926479112' (different content; the first is kept; "
            f"first at {fakes}:491) (note)") in first.err
    assert f"{SEEDS / 'README.md'}: ignored: unknown extension '.md' (note)" in first.err
    assert min(sentence_counts(db).values()) >= 2  # title + at least one body sentence

    second = run_cli(str(SEEDS), "--store", store_url(db))
    assert second.status == 0, second.err
    assert (f"indexed: 0 new, 0 updated, {ALL_ARTICLES} unchanged, 0 skipped, "
            f"{FAKES_DUPLICATES} duplicate articles") in second.out
    assert "written: 0 sentences" in second.out
    assert count(db) == ALL_ARTICLES


# --- kill test ------------------------------------------------------------------------------


def indexer_command(*args: str) -> list[str]:
    """The installed console script if there is one, else the same entry point via -m."""
    script = Path(sys.executable).with_name("claimlookup-index")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "indexer.cli", *args]


@pytest.mark.slow
def test_sigkill_midway_leaves_a_consistent_store_and_a_rerun_completes(full_run: tuple[Path, Run],
                                                                         tmp_path: Path) -> None:
    clean_db, clean_run = full_run
    assert clean_run.status == 0, clean_run.err
    clean = sentence_counts(clean_db)
    source, fakes_ids = corpus_prefix(tmp_path / "input", KILL_TEST_ROWS)
    expected = {i: n for i, n in clean.items() if not i.startswith("fa-kes:") or i in fakes_ids}
    db = tmp_path / "killed.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(indexer_command(str(source), "--store", store_url(db), "--quiet"), cwd=ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        written = wait_for_articles(db, process, at_least=60, timeout_s=900)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        stop_group(process)
    assert process.returncode == -signal.SIGKILL
    assert written < len(expected)

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    with opened(db) as store:
        store.integrity_check()  # type: ignore[attr-defined]  # FTS5 indexes match their tables
        survivors = store.count_articles()
    killed = sentence_counts(db)
    assert survivors >= written and min(killed.values()) >= 2
    assert all(killed[i] == expected[i] for i in killed), "an article was stored with part of its sentences"

    rerun = subprocess.run(indexer_command(str(source), "--store", store_url(db)), cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=1800)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(expected) - survivors} new, 0 updated, {survivors} unchanged" in rerun.stdout
    assert sentence_counts(db) == expected, "the rerun stores what a clean run of the same input stores"


#: FA-KES rows the kill test indexes (a prefix of the file): enough that the
#: kill lands mid-run and the indexer starts its spaCy worker processes (which
#: the kill takes down with it), few enough that the rerun is quick.
KILL_TEST_ROWS = 200
assert 5 + KILL_TEST_ROWS >= PARALLEL_MIN_ARTICLES


def corpus_prefix(folder: Path, rows: int) -> tuple[Path, set[str]]:
    """``folder`` with the five seeds and the first ``rows`` records of
    FA-KES, byte for byte as in ``seeds/`` (same file name, so the same ids),
    and the ids of those FA-KES records."""
    (folder / "fa-kes").mkdir(parents=True)
    for seed in SEEDS.glob("*.txt"):
        (folder / seed.name).write_bytes(seed.read_bytes())
    original = SEEDS / "fa-kes" / "FA-KES-Dataset.csv"
    lines = original.read_bytes().decode("utf-8", "surrogateescape").splitlines(keepends=True)
    reader = csv.DictReader(iter(lines))
    ids = {f"fa-kes:{row['unit_id']}" for row in itertools.islice(reader, rows)}
    (folder / "fa-kes" / original.name).write_bytes("".join(lines[:reader.line_num]).encode("utf-8", "surrogateescape"))
    return folder, ids


def wait_for_articles(db: Path, process: subprocess.Popen, at_least: int, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        if db.exists():
            with contextlib.suppress(sqlite3.Error), sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                written = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
                if written >= at_least:
                    return written
        time.sleep(0.2)
    raise AssertionError(f"fewer than {at_least} articles written in {timeout_s} s")


def stop_group(process: subprocess.Popen) -> None:
    """Kill what is left of the indexer's own process group (its spaCy workers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:
        process.wait(timeout=30)
    if process.stderr:
        process.stderr.close()


# --- smaller runs ------------------------------------------------------------------------------


@pytest.mark.slow
def test_bad_inputs_reported_with_file_and_line_good_ones_indexed(tmp_path: Path) -> None:
    db = tmp_path / "i.db"
    feed = write_jsonl(tmp_path / "feed.jsonl",
                       {"id": "w:1", "title": "Strike", "body": "Russia denied the strike."},
                       '{"id": "w:2", "body": ',
                       {"id": "w:3", "title": "No body"},
                       {"id": "w:4", "body": "B.", "published": "yesterday"},
                       {"id": "w:5", "title": "Empty", "body": "  "},
                       {"id": "w:6", "title": "Ceasefire", "body": "Turkey called for a ceasefire."})
    table = tmp_path / "table.csv"
    table.write_bytes(b"id,title,body\n1,Fine,Fine body.\n2,Bad,Bad \xff byte.\n")
    run = run_cli(str(feed), str(table), "--store", store_url(db))
    assert run.status == cli.EXIT_SKIPPED
    assert f"{feed}:2: malformed JSON" in run.err
    assert f"{feed}:3: missing required field 'body'" in run.err
    assert f"{feed}:4: bad date 'yesterday'" in run.err
    assert f"{feed}:5: empty body" in run.err
    assert f"{table}:3: undecodable bytes (not UTF-8): row skipped" in run.err
    assert "indexed: 3 new, 0 updated, 0 unchanged, 5 skipped, 0 duplicate articles" in run.out
    with opened(db) as store:
        assert {store.get_article(i).title for i in ("w:1", "w:6", "table:1")} == {"Strike", "Ceasefire", "Fine"}


@pytest.mark.slow
def test_duplicates_in_one_input_reported_indexed_once(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    feed = write_jsonl(tmp_path / "dup.jsonl",
                       {"id": "d:1", "title": "One", "body": "First version."},
                       {"id": "d:1", "title": "One", "body": "First version."},
                       {"id": "d:1", "title": "One", "body": "Second version."})
    run = run_cli(str(feed), "--store", store_url(db))
    assert run.status == 0
    assert "1 new, 0 updated, 0 unchanged, 0 skipped, 2 duplicate articles" in run.out
    assert f"{feed}:2: duplicate id 'd:1' (same content; first at {feed}:1) (note)" in run.err
    assert f"{feed}:3: duplicate id 'd:1' (different content; the first is kept; first at {feed}:1)" in run.err
    with opened(db) as store:
        assert store.count_articles() == 1 and store.get_article("d:1").body == "First version."


@pytest.mark.slow
def test_changed_file_updates_the_article(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    feed = write_jsonl(tmp_path / "f.jsonl", {"id": "c:1", "title": "T", "body": "Old text about Idlib."})
    assert run_cli(str(feed), "--store", store_url(db)).status == 0
    write_jsonl(feed, {"id": "c:1", "title": "T", "body": "New text about Aleppo."})
    run = run_cli(str(feed), "--store", store_url(db))
    assert "0 new, 1 updated, 0 unchanged" in run.out
    with opened(db) as store:
        assert [s.text for s in store.get_article("c:1").sentences] == ["T", "New text about Aleppo."]


@pytest.mark.slow
def test_delete_by_id(tmp_path: Path) -> None:
    db = tmp_path / "del.db"
    feed = write_jsonl(tmp_path / "f.jsonl", {"id": "x:1", "title": "A", "body": "A body."},
                       {"id": "x:2", "title": "B", "body": "B body."})
    assert run_cli(str(feed), "--store", store_url(db), "--quiet").status == 0
    run = run_cli("--delete", "x:1", "--store", store_url(db))
    assert (run.status, run.out) == (0, "deleted x:1\n")
    assert count(db) == 1 and sentence_counts(db) == {"x:2": 2}
    missing = run_cli("--delete", "x:1", "--store", store_url(db))
    assert missing.status == cli.EXIT_FATAL
    assert "no article with id 'x:1'" in missing.err


@pytest.mark.slow
def test_reindex_swaps_in_a_fresh_index(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    old = write_jsonl(tmp_path / "old.jsonl", {"id": "r:1", "title": "A", "body": "A body."},
                      {"id": "r:2", "title": "B", "body": "B body."})
    assert run_cli(str(old), "--store", store_url(db)).status == 0
    with opened(db) as reader:  # a reader open across the swap sees the new index afterwards
        assert reader.count_articles() == 2
        new = write_jsonl(tmp_path / "new.jsonl", {"id": "r:2", "title": "B", "body": "B body, revised."},
                          {"id": "r:3", "title": "C", "body": "C body."})
        run = run_cli(str(new), "--reindex", "--store", store_url(db))
        assert run.status == 0, run.err
        assert "reindexed: 2 new, 0 updated, 0 unchanged" in run.out
        assert reader.count_articles() == 2
        assert reader.get_article("r:2").body == "B body, revised."
    assert set(sentence_counts(db)) == {"r:2", "r:3"}
    assert not list(tmp_path.glob(".r.db.rebuild-*"))


@pytest.mark.slow
def test_failed_reindex_keeps_the_old_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "r.db"
    old = write_jsonl(tmp_path / "old.jsonl", {"id": "k:1", "title": "A", "body": "A body."})
    assert run_cli(str(old), "--store", store_url(db)).status == 0
    from claimlookup.store import StoreUnavailable

    real_ingest = cli.ingest

    def failing(store, records, **kwargs):  # type: ignore[no-untyped-def]
        real_ingest(store, records, **kwargs)
        raise StoreUnavailable("disk went away")

    monkeypatch.setattr(cli, "ingest", failing)
    new = write_jsonl(tmp_path / "new.jsonl", {"id": "k:2", "title": "B", "body": "B body."})
    run = run_cli(str(new), "--reindex", "--store", store_url(db))
    assert run.status == cli.EXIT_FATAL and "disk went away" in run.err
    assert set(sentence_counts(db)) == {"k:1"}


@pytest.mark.slow
def test_stdin_jsonl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "s.db"
    data = json.dumps({"id": "s:1", "title": "From stdin", "body": "Piped body."}) + "\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data.encode())))
    run = run_cli("-", "--format", "jsonl", "--store", store_url(db))
    assert run.status == 0 and "1 new" in run.out
    assert sentence_counts(db) == {"s:1": 2}


@pytest.mark.slow
def test_store_url_from_environment_and_quiet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "env" / "e.db"
    monkeypatch.setenv("CLAIMLOOKUP_STORE_URL", store_url(db))
    feed = write_jsonl(tmp_path / "f.jsonl", {"id": "e:1", "title": "T", "body": "B."}, "{oops")
    run = run_cli(str(feed), "--quiet")
    assert run.status == cli.EXIT_SKIPPED
    assert run.out == ""
    assert run.err.strip().startswith(f"{feed}:2: malformed JSON")
    assert count(db) == 1


def test_progress_bar_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    db = tmp_path / "p.db"
    feed = write_jsonl(tmp_path / "f.jsonl", "{bad", "{bad")
    status = cli.main([str(feed), "--store", store_url(db)])
    assert status == cli.EXIT_SKIPPED
    assert "2/2" in terminal.getvalue() and "article" in terminal.getvalue()


# --- usage and fatal errors (no model needed) ---------------------------------------------------


def test_help_documents_formats_options_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(["--help"])
    assert raised.value.code == 0
    text = capsys.readouterr().out
    for needle in ("--store", "--format", "--csv-id-column", "--csv-title-column", "--csv-body-column",
                   "--csv-source-column", "--csv-date-column", "--csv-date-format", "--csv-url-column",
                   "--id-prefix", "--processes", "--reindex", "--delete", "--sweep", "--quiet", "published",
                   "language",
                   "body       (required)", "fa-kes:1914947530", "exit status", "CLAIMLOOKUP_STORE_URL"):
        assert needle in text, needle


@pytest.mark.parametrize("args", [
    [],
    ["does/not/exist.jsonl"],
    ["--store", "mysql://x", "seeds"],
    ["seeds", "--delete", "x:1"],
    ["--reindex", "--delete", "x:1"],
    ["-", "-"],
    ["--sweep", "seeds"],
    ["--sweep", "--delete", "x:1"],
    ["--sweep", "--reindex"],
])
def test_usage_errors_exit_2(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("CLAIMLOOKUP_STORE_URL", store_url(tmp_path / "u.db"))
    run = run_cli(*args)
    assert run.status == cli.EXIT_USAGE
    assert "claimlookup-index: error:" in run.err
    assert not (tmp_path / "u.db").exists()


@pytest.mark.parametrize("args", [["--processes", "0", "x"], ["--format", "xml", "x"], ["--bogus"]])
def test_bad_options_exit_2(args: list[str]) -> None:
    with pytest.raises(SystemExit) as raised, contextlib.redirect_stderr(io.StringIO()):
        cli.main(args)
    assert raised.value.code == cli.EXIT_USAGE


def test_unavailable_store_is_fatal(tmp_path: Path) -> None:
    feed = write_jsonl(tmp_path / "f.jsonl", {"body": "B."})
    directory = tmp_path / "a-directory.db"
    directory.mkdir()
    run = run_cli(str(feed), "--store", store_url(directory))
    assert run.status == cli.EXIT_FATAL and "store error" in run.err


def test_corrupt_store_is_fatal(tmp_path: Path) -> None:
    feed = write_jsonl(tmp_path / "f.jsonl", {"body": "B."})
    db = tmp_path / "corrupt.db"
    db.write_bytes(b"this is not a database" * 100)
    run = run_cli(str(feed), "--store", store_url(db))
    assert run.status == cli.EXIT_FATAL and "store error" in run.err


# --- the leftover sweep ---------------------------------------------------------------------------


def test_sweep_on_sqlite_has_nothing_to_sweep(tmp_path: Path) -> None:
    db = tmp_path / "sweep.db"
    run = run_cli("--sweep", "--store", store_url(db))
    assert (run.status, run.err) == (cli.EXIT_OK, "")
    assert run.out.startswith("nothing to sweep: the SQLite store writes each article in one transaction")
    assert not db.exists()  # not even opened


@pytest.fixture
def fake_es(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A scripted Elasticsearch node behind the real client (test_elastic_unit), and no ES_* settings."""
    from test_elastic_unit import FakeElasticsearch, bind_fake

    from claimlookup.settings import Settings

    for variable in Settings.variables().values():
        if variable.startswith("CLAIMLOOKUP_ES_"):
            monkeypatch.delenv(variable, raising=False)
    fake = FakeElasticsearch()
    bind_fake(monkeypatch, fake)
    return fake


def script_leftovers(fake: Any) -> None:
    """One leftover generation (a:old; a committed "new") and nothing else; its delete removes 3 sentences."""
    from test_elastic_unit import DBQ_OK, composite_page, mget_response

    fake.on("POST", "/claimlookup-sentences/_search", composite_page([("a", "new"), ("a", "old")]))
    fake.on("POST", "/claimlookup-articles/_mget", mget_response(
        "claimlookup-articles", [("a", {"article_id": "a", "content_hash": "new"})]))
    fake.on("POST", "/claimlookup-sentences/_delete_by_query", DBQ_OK | {"total": 3, "deleted": 3})


def test_sweep_on_elasticsearch_waits_the_grace_and_prints_what_it_removed(
        fake_es: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    script_leftovers(fake_es)
    slept: list[float] = []
    monkeypatch.setattr(cli, "sleep", slept.append)
    run = run_cli("--sweep", "--store", "http://es.test:9200")
    assert (run.status, run.out) == (cli.EXIT_OK, "removed 3 leftover sentences\n")
    assert "1 uncommitted generation(s) of 1 article(s); waiting 300 s" in run.err
    assert len(slept) == 1 and 299 < slept[0] <= 300
    assert [path for _, path in fake_es.calls()] == ["/claimlookup-sentences/_search", "/claimlookup-articles/_mget",
                                                     "/claimlookup-articles/_mget",
                                                     "/claimlookup-sentences/_delete_by_query"]
    assert fake_es.requests[-1].body["query"]["bool"]["should"] == [{"bool": {"filter": [
        {"term": {"article_id": "a"}}, {"term": {"article_hash": "old"}}]}}]


def test_an_index_run_on_elasticsearch_removes_the_leftovers_it_found_when_it_started(
        fake_es: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_elastic_unit import ACKED

    fake_es.on("HEAD", "/claimlookup-articles", (200, None))
    fake_es.on("PUT", "/claimlookup-articles/_mapping", ACKED)
    fake_es.on("PUT", "/claimlookup-sentences/_mapping", ACKED)  # setup adds quantities.scope in place
    fake_es.on("HEAD", "/claimlookup-sentences", (200, None))
    script_leftovers(fake_es)
    slept: list[float] = []

    def waited(seconds: float) -> None:  # the run's own work took most of the grace already
        slept.append(seconds)

    clock = iter([1000.0, 1290.0])  # found at 1000 s, the run ends at 1290 s: 10 s of grace left
    monkeypatch.setattr(cli, "monotonic", lambda: next(clock))
    monkeypatch.setattr(cli, "sleep", waited)
    feed = write_jsonl(tmp_path / "f.jsonl", "{oops")  # nothing to analyse: no model is loaded
    run = run_cli(str(feed), "--store", "http://es.test:9200")
    assert run.status == cli.EXIT_SKIPPED
    assert slept == [10.0]
    assert "leftovers: removed 3 sentences of crashed writes" in run.out
    paths = [path for _, path in fake_es.calls()]
    first = paths.index("/claimlookup-sentences/_search")  # phase one, right after setup, before indexing
    assert set(paths[:first]) <= {"/claimlookup-articles", "/claimlookup-sentences", "/claimlookup-articles/_mapping",
                                  "/claimlookup-sentences/_mapping"}
    assert paths[first + 1] == "/claimlookup-articles/_mget"
    assert paths[-2:] == ["/claimlookup-articles/_mget", "/claimlookup-sentences/_delete_by_query"]


def test_console_script_is_declared() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'claimlookup-index = "indexer.cli:main"' in text


def test_the_summary_names_the_ids_it_wrote_and_verbose_lists_each(tmp_path: Path) -> None:
    """A user who indexed one file sees the ids it got (issue 10): in the
    summary when few, one per line with status and origin with --verbose."""
    db = tmp_path / "ids.db"
    first = write_jsonl(tmp_path / "a.jsonl", {"article_id": "desk:1", "title": "Strike", "body": "Jets hit Idlib."},
                        {"title": "No id given", "body": "Shelling in Hama killed five people."})
    run = run_cli(str(first), "--store", store_url(db))
    assert run.status == 0, run.err
    ids_line = next(line for line in run.out.splitlines() if line.startswith("ids: "))
    assert ids_line.startswith("ids: desk:1 (new), h:") and ids_line.endswith(" (new)")
    first.write_text(json.dumps({"article_id": "desk:1", "title": "Strike", "body": "Jets hit Idlib again."}) + "\n")
    verbose = run_cli(str(first), "--store", store_url(db), "--verbose")
    assert verbose.out.splitlines()[0] == f"updated desk:1 ({first}:1)"
    assert "ids: " not in verbose.out
