"""Candidate sentences of a claim and the evidence about each (features)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from claimlookup import caches, fusion
from claimlookup.lookup.claim import PreparedClaim
from claimlookup.lookup.reads import find_candidates
from claimlookup.model import TITLE_POSITION, Filters, ParsedQuery, Sentence, SentenceRef, StoredSentence, Term
from claimlookup.store.base import FoundCandidates, Store

#: Sentences proposed by BM25 and by the vectors, per claim (the union is scored).
LEXICAL_CANDIDATES = 40
VECTOR_CANDIDATES = 40
#: At most this many of the claim's key terms (the rarest, by the fixed IDF
#: table) in the lexical OR-query. Cutting to 8 made the query ~10x cheaper
#: but cost 0.03 MAP@5 on CheckThat! dev, so the cap only guards long texts.
MAX_QUERY_TERMS = 32
#: Lexical candidates are proposed by the store's BM25 for the claim's
#: PROPOSING_TERMS rarest terms (cheap: rare terms have short postings); the
#: BM25 feature of every candidate is then computed here over all its terms.
PROPOSING_TERMS = 6
#: BM25 parameters of the lexical feature (``bm25``), computed in the lookup.
BM25_K1 = 1.2
BM25_B = 0.75
BM25_AVERAGE_LENGTH = 12.0  # content words of a typical news sentence

# --- candidates and features --------------------------------------------------------

#: Evidence about one candidate sentence, in the order of the sentence model's
#: weights. ``cosine_gap`` and ``rank_*`` compare it with the claim's other
#: candidates: a sentence far behind the best one is rarely the same claim.
SENTENCE_FEATURES = (
    "bm25",               # BM25 (fixed IDF, see bm25()) / best BM25 among this claim's candidates
    "coverage",           # IDF-weighted share of the claim's content words in the sentence
    "coverage_reverse",   # IDF-weighted share of the sentence's content words in the claim
    "cosine",             # claim vector . sentence vector
    "cosine_gap",         # cosine - the best cosine among the candidates
    "rank_vector",        # 1 / (1 + rank of the sentence by cosine / RANK_SCALE)
    "rank_lexical",       # 1 / (1 + rank of the sentence by bm25 / RANK_SCALE)
    "entities_shared",    # claim entities the sentence mentions (at most 3)
    "entities_missing",   # claim entities it does not mention (at most 3)
)
#: Evidence about a candidate article, over the sentences the lookup fetched
#: of it (its title and every candidate sentence), in the order of the
#: article model's weights.
ARTICLE_FEATURES = (
    "best_sentence",      # log-odds of its best sentence (sentence model)
    "second_sentence",    # log-odds of its second best (best - 5 when it has one)
    "coverage_article",   # IDF-weighted share of the claim's words in those sentences together
    "entities_shared",    # claim entities the article mentions (at most 3)
    "entities_missing",   # claim entities it does not mention (at most 3)
    "title_cosine",       # cosine of its title
    "title_bm25",         # bm25 feature of its title (0 if the title does not match)
)
#: Rank features are 1 / (1 + rank / RANK_SCALE): how far down the claim's
#: candidates a sentence sits, softened so that the fifth of five good
#: reports is not scored as a near miss (docs/lookup.md, "Ranks").
RANK_SCALE = 3.0
#: Log-odds given to a missing second sentence: "best - SECOND_GAP".
SECOND_GAP = 5.0


@dataclass(frozen=True, slots=True, eq=False)
class CandidateSet:
    """One claim's candidate sentences, their articles and their evidence:
    the first stage of a lookup (``candidate_sets``), scored by
    ``scoring.score`` into a new ``ScoredCandidates``.

    Rows of ``features`` align with ``sentences``; ``article_rows[k]`` lists
    the sentence rows of ``articles[k]``. Immutable; the one memo it keeps
    (``entities_found_cache``, declared in ``claimlookup.caches``) holds what
    ``entities_found`` computed, at most one entry per article.
    """

    claim: PreparedClaim
    sentences: list[StoredSentence]
    features: np.ndarray  # (len(sentences), len(SENTENCE_FEATURES))
    articles: list[str] = field(default_factory=list)
    article_rows: list[list[int]] = field(default_factory=list)
    #: caches.ENTITIES_FOUND: article index -> claim entities it mentions.
    entities_found_cache: dict[int, list[str]] = field(default_factory=dict, init=False, repr=False)

    def entities_found(self, k: int) -> list[str]:
        """The claim's entity keys that article ``k`` mentions (computed once)."""
        if k not in self.entities_found_cache:
            self.entities_found_cache[k] = _article_entities_found(
                self.claim, [self.sentences[i] for i in self.article_rows[k]]) if self.claim.entities else []
        return self.entities_found_cache[k]


def lexical_query(claim: PreparedClaim, terms: int = MAX_QUERY_TERMS) -> ParsedQuery:
    """The claim's ``terms`` rarest key terms (by the fixed IDF table), in
    their order, as one OR-group; function words such as "said" left out."""
    weights = fusion.TermWeights.load()
    words = [t for t in claim.key_terms if t not in fusion.STOPWORDS]
    rarest = set(sorted(words, key=lambda t: -weights.idf(fusion.stem(t)))[:terms])
    chosen = tuple(Term(t) for t in words if t in rarest)
    return ParsedQuery(groups=(chosen,)) if chosen else ParsedQuery()


def candidate_sets(store: Store, claims: Sequence[PreparedClaim], filters: Filters,
                   limit: int | None = None) -> list[CandidateSet]:
    """Candidates of every claim with their features, from one vector search
    (all claims' vectors as one matrix) and one BM25 query per claim (on a
    store with ``BatchedCandidates``, all of them in one request: ``reads``),
    and one ``get_sentences`` call. ``limit``: candidates per source and
    claim (default LEXICAL_CANDIDATES / VECTOR_CANDIDATES)."""
    found = _find(store, claims, filters, limit or LEXICAL_CANDIDATES, limit or VECTOR_CANDIDATES)
    per_claim = _refs_per_claim(claims, found)
    stored = _stored(store, per_claim)
    return [_candidate_set_of(claim, refs, stored) for claim, refs in zip(claims, per_claim, strict=True)]


def candidate_sets_without(store: Store, claims: Sequence[PreparedClaim], filters: Filters, limit: int,
                           unwanted: Callable[[Iterable[StoredSentence]], set[str]], margin: int,
                           ) -> tuple[list[CandidateSet], set[str]]:
    """``candidate_sets(store, claims, filters', limit)`` where ``filters'``
    also excludes the articles ``unwanted`` picks among the candidates (a
    scanned page's own indexed articles), and those articles, in one search
    instead of two: each source is asked for ``limit + margin`` candidates,
    ``unwanted`` sees every sentence found (with the titles of their
    articles), and each source's list without its articles is cut to
    ``limit``. That is what the store answers to the excluding search
    whenever at least ``limit`` remain (a source ranks each sentence on its
    own: exactly for BM25 and exact vector search, up to the approximate
    index's own misses otherwise: its pool of candidates grows with the
    number asked). When a full list (``limit + margin`` hits) keeps fewer
    than ``limit``, the excluding search is run after all; a shorter list
    held every match. (Elasticsearch also drops hits of uncommitted writes
    after its search, so during an indexing run a list may be short for
    that reason and keep fewer than the excluding search would: the same
    shortfall any of its searches has then.) ``limit`` at least 1."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    found = _find(store, claims, filters, limit + margin, limit + margin)
    stored = _stored(store, _refs_per_claim(claims, found))
    dropped = unwanted(stored.values())
    lists = [*found.lexical, *found.vector]
    kept = [[c for c in hits if c.ref.article_id not in dropped] for hits in lists]
    if any(len(hits) == limit + margin and len(left) < limit for hits, left in zip(lists, kept, strict=True)):
        excluding = replace(filters, exclude_articles=tuple(dict.fromkeys((*filters.exclude_articles,
                                                                           *sorted(dropped)))))
        return candidate_sets(store, claims, excluding, limit), dropped
    cut = [left[:limit] for left in kept]
    per_claim = _refs_per_claim(claims, FoundCandidates(cut[:len(found.lexical)], cut[len(found.lexical):]))
    return [_candidate_set_of(claim, refs, stored) for claim, refs in zip(claims, per_claim, strict=True)], dropped


def _find(store: Store, claims: Sequence[PreparedClaim], filters: Filters, lexical: int, vector: int
          ) -> FoundCandidates:
    matrix = np.vstack([c.vectors for c in claims]) if claims else np.zeros((0, 1), np.float32)
    return find_candidates(store, [lexical_query(claim, PROPOSING_TERMS) for claim in claims], matrix, filters,
                           lexical_limit=lexical, vector_limit=vector)


def _refs_per_claim(claims: Sequence[PreparedClaim], found: FoundCandidates) -> list[list[SentenceRef]]:
    """Each claim's candidate refs: its lexical hits, then its vector rows'
    hits, then the titles of their articles, each once."""
    per_claim: list[list[SentenceRef]] = []
    row = 0
    for claim, proposed in zip(claims, found.lexical, strict=True):
        refs = dict.fromkeys(c.ref for c in proposed)
        for hits in found.vector[row:row + len(claim.vectors)]:
            refs.update(dict.fromkeys(c.ref for c in hits))
        row += len(claim.vectors)
        refs.update(dict.fromkeys(SentenceRef(r.article_id, TITLE_POSITION) for r in list(refs)))
        per_claim.append(list(refs))
    return per_claim


def _stored(store: Store, per_claim: list[list[SentenceRef]]) -> dict[SentenceRef, StoredSentence]:
    wanted = list(dict.fromkeys(r for refs in per_claim for r in refs))
    return {s.ref: s for s in store.get_sentences(wanted)}


def _candidate_set_of(claim: PreparedClaim, refs: list[SentenceRef],
                      stored: dict[SentenceRef, StoredSentence]) -> CandidateSet:
    return _candidate_set(claim, [stored[r] for r in refs if r in stored and stored[r].sentence.vector is not None])


@dataclass(frozen=True, slots=True)
class _TextTerms:
    """What the features need from a sentence's text, computed once per text."""

    stems: frozenset[str]
    weight: float  # sum of the stems' IDF
    words: frozenset[str]  # lower-case words, hyphens split
    counts: dict[str, int]  # content stem -> occurrences
    length: int  # content words


@caches.lru(caches.TEXT_TERMS)
def _terms(text: str) -> _TextTerms:
    weights = fusion.TermWeights.load()
    # One pass of the word pattern (a hyphen is never part of a word, so
    # "al-Numan" is already "al", "Numan"); stems of the content words.
    # Words interned: the memo holds many sentences of the same few thousand
    # words, and one string object each instead of one per sentence is ~1/3
    # of an entry (docs/benchmarks.md, "Memory of a worker").
    lowered = [sys.intern(w.lower()) for _, _, w in fusion.words(text)]
    all_stems = [fusion.stem(w) for w in lowered if w.replace("’", "'") not in fusion.STOPWORDS]
    stems = frozenset(all_stems)
    words = frozenset(lowered)
    counts: dict[str, int] = {}
    for stem in all_stems:
        counts[stem] = counts.get(stem, 0) + 1
    return _TextTerms(stems, sum(weights.idf(t) for t in stems), words, counts, len(all_stems))


def bm25(query: dict[str, float], terms: _TextTerms) -> float:
    """Okapi BM25 of a sentence for the claim's content stems (``stem ->
    IDF`` from the fixed table): k1 = BM25_K1, b = BM25_B, average length
    BM25_AVERAGE_LENGTH content words. Computed here, not by the store, so
    every store scores alike and no second query is needed."""
    norm = BM25_K1 * (1 - BM25_B + BM25_B * terms.length / BM25_AVERAGE_LENGTH)
    score = 0.0
    for stem, idf in query.items():
        tf = terms.counts.get(stem)
        if tf:
            score += idf * tf * (BM25_K1 + 1) / (tf + norm)
    return score


def _vector(s: StoredSentence) -> np.ndarray:
    """A candidate's vector (candidates without one are dropped when fetched)."""
    if s.sentence.vector is None:
        raise ValueError(f"sentence {s.ref} has no vector")
    return s.sentence.vector


def _candidate_set(claim: PreparedClaim, sentences: list[StoredSentence],
                   features: np.ndarray | None = None) -> CandidateSet:
    """The candidate set of ``sentences``; ``features``: the features of its
    first rows, kept instead of the computed ones (``with_figure_sentences``)."""
    rows_of: dict[str, list[int]] = {}
    for i, s in enumerate(sentences):
        rows_of.setdefault(s.ref.article_id, []).append(i)
    x = _sentence_features(claim, sentences)
    if features is not None:
        x[:len(features)] = features
    return CandidateSet(claim, sentences, x, list(rows_of), list(rows_of.values()))


def _sentence_features(claim: PreparedClaim, sentences: list[StoredSentence]) -> np.ndarray:
    n = len(sentences)
    x = np.zeros((n, len(SENTENCE_FEATURES)))
    if not n:
        return x
    col = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    cos = np.vstack([_vector(s) for s in sentences]).astype(np.float32) @ claim.vectors.T
    raw = np.array([bm25(claim.stems, _terms(s.sentence.text)) for s in sentences])
    x[:, col["bm25"]] = raw / raw.max() if raw.max() > 0 else 0.0
    x[:, col["cosine"]] = cos.max(axis=1)
    x[:, col["cosine_gap"]] = x[:, col["cosine"]] - x[:, col["cosine"]].max()
    x[:, col["rank_vector"]] = 1.0 / (1.0 + _ranks(x[:, col["cosine"]]) / RANK_SCALE)
    x[:, col["rank_lexical"]] = 1.0 / (1.0 + _ranks(x[:, col["bm25"]]) / RANK_SCALE)
    weights = fusion.TermWeights.load()
    for i, s in enumerate(sentences):
        terms = _terms(s.sentence.text)
        common = terms.stems.intersection(claim.stems)
        x[i, col["coverage"]] = fusion.coverage(claim.stems, terms.stems)
        x[i, col["coverage_reverse"]] = sum(weights.idf(t) for t in common) / terms.weight if terms.weight else 0.0
        shared = len(_entities_found(claim, [s.sentence])) if claim.entities else 0
        x[i, col["entities_shared"]] = min(shared, 3)
        x[i, col["entities_missing"]] = min(len(claim.entities) - shared, 3)
    return x


def article_features(candidates: CandidateSet, logits: np.ndarray) -> np.ndarray:
    """ARTICLE_FEATURES of every candidate article, given the sentence log-odds."""
    claim, sentences = candidates.claim, candidates.sentences
    x = np.zeros((len(candidates.articles), len(ARTICLE_FEATURES)))
    col = {name: i for i, name in enumerate(ARTICLE_FEATURES)}
    sent_col = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    for k, rows in enumerate(candidates.article_rows):
        ordered = np.sort(logits[rows])[::-1]
        title = next((i for i in rows if sentences[i].ref.position == TITLE_POSITION), None)
        shared = len(candidates.entities_found(k))
        x[k, col["best_sentence"]] = ordered[0]
        x[k, col["second_sentence"]] = ordered[1] if len(ordered) > 1 else ordered[0] - SECOND_GAP
        x[k, col["coverage_article"]] = fusion.coverage(
            claim.stems, frozenset().union(*(_terms(sentences[i].sentence.text).stems for i in rows)))
        x[k, col["entities_shared"]] = min(shared, 3)
        x[k, col["entities_missing"]] = min(len(claim.entities) - shared, 3)
        if title is not None:
            x[k, col["title_cosine"]] = candidates.features[title, sent_col["cosine"]]
            x[k, col["title_bm25"]] = candidates.features[title, sent_col["bm25"]]
    return x


def _ranks(values: np.ndarray) -> np.ndarray:
    """0 for the largest value, ties broken by position."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = np.arange(len(values))
    return ranks


def _entities_found(claim: PreparedClaim, sentences: Sequence[Sentence],
                    article_keys: Sequence[str] = ()) -> list[str]:
    """Keys of the claim's entities that the sentences (or, with
    ``article_keys``, the rest of their article) mention: the same key, a key
    whose words contain the other's ("trump" / "donald trump"), or all the
    key's words written in a sentence (NER missed the mention)."""
    if len(sentences) == 1:
        words = _terms(sentences[0].text).words
    else:
        words = frozenset().union(*(_terms(s.text).words for s in sentences))
    keys: list[frozenset[str]] | None = None  # built only if a claim entity is not written out
    found = []
    for entity, mine in zip(claim.entities, _key_words(e.key for e in claim.entities), strict=True):
        if not mine:
            continue
        if mine <= words:
            found.append(entity.key)
            continue
        if keys is None:
            keys = [k for s in sentences for k in _key_words(e.key for e in s.entities) if k]
            keys += [k for k in _key_words(article_keys) if k]
        if any(mine <= k or k <= mine for k in keys):
            found.append(entity.key)
    return found


def _article_entities_found(claim: PreparedClaim, stored: Sequence[StoredSentence]) -> list[str]:
    """The claim's entities that an article mentions: in the fetched
    sentences (text or entities) or anywhere in the article (its entity keys)."""
    return _entities_found(claim, [s.sentence for s in stored], stored[0].article_entities if stored else ())


def _key_words(keys: Iterable[str]) -> tuple[frozenset[str], ...]:
    return tuple(_key_word(k) for k in keys)


@caches.lru(caches.KEY_WORDS)
def _key_word(key: str) -> frozenset[str]:
    """The words of one entity key. Memoised per key, not per tuple of keys:
    a tuple memo held every article's whole key list (an OCR'd front page
    has ~170), 100 MiB per worker after 120 lookups on the 1M store."""
    return frozenset(key.split())


