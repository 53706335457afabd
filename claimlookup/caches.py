"""Every cache of the package, declared in one place: its name, its bound,
what it holds and why it is there.

A cached function takes its bound from here (``@caches.lru(NAME)``; the name
is where it lives), so :func:`clear_all` (tests, the fitting scripts) empties
every memo of the modules imported so far without knowing them. Nothing
else in ``claimlookup`` keeps a module-level memo; per-instance memos and
per-process pools are declared here too (``kind``), though ``clear_all``
leaves them alone (a pool is not a cache of results, and an instance's memo
goes with the instance).

Kinds:

- ``memo``: results of a pure function of its arguments, bounded by count
  (most text-keyed memos hold a few hundred bytes an entry: 100,000 entries
  is tens of MB; a sentence's terms are ~4 KB, so that memo holds fewer).
- ``data``: a checked-in file read once per path (a handful of paths).
- ``model``: a loaded model, one per process (``clear_all(models=True)``
  drops them; the next call loads again, seconds).
- ``instance``: a memo kept on one value, bounded by that value's size.
- ``pool``: a per-process executor, created on first use.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from functools import _lru_cache_wrapper

T = TypeVar("T")

Kind = Literal["memo", "data", "model", "instance", "pool"]


@dataclass(frozen=True, slots=True)
class Cache:
    """One declared cache: ``bound`` entries at most (None: bounded by
    something other than a count, said in ``holds``)."""

    name: str  # module:qualified name of what it caches
    kind: Kind
    bound: int | None
    holds: str
    why: str


# --- memos of pure functions ----------------------------------------------------
STEM = "claimlookup.fusion:stem"
TEXT_TERMS = "claimlookup.lookup.features:_terms"
KEY_WORDS = "claimlookup.lookup.features:_key_word"
NORMALISED_TEXT = "claimlookup.lookup.grouping:_normalised_text"
PLACE_WORD = "claimlookup.nlp.places:word_key"
PLACE_IN = "claimlookup.nlp.places:place_in"
# --- data files -----------------------------------------------------------------
NEWS_MODEL = "claimlookup.fusion:load_news_model"
FUSION = "claimlookup.fusion:load_fusion"
TERM_WEIGHTS = "claimlookup.fusion:TermWeights.load"
CALIBRATION = "claimlookup.lookup.judging:load_calibration"
ES_MAPPING = "claimlookup.store.elastic.indices:load_mapping"
GAZETTEER = "claimlookup.nlp.places:load_gazetteer"
# --- models ---------------------------------------------------------------------
RELATION_MODEL = "claimlookup.lookup.judging:get_relation_model"
NLP = "claimlookup.nlp.pipeline:get_nlp"
EMBEDDER = "claimlookup.embed:get_embedder"
NAME_TOKENIZER = "claimlookup.nlp.places:_tokenizer"
# --- per-instance memos and per-process pools -------------------------------------
ENTITIES_FOUND = "claimlookup.lookup.features:CandidateSet.entities_found"
CLAIM_ANALYSIS = "claimlookup.lookup.claim:_analysis_thread"
RELATION_HELPERS = "claimlookup.relation:RelationModel.logits"
RELATION_PAIRS = "claimlookup.relation:RelationModel._memo"
SCAN_HELPERS = "claimlookup.lookup.service:scan"
ENTITY_FORMS = "claimlookup.store.sqlite.adapter:SQLiteStore._forms"
INGEST_VECTORS = "claimlookup.pipeline:_embedded"

CACHES: dict[str, Cache] = {c.name: c for c in (
    Cache(STEM, "memo", 100_000, "word -> its stem",
          "every feature, coverage and highlight stems the same few thousand words again and again"),
    Cache(TEXT_TERMS, "memo", 20_000, "sentence text -> its stems, words, counts and IDF weight "
          "(~3.6-4.2 KB an entry with interned words: ~80 MB full)",
          "a candidate sentence is analysed by the features, the article features and the entity "
          "checks of every claim it is a candidate for (100,000 entries were ~500 MB per worker "
          "on a large archive)"),
    Cache(KEY_WORDS, "memo", 100_000, "entity key -> its words",
          "entity matching splits the same sentences' keys for every claim entity"),
    Cache(NORMALISED_TEXT, "memo", 50_000, "title or sentence text -> lower-cased words joined",
          "copy folding compares every candidate article's title and best sentence"),
    Cache(PLACE_WORD, "memo", 100_000, "token text -> its word of a place key (spelling fold)",
          "the gazetteer component folds every token of every Doc; news text repeats the same words"),
    Cache(PLACE_IN, "memo", 10_000, "entity text -> the gazetteer place named in it, or None",
          "the speaker rules ask whether the same place names speak, sentence after sentence"),
    Cache(NEWS_MODEL, "data", 4, "path -> the news-evidence model (data/news-weights.json)",
          "read once per path; the fitting scripts pass other paths"),
    Cache(FUSION, "data", 4, "path -> the fitted sentence and article models (data/fusion-weights.json)",
          "read once per path; the fitting scripts pass other paths"),
    Cache(TERM_WEIGHTS, "data", 1, "the fixed IDF table (data/term-idf.json)",
          "read once per process; every feature looks terms up in it"),
    Cache(CALIBRATION, "data", 1, "the report score's calibration (data/relation-calibration.json), or None",
          "read once per process (the training script clears it after a fit)"),
    Cache(ES_MAPPING, "data", 1, "the Elasticsearch settings and mappings (es-mapping.json)",
          "read once per process (declared here; the decorator in the store keeps its literal bound)"),
    Cache(GAZETTEER, "data", 4, "path -> the places gazetteer (data/places.tsv), keyed by folded words",
          "read once per path (the spaCy component and the speaker rules share it)"),
    Cache(RELATION_MODEL, "model", 1, "the claim-relation model",
          "loaded once per process, on first use: loading is slow"),
    Cache(NLP, "model", 1, "the spaCy pipeline", "loaded once per process: loading is slow"),
    Cache(EMBEDDER, "model", 1, "the sentence embedder", "loaded once per process: loading is slow"),
    Cache(NAME_TOKENIZER, "model", 1, "spaCy's blank English tokenizer",
          "splits gazetteer names and speaker texts as the model's tokenizer splits a Doc"),
    Cache(ENTITIES_FOUND, "instance", None,
          "article index -> the claim entities it mentions, one per candidate article of the set",
          "the article features, the news features and the reports all ask; the memo goes with the set"),
    Cache(CLAIM_ANALYSIS, "pool", 1, "one thread per process running spaCy (recreated in a forked child)",
          "lookups never run the pipeline concurrently, and it overlaps with the embedding"),
    Cache(RELATION_HELPERS, "pool", None,
          "helper threads of the claim-relation model, relation_threads - 1 per process (claimlookup.parallel)",
          "one lookup's pairs are scored on the cores other requests leave idle; a call never waits for a busy helper"),
    Cache(RELATION_PAIRS, "instance", None,
          "(claim, passage) digest -> the relation model's 4 logits, up to CLAIMLOOKUP_RELATION_MEMO "
          "pairs (default 20,000; ~180 bytes a pair: ~3.6 MB full)",
          "the model is ~85 % of a lookup's CPU; a claim looked up again, or a page scanned again (a "
          "browser extension's readers open the same articles), reads the same pairs"),
    Cache(ENTITY_FORMS, "instance", 20_000,
          "entity key -> its (label, name, articles) forms in the store, for one snapshot of the file "
          "(a new memo for every (epoch, generation) token; a few hundred bytes a key)",
          "search facets and the entity catalogue name each entity as most articles write it, which "
          "counts thousands of rows for a common key at a million sentences, on every search"),
    Cache(INGEST_VECTORS, "instance", 20_000,
          "sentence text -> its vector, for one ingest run (pipeline.EMBED_MEMO_TEXTS; texts of at most "
          "EMBED_MEMO_CHARS characters; ~1.6 KB an entry with the text: ~35 MB full), least recently used first out",
          "wire copies and standing lines repeat across the embedder calls of a run (~5 % of the texts of "
          "FA-KES and of the news file); the memo goes with the run"),
    Cache(SCAN_HELPERS, "pool", None,
          "helper threads of a scan, relation_threads - 1 per process (claimlookup.parallel)",
          "a scan judges its claims' reports on the cores other requests leave idle"),
)}

_LRU_KINDS = ("memo", "data", "model")


def bound(name: str) -> int | None:
    """The declared bound of cache ``name``."""
    return CACHES[name].bound


def lru(name: str) -> Callable[[Callable[..., T]], _lru_cache_wrapper[T]]:
    """``functools.lru_cache`` with the bound declared for ``name``."""
    declared = CACHES[name]
    if declared.kind not in _LRU_KINDS:
        raise ValueError(f"{name} is a {declared.kind}, not an lru cache")
    return functools.lru_cache(maxsize=declared.bound)


def loaded() -> dict[str, Any]:
    """The declared lru caches of the modules imported so far, by name."""
    out = {}
    for name, declared in CACHES.items():
        module_name, _, path = name.partition(":")
        target: Any = sys.modules.get(module_name)
        if declared.kind not in _LRU_KINDS or target is None:
            continue
        for part in path.split("."):
            target = getattr(target, part)
        out[name] = target
    return out


def clear_all(models: bool = False) -> None:
    """Empty every declared memo and data cache of the modules imported so
    far (and, with ``models``, drop the loaded models: the next call loads
    them again). Instance memos and pools are not touched."""
    for name, cached in loaded().items():
        if CACHES[name].kind != "model" or models:
            cached.cache_clear()
