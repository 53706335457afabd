"""Scoring: the fitted sentence and article models and the news-evidence stage."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from claimlookup import fusion
from claimlookup.lookup.claim import PreparedClaim
from claimlookup.lookup.features import ARTICLE_FEATURES, SENTENCE_FEATURES, CandidateSet, article_features
from claimlookup.lookup.figures import comparable, same_thing_agreement
from claimlookup.model import Agreement, Quantity, StoredSentence


@dataclass(frozen=True, slots=True, eq=False)
class ScoredCandidates:
    """A candidate set and its scores: the second stage of a lookup, what
    ``score`` returns (a new value; the candidate set is not changed).

    Rows of ``logits`` / ``scores`` / ``news_features`` align with
    ``candidates.sentences``; rows of ``article_features`` /
    ``article_scores`` / ``article_news_features`` with
    ``candidates.articles``. The candidate set's fields read through.
    """

    candidates: CandidateSet
    logits: np.ndarray  # (len(sentences),) sentence log-odds, news evidence included where it applies
    scores: np.ndarray  # (len(sentences),) sigmoid(logits)
    article_features: np.ndarray  # (len(articles), len(ARTICLE_FEATURES))
    article_scores: np.ndarray  # (len(articles),) article probabilities
    news_features: np.ndarray  # (len(sentences), len(NEWS_FEATURES))
    article_news_features: np.ndarray  # (len(articles), len(NEWS_FEATURES))

    @property
    def claim(self) -> PreparedClaim:
        return self.candidates.claim

    @property
    def sentences(self) -> list[StoredSentence]:
        return self.candidates.sentences

    @property
    def features(self) -> np.ndarray:
        return self.candidates.features

    @property
    def articles(self) -> list[str]:
        return self.candidates.articles

    @property
    def article_rows(self) -> list[list[int]]:
        return self.candidates.article_rows

    def entities_found(self, k: int) -> list[str]:
        """The claim's entity keys that article ``k`` mentions (the candidate set's memo)."""
        return self.candidates.entities_found(k)


# --- news evidence ------------------------------------------------------------------------

#: Evidence the CheckThat! fit cannot weigh. CheckThat! pairs a tweet with a
#: one-sentence fact-check: figures almost never occur on both sides, and
#: "the article never names the claim's place" or "the article covers every
#: word of the claim" cannot happen, so the fitted models give these ~0 (or
#: wild) weights. In news they decide whether two reports are about the same
#: event. A second small logistic model (``fusion.load_news_model``, fitted
#: by `python -m claimlookup.training news` on the hand-judged news claims, with the fitted
#: article log-odds as offset) says what to add to the log-odds; see
#: docs/lookup.md, "Scores". It is fitted on articles and applied to their
#: sentences too (a sentence carries its article's entity and coverage
#: evidence and its own figures): sentence scores are an approximation.
NEWS_FEATURES = (
    "entities_missing",   # claim entities the whole article never mentions (at most 3)
    "figure_same",        # the sentence (article: one of its best two) gives the claim's figure
    "figure_different",   # only other figures for a thing the claim counts (article: its best two,
                          # and none of its candidate sentences gives the claim's)
    "figure_far",         # ... and even the closest is off by a factor of FAR_FIGURE or more
    "coverage",           # IDF-weighted share of the claim's words in the article's fetched sentences
    "relative",           # log-odds the fitted sentence model gives for RELATIVE_FEATURES (article: best sentence)
)
#: The fitted features that compare a candidate with the claim's other
#: candidates: on CheckThat! a tweet has one fact-check, in news a claim has
#: many reports, so the news model may discount them.
RELATIVE_FEATURES = ("cosine_gap", "rank_vector", "rank_lexical")


#: An article's figure evidence is that of its best FIGURE_SENTENCES sentences.
FIGURE_SENTENCES = 2
#: Two figures for the same thing this many times apart are "far": outlets
#: disagree on tolls (the seeds: 20 and 27), rarely by a factor of two.
FAR_FIGURE = 2.0


def news_features(candidates: CandidateSet, fitted: np.ndarray,
                  articles: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """NEWS_FEATURES per sentence row and per article, given the fitted
    sentence log-odds and the ARTICLE_FEATURES they give (``articles``;
    computed here if not given). A sentence carries its article's missing entities (the
    article is its context: "the city" in one sentence is named in another)
    and its own figures; an article its missing entities and the figures of
    its best FIGURE_SENTENCES sentences (a toll in an unrelated paragraph is
    no evidence that it reports the claim), except that it does not give "only
    other figures" if any of its candidate sentences gives the claim's (a toll
    revised from 20 to 27). Vague figures ("dozens") are no evidence either way."""
    claim, sentences = candidates.claim, candidates.sentences
    if articles is None:
        articles = article_features(candidates, fitted)
    rows = np.zeros((len(sentences), len(NEWS_FEATURES)))
    arts = np.zeros((len(candidates.articles), len(NEWS_FEATURES)))
    figures = [q for q in claim.quantities if q.qualifier != "vague"]
    model = _models().sentence
    relative = [model.features.index(n) for n in RELATIVE_FEATURES]
    z = (candidates.features[:, relative] - model.means[relative]) / model.scales[relative]
    rows[:, 5] = z @ model.weights[relative]
    for k, members in enumerate(candidates.article_rows):
        if claim.entities:
            found = candidates.entities_found(k)
            arts[k, 0] = min(len(claim.entities) - len(found), 3)
        for i in members:
            rows[i, 0] = arts[k, 0]
            if figures:
                given = [q for q in sentences[i].sentence.quantities if q.qualifier != "vague"]
                agreements = {same_thing_agreement(figures, q) for q in given}
                rows[i, 1] = float(Agreement.SAME in agreements)
                if Agreement.SAME not in agreements and Agreement.DIFFERENT in agreements:
                    rows[i, 2] = 1.0
                    rows[i, 3] = float(min(_figure_ratio(a, b) for a in figures for b in given
                                           if comparable(a, b)) >= FAR_FIGURE)
        best = sorted(members, key=lambda i: -fitted[i])[:FIGURE_SENTENCES]
        arts[k, 1] = float(any(rows[i, 1] for i in best))
        different = [i for i in best if rows[i, 2]]
        # Only other figures: not if another of its candidate sentences gives
        # the claim's (a toll revised from 20 to 27 in the same article).
        if not any(rows[i, 1] for i in members) and different:
            arts[k, 2] = 1.0
            arts[k, 3] = min(rows[i, 3] for i in different)
        arts[k, 4] = articles[k, ARTICLE_FEATURES.index("coverage_article")]
        rows[members, 4] = arts[k, 4]
        arts[k, 5] = rows[best[0], 5]
    return rows, arts


def _figure_ratio(a: Quantity, b: Quantity) -> float:
    """Larger / smaller of two figures (a figure below 1 counts as 1)."""
    low, high = sorted((max(a.value, 1.0), max(b.value, 1.0)))
    return high / low


# --- scoring and grouping ---------------------------------------------------------------


def score(candidates: CandidateSet, models: fusion.Fusion | None = None) -> ScoredCandidates:
    """The sentence and article scores (calibrated probabilities) of the
    candidates, with the evidence they come from."""
    models = models or _models()
    news = _news_model()
    fitted = models.sentence.logits(candidates.features)
    articles = article_features(candidates, fitted)
    sentence_news, article_news = news_features(candidates, fitted, articles)
    applies = news_applies(candidates.claim)
    logits = fitted + (news.logits(sentence_news) if applies else 0.0)
    article_scores = fusion.sigmoid(models.article.logits(articles)
                                    + (news.logits(article_news) if applies else 0.0))
    return ScoredCandidates(candidates, logits, fusion.sigmoid(logits), articles, article_scores,
                            sentence_news, article_news)


def news_applies(claim: PreparedClaim) -> bool:
    """Whether the news-evidence model scores this claim: it gives a figure
    (not a vague one), like every claim the model was fitted on. Other claims
    keep the CheckThat!-fitted score (docs/lookup.md, "News evidence")."""
    return any(q.qualifier != "vague" for q in claim.quantities)


def _news_model() -> fusion.FusionModel:
    model = fusion.load_news_model()
    if model.features != NEWS_FEATURES:
        raise fusion.FusionModelError(
            f"{fusion.NEWS_WEIGHTS_PATH} was fitted on features {model.features}, the lookup computes "
            f"{NEWS_FEATURES}; run python -m claimlookup.training news --split all")
    return model


def _models() -> fusion.Fusion:
    models = fusion.load_fusion()
    for model, names in ((models.sentence, SENTENCE_FEATURES), (models.article, ARTICLE_FEATURES)):
        if model.features != names:
            raise fusion.FusionModelError(
                f"{fusion.WEIGHTS_PATH} was fitted on features {model.features}, the lookup computes "
                f"{names}; run python -m claimlookup.training fusion")
    return models


