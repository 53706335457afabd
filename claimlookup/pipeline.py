"""The ingest pipeline, shared by ``claimlookup-index`` and ``POST /v1/articles``.

Generators end to end::

    records -> prepare (validate, clean, id) -> drop duplicates within the input
            -> skip ids whose stored content hash is unchanged   (before any NLP)
            -> nlp.analyse_articles (spaCy; worker processes when there is work)
            -> embed titles + sentences, many articles per call
            -> store.write_articles (one transaction per article)

Records that cannot be indexed are reported as ``Problem``s with their origin
(file, line) and skipped; the run goes on. A store failure ends the run
(``StoreUnavailable`` propagates): what was written before stays written.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

import numpy as np

from claimlookup.clean import clean_article
from claimlookup.model import Article, WriteOutcome, WriteStatus
from claimlookup.store.base import Store

#: Below this many articles to analyse, worker processes cost more than they save.
PARALLEL_MIN_ARTICLES = 200
#: Ids looked up in the store per ``content_hashes`` call.
HASH_LOOKUP_BATCH = 64
#: Texts (titles + sentences) per embedder call: large calls sort by length and pad little.
EMBED_CHUNK_TEXTS = 512
#: Vectors ``ingest`` keeps for the rest of a run, so that a text seen in an
#: earlier embedder call is not embedded again (wire copies and standing lines
#: repeat across articles: ~5 % of FA-KES's texts and of the news file's repeat
#: outside their own call); 20,000 vectors are ~31 MB, the least recently used
#: go first (``caches.INGEST_VECTORS``).
EMBED_MEMO_TEXTS = 20_000
#: Longer texts are not remembered (they rarely repeat, and they would make the
#: memo's size a matter of its input).
EMBED_MEMO_CHARS = 1_000
#: Threads that call the embedder in parallel during ``ingest`` (one per core).
MAX_EMBED_THREADS = 2
#: spaCy's own limit on a text; longer bodies are refused.
MAX_BODY_CHARS = 1_000_000
MAX_ID_CHARS = 512
MAX_TITLE_CHARS = 1_000
#: A title made from a body's first sentence is cut to this length.
DERIVED_TITLE_CHARS = 200

_T = TypeVar("_T")
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(?:\s|$)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_WORD = re.compile(r"[^\W_]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class InvalidArticle(ValueError):
    """A record that cannot be indexed (empty body, bad field, ...)."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record came from: a file (or ``-``, or ``request``) and a line
    (1-based; 0 when the whole file is meant)."""

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True, slots=True)
class Problem:
    """Something to tell the user about a record. ``skipped`` problems cost a
    record (exit status 3 in the CLI); the others are notes (duplicates,
    ignored files)."""

    origin: Origin
    reason: str
    skipped: bool = True

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


@dataclass(slots=True)
class ArticleRecord:
    """An article as a reader or the API hands it over, before cleaning.

    Without ``title``, ``body`` is a whole document: its first non-boilerplate
    line is the title.
    """

    body: str
    title: str | None = None
    id: str | None = None
    url: str | None = None
    source: str | None = None
    published: date | None = None
    language: str = "en"
    origin: Origin = Origin("request")


@dataclass(slots=True)
class StageSeconds:
    """Wall-clock seconds the ingesting process spent in each stage. With
    spaCy worker processes, ``spacy`` is the time spent waiting for them."""

    read_clean: float = 0.0
    spacy: float = 0.0
    embed: float = 0.0
    store: float = 0.0


#: ``IngestSummary.written`` keeps at most this many articles.
WRITTEN_KEPT = 100_000


@dataclass(slots=True)
class IngestSummary:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    duplicates: int = 0
    sentences: int = 0  # written (new + updated articles), titles included
    entities: int = 0
    seconds: float = 0.0
    stages: StageSeconds = field(default_factory=StageSeconds)
    #: CPU seconds of the ingesting process per stage (all its threads; spaCy
    #: worker processes not included): a measure of work that a busy machine
    #: does not inflate the way it inflates wall-clock time.
    cpu: StageSeconds = field(default_factory=StageSeconds)
    problems: list[Problem] = field(default_factory=list)
    processes: int = 1  # spaCy processes used
    #: (id, "new" or "updated", where it was read) of every article written, in
    #: order: kept up to WRITTEN_KEPT (a million-article run keeps the first ones).
    written: list[tuple[str, str, Origin]] = field(default_factory=list)

    @property
    def articles(self) -> int:
        """Distinct articles read and accepted (written or unchanged)."""
        return self.new + self.updated + self.unchanged


#: Called with 1 each time an input item (record or reader problem) is settled:
#: written, unchanged, duplicate or skipped.
ProgressCallback = Callable[[int], object]  # its return value is ignored


# --- ids and validation -----------------------------------------------------------


def article_id(explicit_id: str | None, url: str | None, title: str, body: str) -> str:
    """The article's id: the source's own id, else its URL, else ``h:`` and a
    hash of the (cleaned) title and body, whitespace-normalised, so the same
    text always gets the same id."""
    for candidate in (explicit_id, url):
        if candidate and candidate.strip():
            return candidate.strip()
    text = " ".join(" ".join((title, body)).split())
    return "h:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def prepare(record: ArticleRecord) -> Article:
    """Validate and clean a record into an ``Article`` (no sentences yet).
    Raise ``InvalidArticle`` saying what is wrong."""
    _check_raw(record)
    given_title = _optional(record.title)
    cleaned = clean_article(record.body, title=given_title)
    title, body = cleaned.title, cleaned.body
    if given_title is None and title and not body:
        # One paragraph and no title field: the paragraph is the body.
        body, title = title, _derived_title(title)
    if not body:
        raise InvalidArticle("empty body (nothing left after removing boilerplate)")
    if len(title) + len(body) + 2 > MAX_BODY_CHARS:
        # Cleaning keeps paragraphs apart with blank lines, so a body of short
        # lines may grow past what the NLP reads at once (spaCy's max_length).
        raise InvalidArticle(f"body longer than {MAX_BODY_CHARS} characters once cleaned")
    if not _WORD.search(body):
        # Punctuation only: spaCy finds no sentence in it, so nothing could be stored.
        raise InvalidArticle("body has no words (no letter or digit)")
    if len(title) > MAX_TITLE_CHARS:
        raise InvalidArticle(f"title longer than {MAX_TITLE_CHARS} characters")
    article = Article(id=article_id(record.id, record.url, title, body), title=title, body=body,
                      source=_optional(record.source), url=_optional(record.url),
                      published=record.published, language=_language(record.language))
    _check_id(article.id)
    return article


def _check_raw(record: ArticleRecord) -> None:
    if not isinstance(record.body, str) or not record.body.strip():
        raise InvalidArticle("empty body")
    _check_encodable(record)
    if len(record.body) > MAX_BODY_CHARS:
        raise InvalidArticle(f"body longer than {MAX_BODY_CHARS} characters")
    url = _optional(record.url)
    if url and not re.match(r"^https?://\S+$", url):
        raise InvalidArticle(f"url {url!r} is not an http(s) URL")


def lone_surrogate(text: str) -> re.Match[str] | None:
    """The first lone surrogate in ``text`` (JSON can spell one, ``"\\ud800"``;
    no UTF-8 text can hold it), or None. Paired surrogates never reach here:
    Python's JSON decoder joins them into one code point."""
    return _SURROGATE.search(text)


def _check_encodable(record: ArticleRecord) -> None:
    """Refuse a lone surrogate (JSON's ``"\\ud800"``): it is not text, and it
    cannot be encoded to hash, store or embed the article."""
    for name in ("id", "url", "title", "body", "source", "language"):
        value = getattr(record, name)
        found = lone_surrogate(value) if isinstance(value, str) else None
        if found:
            raise InvalidArticle(f"field {name!r} contains a lone surrogate (U+{ord(found.group()):04X}) "
                                 f"at character {found.start()}: not text")


def _check_id(value: str) -> None:
    if len(value) > MAX_ID_CHARS:
        raise InvalidArticle(f"id longer than {MAX_ID_CHARS} characters")
    if _CONTROL.search(value):
        raise InvalidArticle("id contains control characters")


def _language(value: str | None) -> str:
    """English only: the spaCy pipeline and the embedder are English models."""
    language = (value or "en").strip().lower()
    if language != "en" and not language.startswith("en-"):
        raise InvalidArticle(f"language {value!r} is not supported (English only)")
    return "en"


def _derived_title(body: str) -> str:
    """A title for a record that has none: the body's first sentence, cut."""
    first = body.split("\n", 1)[0]
    match = _FIRST_SENTENCE.match(first)
    title = match.group(1) if match else first
    if len(title) > DERIVED_TITLE_CHARS:
        title = title[:DERIVED_TITLE_CHARS].rsplit(" ", 1)[0] + "\u2026"
    return title


def _optional(value: str | None) -> str | None:
    return value.strip() or None if value else None


# --- the run -------------------------------------------------------------------------


def ingest(store: Store, records: Iterable[ArticleRecord | Problem], *, n_process: int | None = None,
           on_progress: ProgressCallback | None = None, embed: bool = True) -> IngestSummary:
    """Index ``records`` (readers may interleave ``Problem``s for records they
    could not read). ``n_process=None`` uses two spaCy processes when at least
    ``PARALLEL_MIN_ARTICLES`` articles need analysis (and two cores exist).
    ``embed=False`` leaves vectors empty: for benchmarks only.
    """
    started = time.perf_counter()
    run = _Run(store, on_progress or (lambda n: None))
    clocks = [_Clock() for _ in range(4)]
    changed = clocks[0].wrap(run.changed(run.prepared(records)))
    changed, run.summary.processes = _with_processes(changed, n_process)
    analysis = _Analysis(changed, run.summary.processes)
    analysed = clocks[1].wrap(analysis)
    embedded = clocks[2].wrap(_embedded(analysed, _embed_threads()) if embed else analysed)
    try:
        for outcome in clocks[3].wrap(store.write_articles(embedded)):
            run.written(outcome)
    except Exception:
        # A fatal error (a full disk): let spaCy's worker processes finish
        # before it propagates, or the process could never exit.
        analysis.stop()
        raise
    run.summary.stages = _stage_seconds([clock.seconds for clock in clocks])
    run.summary.cpu = _stage_seconds([clock.cpu_seconds for clock in clocks])
    run.summary.seconds = time.perf_counter() - started
    return run.summary


def ingest_one(store: Store, record: ArticleRecord) -> WriteOutcome:
    """Index one article (the API's POST): raise ``InvalidArticle`` if it
    cannot be indexed, return what the store did with it. The write is
    ``posted``: a rebuild (``--reindex``) carries it."""
    article = prepare(record)
    if store.content_hashes([article.id]).get(article.id) == article.content_hash:
        return WriteOutcome(article.id, WriteStatus.UNCHANGED)
    analysed = _embedded(iter(_Analysis(iter([article]), 1)))
    return next(iter(store.write_articles(analysed, posted=True)))


class _Run:
    """Counters, duplicate detection and problems of one ``ingest`` call."""

    def __init__(self, store: Store, on_progress: ProgressCallback) -> None:
        self.store = store
        self.on_progress = on_progress
        self.summary = IngestSummary()
        self.seen: dict[str, tuple[str, Origin]] = {}  # id -> (content hash, first origin)

    def prepared(self, records: Iterable[ArticleRecord | Problem]) -> Iterator[Article]:
        """Valid, cleaned, first-seen articles; everything else reported."""
        for record in records:
            if isinstance(record, Problem):
                self.report(record)
                continue
            try:
                article = prepare(record)
            except InvalidArticle as e:
                self.report(Problem(record.origin, str(e)))
                continue
            if self.first_time(article, record.origin):
                yield article

    def first_time(self, article: Article, origin: Origin) -> bool:
        first = self.seen.get(article.id)
        if first is None:
            self.seen[article.id] = (article.content_hash, origin)
            return True
        same = "same content" if first[0] == article.content_hash else "different content; the first is kept"
        self.summary.duplicates += 1
        self.report(Problem(origin, f"duplicate id {article.id!r} ({same}; first at {first[1]})", skipped=False))
        return False

    def changed(self, articles: Iterator[Article]) -> Iterator[Article]:
        """Articles whose stored content hash differs (or that are not stored)."""
        for chunk in _chunks(articles, HASH_LOOKUP_BATCH):
            stored = self.store.content_hashes([a.id for a in chunk])
            for article in chunk:
                if stored.get(article.id) == article.content_hash:
                    self.summary.unchanged += 1
                    self.on_progress(1)
                else:
                    yield article

    def report(self, problem: Problem) -> None:
        """Record a problem; it settles one input item (progress counts items)."""
        self.summary.problems.append(problem)
        if problem.skipped:
            self.summary.skipped += 1
        self.on_progress(1)

    def written(self, outcome: WriteOutcome) -> None:
        summary = self.summary
        if outcome.status is WriteStatus.UNCHANGED:
            summary.unchanged += 1
        else:
            summary.new += outcome.status is WriteStatus.NEW
            summary.updated += outcome.status is WriteStatus.UPDATED
            summary.sentences += outcome.sentences
            summary.entities += outcome.entities
            if len(summary.written) < WRITTEN_KEPT:
                origin = self.seen[outcome.article_id][1] if outcome.article_id in self.seen else Origin("")
                summary.written.append((outcome.article_id, outcome.status.value, origin))
        self.on_progress(1)


# --- stages ----------------------------------------------------------------------------


class _Analysis:
    """spaCy over the articles (``nlp.analyse_articles``), lazily, in input
    order, that a failed run can stop without leaving worker processes behind.

    spaCy's worker processes must be drained, not abandoned: when its
    generator is closed early it queues a stop marker *behind* the work the
    workers already hold and joins them, but nobody reads their results any
    more, so a worker blocks on its full pipe and the join waits forever (a
    full disk hung the indexer this way). ``stop()`` therefore feeds no more
    input and reads what the workers still have (a few batches), so they finish
    and exit. An error raised while reading the input (a store read in
    ``changed``) is held back the same way and re-raised once spaCy has
    finished, instead of passing through spaCy's generator.
    """

    def __init__(self, articles: Iterator[Article], n_process: int) -> None:
        self._articles = articles
        self._n_process = n_process
        self._stopped = False
        self._failure: Exception | None = None
        self._analysed: Iterator[Article] | None = None

    def __iter__(self) -> Iterator[Article]:
        first = next(self._articles, None)
        if first is None:
            return  # the model is loaded only if some article needs it
        from claimlookup import nlp

        self._analysed = nlp.analyse_articles(itertools.chain([first], self._input()), n_process=self._n_process)
        for article in self._analysed:
            if self._failure is not None:
                break
            yield article
        if self._failure is not None:
            self.stop()
            raise self._failure

    def _input(self) -> Iterator[Article]:
        while not self._stopped:
            try:
                article = next(self._articles)
            except StopIteration:
                return
            except Exception as e:  # noqa: BLE001 - re-raised by __iter__ once spaCy is done
                self._failure = e
                return
            yield article

    def stop(self) -> None:
        """End the analysis early: no more input; what the workers hold is
        read and dropped, so they exit. Call it only while no stage is inside
        ``next()`` of this analysis (from the run's error handling)."""
        self._stopped = True
        if self._analysed is not None and self._n_process > 1:
            for _ in self._analysed:
                pass


def _embedded(articles: Iterator[Article], threads: int = 1, memo_texts: int = EMBED_MEMO_TEXTS) -> Iterator[Article]:
    """Set every sentence's vector (titles included), embedding the texts of
    several articles per call; identical texts are embedded once, in a call
    and across calls while the text is among the run's ``memo_texts`` most
    recently used (a text's vector does not depend on the batch it is
    embedded in: ``claimlookup.embed``). With
    ``threads > 1`` each call's texts are split over that many threads:
    onnxruntime releases the GIL while it runs, so one single-threaded session
    per core does twice the work of one without the spinning that intra-op
    threads cost on a busy machine (docs/benchmarks.md)."""
    from claimlookup.embed import get_embedder

    memo: dict[str, np.ndarray] = {}  # least recently used first
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for chunk in _chunks_by_size(articles, EMBED_CHUNK_TEXTS, lambda a: len(a.sentences)):
            texts = sorted(dict.fromkeys(s.text for a in chunk for s in a.sentences if s.text not in memo), key=len)
            parts = [texts[i::threads] for i in range(threads)]  # similar lengths in every part
            embedder = get_embedder()
            vectors = dict(zip(itertools.chain(*parts), itertools.chain(*pool.map(embedder.embed, parts)), strict=True))
            for article in chunk:
                for sentence in article.sentences:
                    text = sentence.text
                    if text in vectors:
                        sentence.vector = vectors[text]
                    else:
                        sentence.vector = memo[text] = memo.pop(text)  # used again: now the most recent
            if memo_texts > 0:
                memo.update((t, v) for t, v in vectors.items() if len(t) <= EMBED_MEMO_CHARS)
                for text in list(itertools.islice(memo, max(0, len(memo) - memo_texts))):
                    del memo[text]
            yield from chunk


def _embed_threads() -> int:
    """One embedding thread per core, at most ``MAX_EMBED_THREADS``."""
    return max(1, min(os.cpu_count() or 1, MAX_EMBED_THREADS))


def _with_processes(articles: Iterator[Article], n_process: int | None) -> tuple[Iterator[Article], int]:
    """Decide how many spaCy processes to use, peeking at most
    ``PARALLEL_MIN_ARTICLES`` articles ahead when not told."""
    if n_process is not None:
        return articles, max(1, n_process)
    head = list(itertools.islice(articles, PARALLEL_MIN_ARTICLES))
    enough = len(head) >= PARALLEL_MIN_ARTICLES and (os.cpu_count() or 1) >= 2
    return itertools.chain(head, articles), 2 if enough else 1


def _chunks(items: Iterable[Article], size: int) -> Iterator[list[Article]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _chunks_by_size(items: Iterable[Article], limit: int, size: Callable[[Article], int]) -> Iterator[list[Article]]:
    """Group items until their total size reaches ``limit``."""
    chunk: list[Article] = []
    total = 0
    for item in items:
        chunk.append(item)
        total += size(item)
        if total >= limit:
            yield chunk
            chunk, total = [], 0
    if chunk:
        yield chunk


class _Clock:
    """Accumulates the wall-clock and CPU time spent in ``next()`` of one
    stage (upstream stages included)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0

    def wrap(self, iterable: Iterable[_T]) -> Iterator[_T]:
        iterator = iter(iterable)
        while True:
            started, cpu_started = time.perf_counter(), time.process_time()
            try:
                item = next(iterator)
            except StopIteration:
                return
            finally:
                self.seconds += time.perf_counter() - started
                self.cpu_seconds += time.process_time() - cpu_started
            yield item


def _stage_seconds(inclusive: list[float]) -> StageSeconds:
    """Each stage's own time: its clock minus the clock of the stage it pulls from."""
    own = [inclusive[0]] + [max(0.0, b - a) for a, b in zip(inclusive, inclusive[1:], strict=False)]
    return StageSeconds(*own)
