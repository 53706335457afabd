"""Grouping candidate sentences by article, folding copies, excluding articles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from claimlookup import caches, fusion
from claimlookup.lookup.reads import stored_articles
from claimlookup.lookup.scoring import ScoredCandidates
from claimlookup.model import TITLE_POSITION, Article, Sentence, SentenceRef, StoredSentence
from claimlookup.store.base import Store

#: Two reports are copies (syndication, re-posts) when their titles are the
#: same once normalised, or their best sentences are identical and their
#: titles' vectors at least this close.
COPY_TITLE_COSINE = 0.9
FOLD_DEPTH = 4

@dataclass(slots=True)
class _Group:
    """One article's scored candidate sentences, best first."""

    article_id: str
    index: int  # into ScoredCandidates.articles
    rows: list[int]  # sentence indices into the ScoredCandidates, best first
    score: float
    copies: list[_Group] = field(default_factory=list)


def group_by_article(candidates: ScoredCandidates) -> list[_Group]:
    """Articles best first (by article score), each with its sentence rows
    best first."""
    scores = candidates.scores
    groups = [_Group(article, k, sorted(rows, key=lambda i: -scores[i]), float(candidates.article_scores[k]))
              for k, (article, rows) in enumerate(zip(candidates.articles, candidates.article_rows, strict=True))]
    return sorted(groups, key=lambda g: -g.score)


@caches.lru(caches.NORMALISED_TEXT)
def _normalised_text(text: str) -> str:
    return " ".join(w for _, _, w in fusion.words(text.lower()))


def fold_copies(candidates: ScoredCandidates, groups: list[_Group]) -> list[_Group]:
    """Fold syndicated and re-posted copies into one report.

    Two articles are copies when their titles are the same once normalised
    (case, punctuation, spacing), or when their best sentences are the same
    and their titles' vectors are at least COPY_TITLE_COSINE close. A family
    of copies is led by its earliest-published article (undated ones count as
    latest; on a tie, the better-scored one); the lead takes the family's best
    score and lists the others as ``copies``. Groups stay best first.
    """
    sent = candidates.sentences
    families: list[list[_Group]] = []
    by_title: dict[str, int] = {}
    by_sentence: dict[str, list[int]] = {}
    for group in groups:
        best = sent[group.rows[0]]
        title = _normalised_text(best.title)
        text = _normalised_text(best.sentence.text)
        family = by_title.get(title) if title else None
        if family is None:
            vector = _title_vector([sent[i] for i in group.rows])
            family = next((f for f in by_sentence.get(text, ())
                           if _close(vector, _title_vector([sent[i] for i in families[f][0].rows]))), None)
        if family is None:
            family = len(families)
            families.append([])
            by_sentence.setdefault(text, []).append(family)
            if title:
                by_title[title] = family
        families[family].append(group)
    out = []
    for members in families:
        lead = min(members, key=lambda g: (_published_key(sent[g.rows[0]]), -g.score))
        lead.copies = [g for g in members if g is not lead]
        lead.score = max(g.score for g in members)
        out.append(lead)
    return sorted(out, key=lambda g: -g.score)


def _title_vector(sentences: Sequence[StoredSentence]) -> np.ndarray | None:
    return next((s.sentence.vector for s in sentences if s.ref.position == TITLE_POSITION), None)


def _close(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return a is not None and b is not None and float(a @ b) >= COPY_TITLE_COSINE


def _published_key(s: StoredSentence) -> tuple[int, str]:
    return (0, s.published.isoformat()) if s.published else (1, "")



@dataclass(slots=True)
class _Exclusion:
    """Articles that are never reports (the scanned article, ``exclude_articles``)
    and their copies: a candidate is a copy of one when their normalised titles
    are equal, or when its best sentence is one of that article's sentences and
    their titles' vectors are at least COPY_TITLE_COSINE close (the rule of
    ``fold_copies``)."""

    article_ids: frozenset[str]
    titles: frozenset[str]
    sentences: frozenset[str]
    title_vectors: list[np.ndarray]

    def covers(self, candidates: ScoredCandidates, group: _Group) -> bool:
        for g in (group, *group.copies):
            best = candidates.sentences[g.rows[0]]
            if best.ref.article_id in self.article_ids or _normalised_text(best.title) in self.titles:
                return True
            if _normalised_text(best.sentence.text) in self.sentences:
                vector = _title_vector([candidates.sentences[i] for i in g.rows])
                if any(_close(vector, v) for v in self.title_vectors):
                    return True
        return False


def _exclusion(articles: Sequence[tuple[Article, list[StoredSentence]]],
               page: Sequence[Sentence] = ()) -> _Exclusion | None:
    """The exclusion of stored articles, each given with its stored sentences,
    and of a scanned page given as its analysed sentences, the first taken as
    its title (with its vector): the same copy rule as for an indexed article."""
    if not articles and not page:
        return None
    page_title = [page[0]] if page else []
    return _Exclusion(
        frozenset(a.id for a, _ in articles),
        frozenset(_normalised_text(a.title) for a, _ in articles) | {_normalised_text(s.text) for s in page_title},
        frozenset(_normalised_text(s.text) for a, _ in articles for s in a.sentences)
        | {_normalised_text(s.text) for s in page},
        [s.sentence.vector for _, stored in articles for s in stored
         if s.ref.position == TITLE_POSITION and s.sentence.vector is not None]
        + [np.asarray(s.vector, dtype=np.float32) for s in page_title if s.vector is not None])


def _excluded_articles(store: Store, article_ids: Sequence[str]) -> list[tuple[Article, list[StoredSentence]]]:
    """The stored articles of ``Filters.exclude_articles`` with their title
    sentence; ids not in the store are skipped (nothing to exclude). One
    ``get_sentences`` call for all titles, the articles read in one batch
    where the store can (``reads.stored_articles``)."""
    articles = stored_articles(store, article_ids)
    titles: dict[str, list[StoredSentence]] = {}
    for title in store.get_sentences([SentenceRef(a.id, TITLE_POSITION) for a in articles]) if articles else []:
        titles.setdefault(title.ref.article_id, []).append(title)
    return [(article, titles.get(article.id, [])) for article in articles]

