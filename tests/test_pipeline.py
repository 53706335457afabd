"""The ingest pipeline: ids, validation, and end-to-end runs into a real SQLite
store with the real spaCy model and the real embedder."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from claimlookup import nlp
from claimlookup.model import Article, Sentence, SentenceRef, WriteStatus
from claimlookup.pipeline import (
    MAX_BODY_CHARS,
    MAX_ID_CHARS,
    ArticleRecord,
    InvalidArticle,
    Origin,
    Problem,
    _stage_seconds,
    article_id,
    ingest,
    ingest_one,
    prepare,
)
from claimlookup.store import Store, open_store
from indexer.readers import read_path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
FAKES = ROOT / "seeds" / "fa-kes" / "FA-KES-Dataset.csv"


def seed_records() -> list[ArticleRecord]:
    return [ArticleRecord(body=p.read_text(encoding="utf-8"), origin=Origin(str(p), 1)) for p in SEEDS]


def fakes_records(n: int) -> list[ArticleRecord]:
    return [r for r in itertools.islice(read_path(FAKES), n) if isinstance(r, ArticleRecord)]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'index.db'}")
    store.setup()
    yield store
    store.close()


def db(store: Store) -> sqlite3.Connection:
    return sqlite3.connect(store.path)  # type: ignore[attr-defined]


# --- ids --------------------------------------------------------------------------------


def test_article_id_prefers_source_id_then_url_then_hash() -> None:
    assert article_id("fa-kes:1", "https://x.org/a", "T", "B") == "fa-kes:1"
    assert article_id(None, " https://x.org/a ", "T", "B") == "https://x.org/a"
    assert article_id("  ", None, "T", "B").startswith("h:")


def test_content_hash_id_is_stable_and_whitespace_blind() -> None:
    one = article_id(None, None, "Russia denies", "It denied it.\n\nTwice.")
    assert one == article_id(None, None, " Russia  denies", "It denied\tit. Twice. ")
    assert len(one) == 26 and all(c in "0123456789abcdef" for c in one[2:])
    assert one != article_id(None, None, "Russia denies", "It denied it. Three times.")


def test_hash_id_ignores_boilerplate() -> None:
    """The same article scraped twice with different page furniture gets one id."""
    a = prepare(ArticleRecord(body="Share\n\nTitle here\n\nThe body sentence.\n\nAdvertisement\n"))
    b = prepare(ArticleRecord(body="Title here\n\nThe body sentence.\n\nRelated Posts\nOther story\n"))
    assert a.id == b.id and a.content_hash == b.content_hash


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(("record", "reason"), [
    (ArticleRecord(body=""), "empty body"),
    (ArticleRecord(body=" \n\t "), "empty body"),
    (ArticleRecord(body="Share\n\nAdvertisement\n"), "empty body (nothing left after removing boilerplate)"),
    (ArticleRecord(body="Share", title="A title"), "empty body (nothing left after removing boilerplate)"),
    (ArticleRecord(body="B.", language="fr"), "language 'fr' is not supported (English only)"),
    (ArticleRecord(body="B.", url="ftp://x.org/a"), "url 'ftp://x.org/a' is not an http(s) URL"),
    (ArticleRecord(body="x" * (MAX_BODY_CHARS + 1)), f"body longer than {MAX_BODY_CHARS} characters"),
    (ArticleRecord(body="B.", id="x" * (MAX_ID_CHARS + 1)), f"id longer than {MAX_ID_CHARS} characters"),
    (ArticleRecord(body="B.", id="a\nb"), "id contains control characters"),
    (ArticleRecord(body=":"), "body has no words (no letter or digit)"),
    (ArticleRecord(body="... ?!", title="A title"), "body has no words (no letter or digit)"),
])
def test_invalid_records(record: ArticleRecord, reason: str) -> None:
    with pytest.raises(InvalidArticle) as raised:
        prepare(record)
    assert str(raised.value) == reason


def test_prepare_cleans_and_keeps_metadata() -> None:
    record = ArticleRecord(body="Share\n\nFirst.\n\nSecond.", title=" A  title ", id="wire:1", source=" AFP ",
                           url="https://x.org/1", published=date(2020, 1, 2), language="EN-gb")
    article = prepare(record)
    assert (article.id, article.title, article.body, article.source, article.url, article.published,
            article.language) == ("wire:1", "A title", "First.\n\nSecond.", "AFP", "https://x.org/1",
                                  date(2020, 1, 2), "en")
    assert article.sentences == []


def test_document_without_title_field_takes_first_line() -> None:
    article = prepare(ArticleRecord(body="Middle East\n\nSyria: 45 killed\n\nAt least 45 were killed."))
    assert (article.title, article.body) == ("Syria: 45 killed", "At least 45 were killed.")


def test_one_paragraph_without_title_derives_one() -> None:
    article = prepare(ArticleRecord(body="Russia denied the strike. It said so on Monday."))
    assert article.title == "Russia denied the strike."
    assert article.body == "Russia denied the strike. It said so on Monday."


def test_derived_title_is_cut() -> None:
    article = prepare(ArticleRecord(body="word " * 100))
    assert len(article.title) <= 201 and article.title.endswith("\u2026")


def test_stage_seconds_are_exclusive() -> None:
    stages = _stage_seconds([1.0, 3.0, 7.0, 7.5])
    assert (stages.read_clean, stages.spacy, stages.embed, stages.store) == (1.0, 2.0, 4.0, 0.5)


# --- end to end (real spaCy, real embedder) ---------------------------------------------------


@pytest.mark.slow
def test_seeds_are_indexed_with_titles_sentences_and_vectors(store: Store) -> None:
    summary = ingest(store, seed_records())
    assert (summary.new, summary.updated, summary.unchanged, summary.skipped, summary.duplicates) == (5, 0, 0, 0, 0)
    assert summary.problems == [] and summary.processes == 1
    assert store.count_articles() == 5
    stored = [store.get_article(prepare(r).id) for r in seed_records()]
    assert summary.sentences == sum(len(a.sentences) for a in stored)
    assert summary.entities == sum(len(a.entities) for a in stored)
    first = stored[0]
    assert first.title == "Russia dismisses claims of striking Syrian city in Idlib province"
    assert first.sentences[0].position == 0 and first.sentences[0].text == first.title
    assert [s.position for s in first.sentences] == list(range(len(first.sentences)))
    assert all("Related Posts" not in s.text and "Powered by" not in s.text for s in first.sentences)
    with_vectors = store.get_sentences([SentenceRef(first.id, s.position) for s in first.sentences])
    norms = [float(np.linalg.norm(s.sentence.vector)) for s in with_vectors]
    assert len(norms) == len(first.sentences) and all(abs(n - 1) < 1e-3 for n in norms)
    assert summary.seconds > 0 and summary.stages.spacy > 0 and summary.stages.embed > 0


@pytest.mark.slow
def test_unchanged_articles_skip_nlp(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    ingest(store, seed_records())
    analysed: list[str] = []
    real = nlp.analyse_articles

    def spy(articles, **kwargs):  # type: ignore[no-untyped-def]
        def seen() -> Iterator[Article]:
            for article in articles:
                analysed.append(article.id)
                yield article
        return real(seen(), **kwargs)

    monkeypatch.setattr(nlp, "analyse_articles", spy)
    changed = ArticleRecord(body=SEEDS[0].read_text(encoding="utf-8") + "\n\nAn added closing sentence.",
                            id=None, origin=Origin("edited.txt", 1))
    summary = ingest(store, seed_records()[1:] + [changed])
    assert (summary.unchanged, summary.new, summary.updated) == (4, 1, 0)  # a hash id: new text, new id
    assert analysed == [prepare(changed).id]


@pytest.mark.slow
def test_changed_content_replaces_the_old_version_without_orphans(store: Store) -> None:
    old = ArticleRecord(body="Russia denied the strike in Idlib. The Syrian Observatory said 20 were killed.",
                        title="Strike in Idlib", id="wire:1", origin=Origin("a.jsonl", 1))
    new = ArticleRecord(body="Turkey called for a ceasefire in Aleppo.", title="Ceasefire call", id="wire:1",
                        origin=Origin("a.jsonl", 1))
    other = ArticleRecord(body="The UN said 592,700 people lived in besieged areas.", title="UN figures",
                          id="wire:2", origin=Origin("a.jsonl", 2))
    assert ingest(store, [old, other]).new == 2
    summary = ingest(store, [new, other])
    assert (summary.updated, summary.unchanged, summary.new) == (1, 1, 0)
    article = store.get_article("wire:1")
    assert [s.text for s in article.sentences] == ["Ceasefire call", "Turkey called for a ceasefire in Aleppo."]
    assert {e.key for e in article.entities} >= {"turkey", "aleppo"}
    assert "idlib" not in {e.key for e in article.entities}
    with db(store) as conn:
        assert conn.execute("SELECT count(*) FROM sentences").fetchone()[0] == \
            len(article.sentences) + len(store.get_article("wire:2").sentences)
        for table in ("sentences", "entities", "quantities"):
            orphans = conn.execute(f"SELECT count(*) FROM {table} WHERE article NOT IN (SELECT pk FROM articles)")
            assert orphans.fetchone()[0] == 0, table
        assert conn.execute("SELECT count(*) FROM entities WHERE key = 'idlib'").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM quantities WHERE value = 20").fetchone()[0] == 0


@pytest.mark.slow
def test_duplicates_in_one_input_are_indexed_once_and_reported(store: Store) -> None:
    first = ArticleRecord(body="Body one.", title="One", id="d:1", origin=Origin("in.jsonl", 1))
    same = ArticleRecord(body="Body one.", title="One", id="d:1", origin=Origin("in.jsonl", 2))
    different = ArticleRecord(body="Another body.", title="Other", id="d:1", origin=Origin("in.jsonl", 3))
    summary = ingest(store, [first, same, different])
    assert (summary.new, summary.duplicates, summary.skipped) == (1, 2, 0)
    assert [str(p) for p in summary.problems] == [
        "in.jsonl:2: duplicate id 'd:1' (same content; first at in.jsonl:1)",
        "in.jsonl:3: duplicate id 'd:1' (different content; the first is kept; first at in.jsonl:1)",
    ]
    assert not any(p.skipped for p in summary.problems)
    assert store.count_articles() == 1
    assert store.get_article("d:1").body == "Body one."


@pytest.mark.slow
def test_bad_records_are_reported_and_the_rest_indexed(store: Store) -> None:
    progress: list[int] = []
    records = [
        Problem(Origin("in.jsonl", 1), "malformed JSON: Expecting value (column 1)"),
        ArticleRecord(body="", title="Empty", origin=Origin("in.jsonl", 2)),
        ArticleRecord(body="Good body.", title="Good", id="g:1", origin=Origin("in.jsonl", 3)),
        ArticleRecord(body="B.", language="de", origin=Origin("in.jsonl", 4)),
        Problem(Origin("notes.md"), "ignored: unknown extension '.md'", skipped=False),
    ]
    summary = ingest(store, records, on_progress=progress.append)
    assert (summary.new, summary.skipped, summary.duplicates) == (1, 3, 0)
    assert [str(p) for p in summary.problems if p.skipped] == [
        "in.jsonl:1: malformed JSON: Expecting value (column 1)",
        "in.jsonl:2: empty body",
        "in.jsonl:4: language 'de' is not supported (English only)",
    ]
    assert progress == [1] * len(records)  # every input item settles once
    assert store.count_articles() == 1


@pytest.mark.slow
def test_fakes_subset_through_the_reader(store: Store) -> None:
    records = fakes_records(40)
    summary = ingest(store, records)
    assert summary.new == 40 and not summary.problems
    article = store.get_article("fa-kes:1914947530")
    assert (article.source, article.published) == ("nna", date(2017, 4, 5))
    assert ingest(store, records).unchanged == 40


@pytest.mark.slow
def test_worker_processes_give_the_same_analysis(store: Store, tmp_path: Path) -> None:
    records = fakes_records(12)
    parallel = ingest(store, records, n_process=2)
    assert parallel.processes == 2 and parallel.new == 12
    serial_store = open_store(f"sqlite:///{tmp_path / 'serial.db'}")
    serial_store.setup()
    try:
        assert ingest(serial_store, records, n_process=1).new == 12
        for record in records:
            a, b = store.get_article(record.id or ""), serial_store.get_article(record.id or "")
            assert [(s.text, s.stance, s.entities) for s in a.sentences] == \
                [(s.text, s.stance, s.entities) for s in b.sentences]
    finally:
        serial_store.close()


@pytest.mark.slow
def test_ingest_one(store: Store) -> None:
    record = ArticleRecord(body="Russia denied the strike.", title="Denial", url="https://x.org/d")
    assert ingest_one(store, record).status is WriteStatus.NEW
    assert ingest_one(store, record).status is WriteStatus.UNCHANGED
    record.body = "Russia denied the strike again."
    outcome = ingest_one(store, record)
    assert (outcome.article_id, outcome.status) == ("https://x.org/d", WriteStatus.UPDATED)
    with pytest.raises(InvalidArticle):
        ingest_one(store, ArticleRecord(body="  "))


def test_nothing_to_analyse_loads_no_model(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("spaCy must not run")

    monkeypatch.setattr(nlp, "analyse_articles", refuse)
    summary = ingest(store, [Problem(Origin("x.jsonl", 1), "bad"), ArticleRecord(body="", origin=Origin("x", 2))])
    assert (summary.new, summary.skipped) == (0, 2)


@pytest.mark.slow
def test_embedding_threads_give_the_same_vectors() -> None:
    from claimlookup.pipeline import _embedded

    def analysed() -> list[Article]:
        return list(nlp.analyse_articles([prepare(r) for r in seed_records()[:2]]))

    one = list(_embedded(iter(analysed()), threads=1))
    two = list(_embedded(iter(analysed()), threads=2))
    for a, b in zip(one, two, strict=True):
        assert [s.text for s in a.sentences] == [s.text for s in b.sentences]
        for x, y in zip(a.sentences, b.sentences, strict=True):
            assert x.vector is not None and y.vector is not None
            assert np.allclose(x.vector, y.vector, atol=1e-5)


@pytest.mark.slow
def test_a_text_seen_in_an_earlier_embedder_call_is_not_embedded_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Across the calls of one run, a repeated text (a wire copy) takes the
    vector computed the first time: the same vector, embedded once."""
    import dataclasses

    from claimlookup import embed, pipeline

    articles = list(nlp.analyse_articles([prepare(r) for r in seed_records()[:2]]))
    copy = dataclasses.replace(articles[0], id="copy-of-0",
                               sentences=[dataclasses.replace(s) for s in articles[0].sentences])
    embedder = embed.get_embedder()
    seen: list[str] = []

    class Counting:
        def embed(self, texts: list[str]) -> np.ndarray:
            seen.extend(texts)
            return embedder.embed(texts)

    monkeypatch.setattr(embed, "get_embedder", lambda: Counting())
    monkeypatch.setattr(pipeline, "EMBED_CHUNK_TEXTS", 1)  # one article per embedder call
    stream = [articles[0], articles[1], copy]
    remembered = list(pipeline._embedded(iter(stream), threads=1))
    distinct = {s.text for a in articles for s in a.sentences}
    assert sorted(seen) == sorted(distinct)  # the copy's texts were not embedded again
    seen.clear()
    fresh = [dataclasses.replace(a, sentences=[dataclasses.replace(s, vector=None) for s in a.sentences])
             for a in stream]
    forgetful = list(pipeline._embedded(iter(fresh), threads=1, memo_texts=0))
    assert len(seen) == sum(len({s.text for s in a.sentences}) for a in stream)  # every call embeds its texts
    for a, b in zip(remembered, forgetful, strict=True):
        for x, y in zip(a.sentences, b.sentences, strict=True):
            assert x.vector is not None and y.vector is not None
            assert np.array_equal(x.vector, y.vector)


def test_the_run_memo_keeps_the_texts_used_last(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounded by count, least recently used out first; long texts are not kept."""
    from claimlookup import embed, pipeline

    seen: list[str] = []

    class Counting:
        def embed(self, texts: list[str]) -> np.ndarray:
            seen.extend(texts)
            return np.ones((len(texts), 384), dtype=np.float32)

    def article(*texts: str) -> Article:
        return Article(id=texts[0], title="", body="", sentences=[
            Sentence(position=i + 1, text=t, start=0, end=len(t)) for i, t in enumerate(texts)])

    monkeypatch.setattr(embed, "get_embedder", lambda: Counting())
    monkeypatch.setattr(pipeline, "EMBED_CHUNK_TEXTS", 1)
    long = "x" * (pipeline.EMBED_MEMO_CHARS + 1)
    stream = [article("a"), article("b"), article("a"), article("c"), article("a"), article("b"), article(long),
              article(long)]
    list(pipeline._embedded(iter(stream), threads=1, memo_texts=2))
    # "a" used again before "c" came in, so "b" was the least recent and went: embedded twice.
    assert seen == ["a", "b", "c", "b", long, long]
