"""SQLite-only behaviour: FTS5 quoting, URLs, error translation, crash safety,
cross-process vector sync, threads. The shared behaviour is in tests/contract/."""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from contract.fixtures import CONVOY, Line, build_article, corpus, extra_article, unit

from claimlookup.model import (
    Article,
    Filters,
    ParsedQuery,
    Quantity,
    SearchRequest,
    SentenceRef,
    StoredSentence,
    Term,
)
from claimlookup.query import parse_query
from claimlookup.store import ArticleNotFound, StoreCorrupt, StoreError, StoreUnavailable, open_store
from claimlookup.store.sqlite import SQLiteStore, fts_expression, fts_phrase, markup

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "claimlookup.db")
    store.setup()
    yield store
    store.close()


@pytest.fixture
def loaded(store: SQLiteStore) -> SQLiteStore:
    list(store.write_articles(corpus()))
    return store


def raw(store: SQLiteStore) -> sqlite3.Connection:
    """A plain connection for looking behind the adapter."""
    return sqlite3.connect(store.path)


# --- FTS5 quoting ---------------------------------------------------------------


@pytest.mark.parametrize(("text", "quoted"), [
    ("market", '"market"'),
    ("vegetable market", '"vegetable market"'),
    ('say "no"', '"say ""no"""'),
    ('"', '""""'),
    ("", '""'),
    ("NEAR(a b)", '"NEAR(a b)"'),
    ("a*", '"a*"'),
    ("title:x", '"title:x"'),
    ("a\x00b", '"a b"'),
    ("AND", '"AND"'),
])
def test_fts_phrase(text: str, quoted: str) -> None:
    assert fts_phrase(text) == quoted


@pytest.mark.parametrize(("query", "expression"), [
    (ParsedQuery(), None),
    (parse_query("a"), '("a")'),
    (parse_query("a b"), '("a") AND ("b")'),
    (parse_query('a OR "b c" d'), '("a" OR "b c") AND ("d")'),
    (parse_query('a -b -"c d"'), '(("a")) NOT ("b" OR "c d")'),
    (ParsedQuery(groups=((), (Term("x"),))), '("x")'),
    (ParsedQuery(groups=((Term('x" OR "y'),),)), '("x"" OR ""y")'),
])
def test_fts_expression(query: ParsedQuery, expression: str | None) -> None:
    assert fts_expression(query) == expression


def test_markup_escapes_then_marks() -> None:
    assert markup("<b>\ue000x&y\ue001</b> 'q\"") == "&lt;b&gt;<mark>x&amp;y</mark>&lt;/b&gt; &#x27;q&quot;"


def test_stored_text_cannot_fake_mark_tags(store: SQLiteStore) -> None:
    article = build_article(30, "markers", Line("Fake \ue000zeppelin\ue001 title"),
                            [Line("A \ue001zeppelin\ue000 & <b>bold</b>.")], source="S", published=None)
    list(store.write_articles([article]))
    for level in ("article", "sentence"):
        for hit in store.search(SearchRequest(query=parse_query("zeppelin"), level=level)).hits:
            assert hit.snippet.count("<mark>") == hit.snippet.count("</mark>") == 1
            assert "\ufffd" in hit.snippet
    assert store.get_article("markers").sentences[1].text == "A \ufffdzeppelin\ufffd & <b>bold</b>."


# --- lexical candidates ------------------------------------------------------------------


def test_unfiltered_lexical_candidates_equal_the_filtered_plan(loaded: SQLiteStore) -> None:
    """Without filters FTS5 ranks and cuts before the joins; with a filter
    that leaves nothing out the joins come first. Same rows, same order, same
    scores, ties (equal bm25) broken by sentence id in both, at every limit."""
    query = ParsedQuery(groups=((Term("market"), Term("jets"), Term("convoy"), Term("killed"), Term("the")),))
    nothing_out = Filters(exclude_articles=("no-such-article",))
    full = loaded.lexical_candidates(query, nothing_out, 100)
    assert len(full) > 8 and len({c.ref.article_id for c in full}) > 2
    assert len({c.score for c in full}) < len(full)  # ties: "the" alone scores alike
    for limit in range(1, len(full) + 2):
        assert loaded.lexical_candidates(query, Filters(), limit) == full[:limit]


@pytest.mark.parametrize("q", ["the", "market strike", "russian -convoy", '"vegetable market"', "homs", "walnut"])
def test_article_search_without_filters_equals_the_joined_plan(loaded: SQLiteStore, q: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Article-level search without filters counts, ranks and cuts in FTS5
    alone; a filter that leaves nothing out takes the joined plan. Same
    totals, pages (ties included, across page boundaries) and facets (the
    entity facet over a sample of the best 2 hits, so that one is cut too)."""
    from claimlookup.store.sqlite import search as search_module

    monkeypatch.setattr(search_module, "ENTITY_FACET_SAMPLE", 2)
    # Four articles of the same text (bm25 ties) naming different places, so
    # that which two the entity facet samples shows in its counts.
    list(loaded.write_articles([
        build_article(20 + i, f"walnut-{i}", Line("Report about walnut"),
                      [Line("The walnut was seen in Homs.", [("Homs", "GPE", f"place-{i}")])],
                      source="AFP", published=date(2018, 1, 1)) for i in range(4)]))
    nothing_out = Filters(exclude_articles=("no-such-article",))
    for size in (1, 2, 10):
        for page in (1, 2, 3):
            fast = loaded.search(SearchRequest(query=parse_query(q), size=size, page=page))
            joined = loaded.search(SearchRequest(query=parse_query(q), size=size, page=page, filters=nothing_out))
            assert fast == joined, (q, size, page)
    assert loaded.search(SearchRequest(query=parse_query("the"))).total > 3
    assert len({h.score for h in loaded.search(SearchRequest(query=parse_query("walnut"))).hits}) == 1


# --- entity forms ------------------------------------------------------------------------


def test_entity_forms_are_remembered_for_one_snapshot_only(store: SQLiteStore) -> None:
    """Search facets and the catalogue name an entity as most articles write
    it; the memo of those forms lives for one snapshot, so the next write's
    articles change the name and label at once."""
    def homs_article(article_id: str, written: str, label: str) -> Article:
        return build_article(30, article_id, Line(f"Shelling near {written}"),
                             [Line(f"Shells fell on {written} at dawn.", [(written, label, "homs")])],
                             source="AFP", published=date(2018, 1, 1))

    def forms() -> tuple[tuple[str | None, str | None], tuple[str, str]]:
        facet = next(f for f in store.search(SearchRequest(query=parse_query("shells"))).facets.entities
                     if f.value == "homs")
        listed = next(e for e in store.entities("hom") if e.key == "homs")
        return (facet.name, facet.label), (listed.name, listed.label)

    list(store.write_articles([homs_article("homs-1", "Homs", "GPE")]))
    assert forms() == (("Homs", "GPE"), ("Homs", "GPE"))
    assert forms() == (("Homs", "GPE"), ("Homs", "GPE"))  # served from the memo: the same
    list(store.write_articles([homs_article("homs-2", "HOMS", "LOC"), homs_article("homs-3", "HOMS", "LOC")]))
    assert forms() == (("HOMS", "LOC"), ("HOMS", "LOC"))


# --- URLs and construction ------------------------------------------------------------


def test_open_store_sqlite_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = open_store("sqlite:///data/x.db")
    assert isinstance(relative, SQLiteStore) and relative.path == Path("data/x.db")
    absolute = open_store(f"sqlite:///{tmp_path}/y.db")
    assert isinstance(absolute, SQLiteStore) and absolute.path == tmp_path / "y.db"
    assert list(tmp_path.iterdir()) == []  # nothing created


def test_open_store_http_is_elasticsearch() -> None:
    store = open_store("http://localhost:9200")
    assert type(store).__name__ == "ElasticStore"
    assert type(open_store("https://es.example.org:9243")).__name__ == "ElasticStore"


@pytest.mark.parametrize("url", ["", "sqlite://", "sqlite:///", "sqlite:///dir/", "postgres://host/db",
                                 "http://", "file:///x.db", "data/claimlookup.db"])
def test_open_store_rejects(url: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        open_store(url)


def test_missing_file_is_unavailable_and_not_created(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "nowhere" / "x.db")
    with pytest.raises(StoreUnavailable):
        store.ping()
    with pytest.raises(StoreUnavailable):
        store.count_articles()
    assert not (tmp_path / "nowhere").exists()


def test_file_without_tables_is_unavailable(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "empty.db").close()
    with pytest.raises(StoreUnavailable, match="no such table"):
        SQLiteStore(tmp_path / "empty.db").count_articles()


def test_garbage_file_is_corrupt(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"this is not a database" * 500)
    with pytest.raises(StoreCorrupt):
        SQLiteStore(tmp_path / "junk.db").count_articles()


def test_unusable_directory_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StoreUnavailable):
        SQLiteStore(tmp_path / "file" / "x.db").setup()


def test_errors_chain_the_cause(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable) as missing:
        SQLiteStore(tmp_path / "missing.db").ping()
    assert isinstance(missing.value.__cause__, FileNotFoundError)
    sqlite3.connect(tmp_path / "empty.db").close()
    with pytest.raises(StoreUnavailable) as empty:
        SQLiteStore(tmp_path / "empty.db").ping()
    assert isinstance(empty.value.__cause__, sqlite3.OperationalError)


def test_setup_refuses_another_schema_version(store: SQLiteStore) -> None:
    with raw(store) as conn:
        conn.execute("UPDATE meta SET value = 1 WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 1"):
        SQLiteStore(store.path).setup()


def cumulative_article() -> Article:
    toll = Quantity(320000, "more than 320000 people", "people", "killed", "at_least", 9, 32, "cumulative")
    return build_article(21, "war-toll", Line("War toll"),
                         [Line("The war has left more than 320000 people dead.", [], [toll])],
                         source="AFP", published=date(2018, 1, 1))


def test_a_quantity_keeps_its_scope(store: SQLiteStore) -> None:
    list(store.write_articles([cumulative_article()]))
    [toll] = store.get_article("war-toll").sentences[1].quantities
    assert toll.scope == "cumulative"
    [stored] = store.get_sentences([SentenceRef("war-toll", 1)])
    assert [q.scope for q in stored.sentence.quantities] == ["cumulative"]


def test_setup_adds_the_scope_column_to_an_older_file(store: SQLiteStore) -> None:
    """A file written before quantities had a scope (schema version 2 all the
    same): setup adds the column, old rows read as "event"."""
    list(store.write_articles(corpus()[:1]))
    store.close()
    with raw(store) as conn:
        conn.execute("ALTER TABLE quantities DROP COLUMN scope")
    again = SQLiteStore(store.path)
    again.setup()
    try:
        [killed] = again.get_article(corpus()[0].id).sentences[1].quantities
        assert (killed.value, killed.scope) == (20, "event")
        list(again.write_articles([cumulative_article()]))
        assert again.get_article("war-toll").sentences[1].quantities[0].scope == "cumulative"
        again.setup()  # idempotent
    finally:
        again.close()


def test_settings(store: SQLiteStore) -> None:
    with raw(store) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with store._connection() as conn:  # the adapter's own connections
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_article_without_sentences_is_refused(store: SQLiteStore) -> None:
    article = corpus()[0]
    article.sentences = []
    with pytest.raises(ValueError, match="no sentences"):
        list(store.write_articles([article]))
    assert store.count_articles() == 0


# --- no orphans, integrity --------------------------------------------------------------


def orphans(store: SQLiteStore) -> dict[str, int]:
    """Rows (and FTS index entries) that belong to no live article/sentence."""
    with raw(store) as conn:
        conn.execute("CREATE VIRTUAL TABLE temp.sv USING fts5vocab(main, sentences_fts, 'instance')")
        conn.execute("CREATE VIRTUAL TABLE temp.av USING fts5vocab(main, articles_fts, 'instance')")
        checks = {
            "sentences": "SELECT count(*) FROM sentences WHERE article NOT IN (SELECT pk FROM articles)",
            "entities": "SELECT count(*) FROM entities e WHERE NOT EXISTS (SELECT 1 FROM sentences s "
                        "WHERE s.article = e.article AND s.position = e.position)",
            "quantities": "SELECT count(*) FROM quantities q WHERE NOT EXISTS (SELECT 1 FROM sentences s "
                          "WHERE s.article = q.article AND s.position = q.position)",
            "sentence_vectors": "SELECT count(*) FROM sentence_vectors "
                                "WHERE sentence NOT IN (SELECT id FROM sentences)",
            "article_entities": "SELECT count(*) FROM article_entities ae WHERE NOT EXISTS (SELECT 1 FROM entities e "
                                "WHERE e.article = ae.article AND e.key = ae.key)",
            "sentences_fts": "SELECT count(DISTINCT doc) FROM temp.sv WHERE doc NOT IN (SELECT id FROM sentences)",
            "articles_fts": "SELECT count(DISTINCT doc) FROM temp.av WHERE doc NOT IN (SELECT pk FROM articles)",
        }
        return {name: conn.execute(sql).fetchone()[0] for name, sql in checks.items()}


def test_replace_and_delete_leave_no_orphans(loaded: SQLiteStore) -> None:
    changed = corpus()
    for article in changed:
        article.sentences = article.sentences[:2]
        article.body = article.body + " (updated)"
    list(loaded.write_articles(changed))
    loaded.delete_article(CONVOY)
    assert set(orphans(loaded).values()) == {0}
    assert len(orphans(loaded)) == 7
    with raw(loaded) as conn:
        assert conn.execute("SELECT count(*) FROM sentences").fetchone()[0] == 2 * (len(changed) - 1)
    loaded.integrity_check()


def test_orphan_check_detects_orphans(loaded: SQLiteStore) -> None:
    """The checks above are not vacuous: an FTS row without content is caught."""
    with raw(loaded) as conn:
        conn.execute("INSERT INTO sentences_fts (rowid, text) VALUES (99999, 'ghost')")
    assert orphans(loaded)["sentences_fts"] == 1
    with pytest.raises(StoreCorrupt, match="sentences_fts"):
        loaded.integrity_check()


# --- crash safety ------------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    from claimlookup.model import Article, EntityMention, Quantity, Sentence
    from claimlookup.store.sqlite import SQLiteStore

    path, version, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]

    def sentences_of(i):
        return 3 + (i + version) % 7

    def article(i):
        rng = np.random.default_rng(i)
        sentences = []
        for p in range(sentences_of(i)):
            text = f"Version {version} sentence {p} of article {i} near Homs with {p} dead."
            vector = rng.standard_normal(384).astype(np.float32)
            sentences.append(Sentence(p, text, 0, len(text), vector=vector / np.linalg.norm(vector),
                                      entities=[EntityMention("Homs", "GPE", "homs", text.index("Homs"),
                                                              text.index("Homs") + 4)],
                                      quantities=[Quantity(p, str(p), "dead", "killed")]))
        body = " ".join(s.text for s in sentences[1:])
        return Article(f"a{i}", sentences[0].text, body, source=f"v{version}", sentences=sentences)

    store = SQLiteStore(path)
    store.setup()
    if mode == "rebuild":
        with store.rebuild() as fresh:
            for outcome in fresh.write_articles(article(i) for i in range(100_000)):
                print(outcome.article_id, flush=True)
    for outcome in store.write_articles(article(i) for i in range(100_000)):
        print(outcome.article_id, flush=True)
""")


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}


def kill_writer_after(path: Path, version: int, reported: int, mode: str = "direct") -> int:
    """Start a writer child, SIGKILL it once it has reported ``reported``
    committed articles; return how many it reported."""
    with subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(version), mode], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=child_env()) as child:
        assert child.stdout is not None and child.stderr is not None
        seen = 0
        for _ in child.stdout:
            seen += 1
            if seen >= reported:
                os.kill(child.pid, signal.SIGKILL)
                break
        child.wait(timeout=60)
        assert child.returncode == -signal.SIGKILL, child.stderr.read()
    return seen


@pytest.mark.slow
def test_sigkill_mid_write_leaves_whole_articles(tmp_path: Path) -> None:
    path = tmp_path / "killed.db"
    committed = 0
    for version, reported in enumerate((150, 60, 240)):  # later rounds replace earlier articles
        committed = max(committed, kill_writer_after(path, version, reported))
        store = SQLiteStore(path)
        store.integrity_check()
        assert store.count_articles() >= committed  # reported = committed: nothing lost
        for summary in store.search(SearchRequest(size=1000, facets=False)).hits:
            article = store.get_article(summary.article_id)
            version_written = int(article.source[1:])
            i = int(article.id[1:])
            assert len(article.sentences) == 3 + (i + version_written) % 7, article.id
            assert [s.position for s in article.sentences] == list(range(len(article.sentences)))
            assert all(s.text.startswith(f"Version {version_written} ") for s in article.sentences)
            assert all(len(s.entities) == 1 and len(s.quantities) == 1 for s in article.sentences)
        assert set(orphans(store).values()) == {0}
        store.close()


@pytest.mark.slow
def test_sigkill_mid_rebuild_leaves_the_live_store_alone(tmp_path: Path) -> None:
    path = tmp_path / "killed.db"
    kill_writer_after(path, 0, 40)
    store = SQLiteStore(path)
    before = store.count_articles()
    [hit] = store.search(SearchRequest(query=parse_query("Homs"), size=1, facets=False)).hits
    kill_writer_after(path, 1, 80, mode="rebuild")
    store.integrity_check()
    assert store.count_articles() == before
    assert store.get_article(hit.article_id).source == "v0"
    leftovers = [p.name for p in tmp_path.iterdir() if ".rebuild-" in p.name]
    assert leftovers  # a killed rebuild cannot clean up after itself...
    store.setup()  # ...the next run's setup() does (its lock is free: its process is gone)
    assert not [p.name for p in tmp_path.iterdir() if ".rebuild-" in p.name]
    store.close()


# --- cross-process vector sync ----------------------------------------------------------------

SYNC_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    from claimlookup.model import Article, Sentence
    from claimlookup.store.sqlite import SQLiteStore

    path, action, article_id, axis = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = SQLiteStore(path)
    if action == "write":
        vector = np.zeros(384, np.float32)
        vector[axis] = 1.0
        sentences = [Sentence(0, "A title", 0, 7, vector=vector)]
        article = Article(article_id, "A title", "", source="Child", sentences=sentences)
        print(list(store.write_articles([article]))[0].status.value)
    elif action == "delete":
        store.delete_article(article_id)
    elif action == "rebuild":
        vector = np.zeros(384, np.float32)
        vector[axis] = 1.0
        with store.rebuild() as fresh:
            list(fresh.write_articles([Article(article_id, "Rebuilt", "", sentences=[
                Sentence(0, "Rebuilt", 0, 7, vector=vector)])]))
""")


def in_child(path: Path, action: str, article_id: str, axis: int = 0) -> None:
    subprocess.run([sys.executable, "-c", SYNC_CHILD, str(path), action, article_id, str(axis)], check=True,
                   env=child_env(), capture_output=True, timeout=120)


def nearest(store: SQLiteStore, axis: int, filters: Filters = Filters()) -> SentenceRef | None:
    [found] = store.vector_candidates(unit((axis, 1.0))[None, :], filters, 1)
    return found[0].ref if found and found[0].score > 0.99 else None


@pytest.mark.slow
def test_vectors_follow_writes_of_other_processes(loaded: SQLiteStore) -> None:
    assert nearest(loaded, 300) is None  # loads the matrix
    in_child(loaded.path, "write", "from-child", axis=300)
    assert nearest(loaded, 300) == SentenceRef("from-child", 0)
    assert nearest(loaded, 300, Filters(sources=("Child",))) == SentenceRef("from-child", 0)
    assert nearest(loaded, 300, Filters(exclude_articles=("from-child",))) is None
    in_child(loaded.path, "delete", "from-child")
    assert nearest(loaded, 300) is None
    in_child(loaded.path, "rebuild", "rebuilt", axis=301)
    assert nearest(loaded, 301) == SentenceRef("rebuilt", 0)
    assert nearest(loaded, 8 * 2 + 1) is None  # the convoy sentence went with the old data
    assert loaded.count_articles() == 1


def test_vectors_follow_writes_of_another_store_object(loaded: SQLiteStore) -> None:
    other = SQLiteStore(loaded.path)
    axis = 8 * 20 + 1
    assert nearest(loaded, axis) is None
    list(other.write_articles([extra_article("extra", "zeppelin")]))
    assert nearest(loaded, axis) == SentenceRef("extra", 1)
    other.delete_article("extra")
    assert nearest(loaded, axis) is None
    other.close()


def test_incremental_sync_compacts_deleted_rows(store: SQLiteStore) -> None:
    articles = [build_article(i, f"x{i}", Line(f"Title {i}"), [Line(f"Body {i}.")], source="S",
                              published=date(2020, 1, 1)) for i in range(40)]
    list(store.write_articles(articles))
    assert nearest(store, 8 * 39 + 1) == SentenceRef("x39", 1)
    for i in range(30):
        store.delete_article(f"x{i}")
    assert nearest(store, 8 * 5 + 1) is None
    assert nearest(store, 8 * 35 + 1) == SentenceRef("x35", 1)
    snapshot = store._vector_snapshot()
    assert snapshot.size == snapshot.live_count == 20  # compacted


# --- concurrency ----------------------------------------------------------------------------


def test_readers_in_threads_while_writing(loaded: SQLiteStore) -> None:
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                assert loaded.search(SearchRequest(query=parse_query("zeppelin OR market"))).total >= 2
                loaded.vector_candidates(unit((1, 1.0))[None, :], Filters(), 5)
                loaded.get_sentences([SentenceRef(CONVOY, 1)])
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for thread in readers:
        thread.start()
    for i in range(40):
        list(loaded.write_articles([extra_article(f"extra-{i}", "zeppelin", index=20 + i % 20)]))
    stop.set()
    for thread in readers:
        thread.join()
    assert errors == []
    assert loaded.count_articles() == len(corpus()) + 40


def _count_in_child(store: SQLiteStore, result: multiprocessing.queues.Queue) -> None:
    result.put((store.count_articles(), store._pool_generation))


def test_forked_child_opens_its_own_connections(loaded: SQLiteStore) -> None:
    assert loaded.count_articles() == len(corpus())  # the parent's pool now holds a connection
    context = multiprocessing.get_context("fork")
    result = context.Queue()
    child = context.Process(target=_count_in_child, args=(loaded, result))
    child.start()
    child.join(timeout=60)
    generation = loaded._pool_generation
    assert child.exitcode == 0 and result.get(timeout=5) == (len(corpus()), generation + 1)  # pool dropped
    result.close()
    result.join_thread()
    assert loaded.count_articles() == len(corpus())


def test_a_replaced_file_is_noticed(loaded: SQLiteStore) -> None:
    """Ops deleted the file and indexed anew under a running server."""
    assert nearest(loaded, 8 * 2 + 1) == SentenceRef(CONVOY, 1)  # pool and vectors are warm
    for suffix in ("", "-wal", "-shm"):
        Path(f"{loaded.path}{suffix}").unlink(missing_ok=True)
    other = SQLiteStore(loaded.path)
    other.setup()
    list(other.write_articles([extra_article("fresh", "zeppelin")]))
    other.close()
    assert loaded.count_articles() == 1
    assert nearest(loaded, 8 * 2 + 1) is None and nearest(loaded, 8 * 20 + 1) == SentenceRef("fresh", 1)
    loaded.integrity_check()


def test_a_deleted_file_is_unavailable(loaded: SQLiteStore) -> None:
    loaded.path.unlink()
    with pytest.raises(StoreUnavailable):
        loaded.count_articles()


def test_rebuild_leaves_no_temp_files(loaded: SQLiteStore) -> None:
    with loaded.rebuild() as fresh:
        list(fresh.write_articles([extra_article("new", "zeppelin")]))
    with pytest.raises(KeyError):
        with loaded.rebuild() as fresh:
            raise KeyError("boom")
    names = {p.name for p in loaded.path.parent.iterdir()}
    assert names <= {"claimlookup.db", "claimlookup.db-wal", "claimlookup.db-shm"}


def test_rebuild_is_invisible_to_an_open_reader_until_commit(loaded: SQLiteStore) -> None:
    reader = raw(loaded)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == len(corpus())
    with loaded.rebuild() as fresh:
        list(fresh.write_articles([extra_article("new", "zeppelin")]))
    # the reader's snapshot predates the swap and stays whole
    assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == len(corpus())
    reader.execute("COMMIT")
    assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
    reader.close()
    loaded.integrity_check()


def test_get_article_omits_vectors_get_sentences_has_them(loaded: SQLiteStore) -> None:
    assert all(s.vector is None for s in loaded.get_article(CONVOY).sentences)
    [stored] = loaded.get_sentences([SentenceRef(CONVOY, 1)])
    assert stored.sentence.vector is not None and stored.sentence.vector.flags.writeable
    assert np.linalg.norm(stored.sentence.vector) == pytest.approx(1.0)


# --- get_sentences' read cache ------------------------------------------------------------------


def plain(stored: list[StoredSentence]) -> list[tuple[object, ...]]:
    """StoredSentences as comparable tuples (vectors as lists)."""
    return [(s.ref, replace(s.sentence, vector=None), s.title, s.source, s.published, s.url, s.article_hash,
             s.article_entities, None if s.sentence.vector is None else s.sentence.vector.tolist()) for s in stored]


def as_a_new_reader_sees_it(store: SQLiteStore, refs: list[SentenceRef]) -> list[tuple[object, ...]]:
    """What a store object with nothing cached (vectors read from BLOBs) returns."""
    fresh = SQLiteStore(store.path)
    try:
        return plain(fresh.get_sentences(refs))
    finally:
        fresh.close()


def test_get_sentences_warm_equals_cold(loaded: SQLiteStore) -> None:
    refs = [SentenceRef(a.id, s.position) for a in corpus() for s in a.sentences]
    refs += [SentenceRef(CONVOY, 99), SentenceRef("gone", 0), refs[3], refs[0]]
    expected = as_a_new_reader_sees_it(loaded, refs)
    assert len(expected) == len(refs) - 2
    assert plain(loaded.get_sentences(refs)) == expected  # cold, matrix not loaded: BLOBs
    loaded.vector_candidates(unit((1, 1.0))[None, :], Filters(), 5)  # loads the matrix
    assert plain(loaded.get_sentences(refs)) == expected  # warm, vectors from the matrix
    assert plain(loaded.get_sentences(refs[::-1])) == expected[::-1]


def test_the_read_cache_is_bounded_by_its_estimated_bytes(loaded: SQLiteStore,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache counts what it holds (``sentence_bytes``, ``article_bytes``);
    once that passes READ_CACHE_BYTES the next reader starts an empty one,
    and the answers stay a fresh reader's."""
    from claimlookup.store.sqlite import read_cache

    refs = [SentenceRef(a.id, s.position) for a in corpus() for s in a.sentences]
    loaded.get_sentences(refs[:2])
    cache = loaded._read_cache
    assert cache.held[0] == (sum(read_cache.sentence_bytes(f) for f in cache.sentences.values())
                             + sum(read_cache.article_bytes(a) for a in cache.articles.values())) > 0
    monkeypatch.setattr(read_cache, "READ_CACHE_BYTES", cache.held[0] + 1)
    expected = as_a_new_reader_sees_it(loaded, refs)
    assert plain(loaded.get_sentences(refs)) == expected
    assert loaded._read_cache is cache and cache.full and len(cache.sentences) == len(refs)
    assert plain(loaded.get_sentences(refs[:1])) == expected[:1]
    fresh = loaded._read_cache
    assert fresh is not cache and len(fresh.sentences) == 1 and not fresh.full


def test_get_sentences_hands_out_copies(loaded: SQLiteStore) -> None:
    loaded.vector_candidates(unit((1, 1.0))[None, :], Filters(), 5)
    refs = [SentenceRef(CONVOY, 0), SentenceRef(CONVOY, 1)]
    expected = plain(loaded.get_sentences(refs))
    for stored in loaded.get_sentences(refs):
        stored.sentence.vector *= -1.0
        stored.sentence.entities.clear()
        stored.sentence.quantities.clear()
        stored.sentence.text = "changed"
    assert plain(loaded.get_sentences(refs)) == expected
    assert nearest(loaded, 8 * 2 + 1) == SentenceRef(CONVOY, 1)  # the matrix is untouched


def test_get_sentences_follows_writes_of_another_store_object(loaded: SQLiteStore) -> None:
    other = SQLiteStore(loaded.path)
    refs = [SentenceRef("extra", p) for p in range(3)]
    list(other.write_articles([extra_article("extra", "zeppelin")]))
    loaded.vector_candidates(unit((1, 1.0))[None, :], Filters(), 5)
    first = loaded.get_sentences(refs)
    assert [s.sentence.text for s in first] == ["Report about zeppelin", "The zeppelin was seen in Homs."]
    rewritten = build_article(21, "extra", Line("Report about a balloon"),
                              [Line("The balloon was seen in Hama.", [("Hama", "GPE", "hama")]),
                               Line("It landed near Idlib.", [("Idlib", "GPE", "idlib")])],
                              source="BBC", published=date(2019, 2, 2))
    list(other.write_articles([rewritten]))
    got = loaded.get_sentences(refs)
    assert plain(got) == as_a_new_reader_sees_it(loaded, refs)
    assert [replace(s.sentence, vector=None) for s in got] == [replace(s, vector=None) for s in rewritten.sentences]
    for stored, written in zip(got, rewritten.sentences, strict=True):
        np.testing.assert_allclose(stored.sentence.vector, written.vector, atol=1e-6)
        assert (stored.source, stored.article_entities) == ("BBC", ("hama", "idlib"))
    other.delete_article("extra")
    assert loaded.get_sentences(refs) == []
    list(other.write_articles([extra_article("extra", "airship")]))
    assert [s.sentence.text for s in loaded.get_sentences(refs)][1] == "The airship was seen in Homs."
    other.close()


def test_get_sentences_after_a_rebuild_that_reuses_article_pks(store: SQLiteStore) -> None:
    list(store.write_articles([extra_article("before", "zeppelin")]))
    store.vector_candidates(unit((1, 1.0))[None, :], Filters(), 5)
    assert len(store.get_sentences([SentenceRef("before", 0), SentenceRef("before", 1)])) == 2
    other = SQLiteStore(store.path)
    with other.rebuild() as fresh:
        list(fresh.write_articles([extra_article("after", "balloon", index=21, source="BBC")]))
    other.close()
    conn = raw(store)
    assert conn.execute("SELECT pk FROM articles").fetchall() == [(1,)]  # the pk "before" had
    conn.close()
    assert store.get_sentences([SentenceRef("before", 1)]) == []
    refs = [SentenceRef("after", 0), SentenceRef("after", 1)]
    got = store.get_sentences(refs)
    assert [s.sentence.text for s in got] == ["Report about balloon", "The balloon was seen in Homs."]
    assert plain(got) == as_a_new_reader_sees_it(store, refs)
    np.testing.assert_allclose(got[1].sentence.vector, unit((8 * 21 + 1, 1.0)), atol=1e-6)


@pytest.mark.slow
def test_get_sentences_follows_writes_of_other_processes(loaded: SQLiteStore) -> None:
    ref = SentenceRef("from-child", 0)
    loaded.vector_candidates(unit((1, 1.0))[None, :], Filters(), 5)
    assert loaded.get_sentences([ref]) == []
    in_child(loaded.path, "write", "from-child", axis=300)
    [got] = loaded.get_sentences([ref])
    assert (got.sentence.text, got.source) == ("A title", "Child")
    np.testing.assert_allclose(got.sentence.vector, unit((300, 1.0)))
    in_child(loaded.path, "delete", "from-child")
    assert loaded.get_sentences([ref]) == []
    in_child(loaded.path, "rebuild", "rebuilt", axis=301)
    [got] = loaded.get_sentences([SentenceRef("rebuilt", 0), SentenceRef(CONVOY, 1)])
    assert got.sentence.text == "Rebuilt"
    np.testing.assert_allclose(got.sentence.vector, unit((301, 1.0)))


def test_stores_are_independent_of_search_request_defaults(loaded: SQLiteStore) -> None:
    with pytest.raises(ValueError, match="level"):
        loaded.search(SearchRequest(level="paragraph"))
    with pytest.raises(ValueError, match="sort"):
        loaded.search(SearchRequest(sort="popularity"))
    with pytest.raises(ValueError, match="page"):
        loaded.search(SearchRequest(page=0))
    with pytest.raises(ArticleNotFound):
        loaded.delete_article("missing")
