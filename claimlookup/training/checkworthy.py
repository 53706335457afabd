"""The scan's sentence choice measured on labelled page sentences.

``tests/data/scan-sentences.jsonl``: one line per sentence of a page (the
five seeds and eight FA-KES articles dressed as the pages they came from,
``tests/data/scan-pages/``), as the scan's analysis splits it, labelled by
reading it: ``worthy`` (should a scan look it up as one of the page's
claims?) and ``kind`` (``claim``, ``title``, ``prose``, ``caption``,
``teaser``, ``furniture``). The rules of labelling are in
``tests/data/scan-pages/README.md``.

``evaluate`` runs each page through ``lookup.page.read_page`` and
``choose_sentences``, the code a scan runs (no cap on the number chosen), and
counts a labelled sentence as chosen if the scan looks it up. With
``clean=False`` the boilerplate marks are ignored: the check-worthy rule
alone, as scans were before the page was cleaned.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LABELLED = ROOT / "tests" / "data" / "scan-sentences.jsonl"


@dataclass(frozen=True, slots=True)
class LabelledSentence:
    text: str
    worthy: bool
    kind: str


@dataclass(frozen=True, slots=True)
class LabelledPage:
    path: Path
    sentences: list[LabelledSentence]


@dataclass(slots=True)
class CheckWorthyScores:
    """Precision and recall of the chosen sentences against the labels.
    ``missing``: labelled sentences the analysis no longer produces (counted
    as not chosen); ``by_kind``: chosen / labelled per kind."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    true_negatives: int = 0
    missing: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        chosen = self.true_positives + self.false_positives
        return self.true_positives / chosen if chosen else 0.0

    @property
    def recall(self) -> float:
        worthy = self.true_positives + self.false_negatives
        return self.true_positives / worthy if worthy else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def count(self, worthy: bool, chosen: bool, kind: str) -> None:
        if worthy:
            self.true_positives += chosen
            self.false_negatives += not chosen
        else:
            self.false_positives += chosen
            self.true_negatives += not chosen
        tally = self.by_kind.setdefault(kind, [0, 0])
        tally[0] += chosen
        tally[1] += 1

    def as_dict(self) -> dict:
        return {"precision": round(self.precision, 3), "recall": round(self.recall, 3), "f1": round(self.f1, 3),
                "tp": self.true_positives, "fp": self.false_positives, "fn": self.false_negatives,
                "tn": self.true_negatives, "missing": self.missing,
                "chosen_by_kind": {k: f"{c}/{n}" for k, (c, n) in sorted(self.by_kind.items())}}


def load_labelled(path: Path = LABELLED) -> list[LabelledPage]:
    """The labelled sentences grouped by page, in file order."""
    pages: dict[str, list[LabelledSentence]] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            pages.setdefault(row["page"], []).append(LabelledSentence(row["text"], row["worthy"], row["kind"]))
    return [LabelledPage(ROOT / page, sentences) for page, sentences in pages.items()]


def evaluate(pages: Iterable[LabelledPage], clean: bool = True) -> CheckWorthyScores:
    """Run each page through the scan's sentence choice and score it."""
    from claimlookup.lookup.page import choose_sentences, read_page

    scores = CheckWorthyScores()
    for labelled in pages:
        page = read_page(labelled.path.read_text(encoding="utf-8"))
        if not clean:
            page = replace(page, boilerplate={})
        chosen = Counter(s.text for s, _ in choose_sentences(page, limit=len(page.sentences)).worthy)
        produced = Counter(s.text for s in page.sentences)
        for sentence in labelled.sentences:
            if produced[sentence.text] <= 0:
                scores.missing += 1
            produced[sentence.text] -= 1
            picked = chosen[sentence.text] > 0
            chosen[sentence.text] -= 1
            scores.count(sentence.worthy, picked, sentence.kind)
    return scores
