"""Judging the likely reports with the claim-relation model.

The ranking stages (``features``, ``scoring``) order the candidate articles
with evidence that is partly relative (ranks, "behind the best"), which is
right for ordering and wrong for a number a journalist reads. This stage
takes the best-ranked articles and, for each, asks the relation model
(``claimlookup.relation``) how its passage relates to the claim, then:

- the report's ``score``: a calibrated probability that the article reports
  the claim, from that article's own evidence only (:data:`SCORE_FEATURES`,
  weights in ``data/relation-calibration.json``, fitted by
  ``python -m claimlookup.training calibrate``);
- the report's ``stance``: the most likely of supports / refutes / discusses
  for its passage (docs/lookup.md, "Stance");
- each shown sentence's ``stance`` and relation probability, from the model
  on (claim, that sentence), in articles whose passage the model may relate
  to the claim (SENTENCE_READING_FLOOR).

Two model batches per lookup: the passages, then the sentences.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from claimlookup import caches, fusion
from claimlookup.lookup.features import SENTENCE_FEATURES
from claimlookup.lookup.grouping import _Group
from claimlookup.lookup.scoring import ScoredCandidates
from claimlookup.model import TITLE_POSITION, ClaimStance, Frame
from claimlookup.relation import DISCUSSES, REFUTES, SUPPORTS, UNRELATED, RelationModel, article_passage

CALIBRATION_PATH = Path(__file__).resolve().parents[1] / "data" / "relation-calibration.json"
#: Evidence of one article for its calibrated score, all of it absolute (about
#: this article and the claim, never compared with the other candidates).
SCORE_FEATURES = (
    "relation",          # log-odds that the passage is related (relation model), clipped to +-8
    "relation_best",     # the same for its best judged sentence
    "cosine",            # cosine of its best candidate sentence to the claim
    "coverage",          # IDF-weighted share of the claim's words in its candidate sentences
    "entities_missing",  # claim entities the whole article never mentions (at most 3)
    "figure_same",       # one of its best two sentences gives the claim's figure
    "figure_different",  # ... give only other figures for a thing the claim counts, no candidate the claim's
)
#: Sentences of a report judged (and shown): its best ones by the ranking.
JUDGED_SENTENCES = 5
LOGIT_CLIP = 8.0
#: Sentences of an article are read one by one only when the model gives its
#: passage at least this P(related); below it (an article about something
#: else), its sentences carry the passage's probabilities. The model costs
#: about 12 ms per passage and 5 ms per sentence on one core.
SENTENCE_READING_FLOOR = 0.5
#: ... and at most this many of its shown sentences (its best by the
#: ranking); the others carry the passage's probabilities.
SENTENCES_READ = 3
_STANCES = {SUPPORTS: ClaimStance.SUPPORTS, REFUTES: ClaimStance.REFUTES, DISCUSSES: ClaimStance.DISCUSSES}


@dataclass(frozen=True, slots=True)
class Judgement:
    """What the relation stage says of one article group."""

    score: float  # calibrated P(the article reports the claim)
    stance: ClaimStance
    probabilities: tuple[float, ...]  # the passage's, in relation.LABELS order
    features: tuple[float, ...]  # SCORE_FEATURES
    sentences: dict[int, tuple[float, ...]]  # candidate row -> that sentence's probabilities
    sentence_stances: dict[int, ClaimStance]
    #: The claim reports a denial and so does one of this report's related sentences.
    reports_the_denial: bool = False


@caches.lru(caches.RELATION_MODEL)
def get_relation_model() -> RelationModel:
    """The process-wide relation model (loaded on first use, or by ``preload``)."""
    return RelationModel()


@caches.lru(caches.CALIBRATION)
def load_calibration(path: str | None = None) -> fusion.FusionModel | None:
    """The fitted score calibration, or None before the first fit."""
    file = Path(path) if path else CALIBRATION_PATH
    if not file.exists():
        return None
    model = fusion.FusionModel.from_json(json.loads(file.read_text()))
    if model.features != SCORE_FEATURES:
        raise fusion.FusionModelError(
            f"{file} was fitted on {model.features}, the lookup computes {SCORE_FEATURES}; "
            "run python -m claimlookup.training calibrate")
    return model


def passage(candidates: ScoredCandidates, group: _Group) -> str:
    """The article's passage as the model was trained on it: its title and
    its two fetched sentences closest to the claim, in article order."""
    rows = sorted(group.rows, key=lambda i: candidates.sentences[i].ref.position)
    title = [i for i in rows if candidates.sentences[i].ref.position == TITLE_POSITION]
    ordered = title + [i for i in rows if i not in title]
    cosine = candidates.features[ordered, SENTENCE_FEATURES.index("cosine")]
    return article_passage([candidates.sentences[i].sentence.text for i in ordered], cosine)


def related_logit(p: np.ndarray) -> float:
    q = float(np.clip(p[UNRELATED], 1e-6, 1 - 1e-6))
    return float(np.clip(np.log((1 - q) / q), -LOGIT_CLIP, LOGIT_CLIP))


def judge(candidates: ScoredCandidates, groups: Sequence[_Group], shown: Sequence[Sequence[int]] | None = None,
          model: RelationModel | None = None,
          calibration: fusion.FusionModel | None | bool = True) -> list[Judgement]:
    """Judge ``groups`` in one model batch: one passage per group and the
    sentence rows ``shown`` of each (default: its best JUDGED_SENTENCES).
    ``calibration`` True: the shipped one; None: the model's own P(related)."""
    if not groups:
        return []
    model = model or get_relation_model()
    if calibration is True:
        calibration = load_calibration()
    claim = candidates.claim.text
    shown = shown if shown is not None else [group.rows[:JUDGED_SENTENCES] for group in groups]
    passages = model.probabilities([claim] * len(groups), [passage(candidates, g) for g in groups])
    # Sentences are read one by one only in articles the model may relate to
    # the claim; the others' sentences carry the passage's probabilities.
    read = [k for k in range(len(groups)) if 1.0 - passages[k][UNRELATED] >= SENTENCE_READING_FLOOR]
    texts = [candidates.sentences[i].sentence.text for k in read for i in shown[k][:SENTENCES_READ]]
    probs = model.probabilities([claim] * len(texts), texts)
    by_row: dict[tuple[int, int], np.ndarray] = {}
    at = 0
    for k in read:
        for i in shown[k][:SENTENCES_READ]:
            by_row[(k, i)] = probs[at]
            at += 1
    out = []
    for k, group in enumerate(groups):
        sentence_probs = {i: by_row.get((k, i), passages[k]) for i in shown[k]}
        features = score_features(candidates, group, passages[k], list(sentence_probs.values()))
        out.append(_judgement(candidates, passages[k], features, sentence_probs, calibration or None))
    return out


def score_features(candidates: ScoredCandidates, group: _Group, article: np.ndarray,
                   sentences: Sequence[np.ndarray]) -> np.ndarray:
    news = candidates.article_news_features[group.index]
    cosine = candidates.features[group.rows, SENTENCE_FEATURES.index("cosine")]
    return np.array([
        related_logit(article),
        max((related_logit(p) for p in sentences), default=related_logit(article)),
        float(cosine.max()),
        float(news[4]),  # scoring.NEWS_FEATURES: coverage
        float(news[0]),  # entities_missing
        float(news[1]),  # figure_same
        float(news[2]),  # figure_different
    ])


def _judgement(candidates: ScoredCandidates, article: np.ndarray, features: np.ndarray,
               sentence_probs: dict[int, np.ndarray], calibration: fusion.FusionModel | None) -> Judgement:
    if calibration is not None:
        score = float(calibration.probabilities(features[None, :])[0])
    else:  # before the first calibration fit: the model's own P(related)
        score = float(1.0 - article[UNRELATED])
    claim_denies = any(s.stance == Frame.DENIES for s in candidates.claim.sentences)
    stances = {i: sentence_stance(p, candidates.sentences[i].sentence.stance, claim_denies)
               for i, p in sentence_probs.items()}
    stance = stance_of(article)
    denial = claim_denies and any(candidates.sentences[i].sentence.stance == Frame.DENIES
                                  and p[UNRELATED] < 0.5 for i, p in sentence_probs.items())
    if denial:
        stance = ClaimStance.SUPPORTS  # it reports the denial the claim is about
    return Judgement(score, stance, tuple(float(v) for v in article), tuple(float(v) for v in features),
                     {i: tuple(float(v) for v in p) for i, p in sentence_probs.items()}, stances, denial)


def stance_of(p: np.ndarray) -> ClaimStance:
    """The most likely of supports / refutes / discusses (the model's
    probabilities given that the text is related)."""
    return _STANCES[max((SUPPORTS, REFUTES, DISCUSSES), key=lambda c: float(p[c]))]


def sentence_stance(p: np.ndarray, frame: Frame, claim_denies: bool) -> ClaimStance:
    """A sentence's stance toward the claim, kept apart from its frame.

    The model learnt FNC-1's article labels, where relaying what someone says
    is "discuss". For a sentence the frame already says who says it, so the
    stance says which way the content goes (docs/lookup.md, "Stance"):

    - the claim reports a denial ("Russia denied its jets bombed the market"):
      a sentence reporting a denial supports it;
    - a sentence reporting a denial of a related claim refutes it;
    - a sentence attributing related content to someone supports or refutes
      the claim as the model's supports / refutes probabilities say;
    - otherwise (own voice, unclear, or unrelated): the model's stance.
    """
    related = p[UNRELATED] < 0.5
    if claim_denies and frame == Frame.DENIES:
        return ClaimStance.SUPPORTS
    if related and frame == Frame.DENIES:
        return ClaimStance.REFUTES
    if related and frame == Frame.ATTRIBUTES:
        return ClaimStance.SUPPORTS if p[SUPPORTS] >= p[REFUTES] else ClaimStance.REFUTES
    return stance_of(p)
