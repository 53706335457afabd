"""Entity type accuracy on a hand-labelled FA-KES sample (tests/data/ner-types.jsonl).

Each item is a sentence, the name in it (``text`` at ``start``) and the type a
reader gives it: a spaCy label, or ``NONE`` when the span the model tagged
names nothing ("800pm", "Thu Aug"). ``score`` runs every sentence through the
real pipeline (``nlp.analyse_text``) and takes, for each item, the entity that
overlaps the labelled name most: its label is the prediction (``NONE`` when no
entity overlaps). Type accuracy counts items whose prediction is the labelled
type; exact counts those whose predicted span is also the labelled name (a
leading "the" aside).

How the sample was drawn (``draw``): every entity mention the pipeline of
commit ffd7e98 (before the gazetteer) found in FA-KES, titles and bodies in
corpus order, numbered from 0; mentions 75, 225, 375, ... (every 150th) make
the sample. Each was then read in its sentence and labelled by hand; a span
that glues several names is labelled as its first name. docs/nlp.md says the
label conventions and has the figures before and after.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from claimlookup import nlp
from claimlookup.model import Article

ROOT = Path(__file__).resolve().parents[2]
NER_TYPES = ROOT / "tests" / "data" / "ner-types.jsonl"
NONE = "NONE"
#: The draw: every STEP-th mention from FIRST (see the module docstring).
FIRST, STEP = 75, 150


@dataclass(frozen=True, slots=True)
class NamedItem:
    """One labelled name: ``sentence[start:start + len(text)] == text``."""

    sentence: str
    text: str
    start: int
    type: str
    source: str = ""

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass(frozen=True, slots=True)
class Prediction:
    item: NamedItem
    label: str
    text: str  # the predicted entity as written, "" for NONE

    @property
    def right(self) -> bool:
        return self.label == self.item.type

    @property
    def exact(self) -> bool:
        return self.right and _bare(self.text) == _bare(self.item.text)


@dataclass
class TypeScore:
    predictions: list[Prediction] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return sum(p.right for p in self.predictions) / len(self.predictions)

    @property
    def exact(self) -> float:
        return sum(p.exact for p in self.predictions) / len(self.predictions)

    def confusion(self) -> Counter[tuple[str, str]]:
        return Counter((p.item.type, p.label) for p in self.predictions)

    def accuracy_of(self, types: Iterable[str]) -> tuple[int, int]:
        """(right, total) over the items labelled with one of ``types``."""
        wanted = set(types)
        items = [p for p in self.predictions if p.item.type in wanted]
        return sum(p.right for p in items), len(items)


def read_items(path: Path = NER_TYPES) -> list[NamedItem]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            item = NamedItem(data["sentence"], data["text"], data["start"], data["type"],
                             f"FA-KES {data['unit_id']}")
            if item.sentence[item.start:item.end] != item.text:
                raise ValueError(f"{data['id']}: {item.text!r} is not at {item.start}")
            items.append(item)
    return items


def predict(item: NamedItem) -> Prediction:
    """The pipeline's entity overlapping the labelled name most, analysed in
    the item's sentence alone."""
    best: tuple[int, str, str] = (0, NONE, "")
    for sentence in nlp.analyse_text(item.sentence):
        for entity in sentence.entities:
            start, end = sentence.start + entity.start, sentence.start + entity.end
            overlap = min(end, item.end) - max(start, item.start)
            if overlap > best[0]:
                best = (overlap, entity.label, entity.text)
    return Prediction(item, best[1], best[2])


def score(items: Iterable[NamedItem]) -> TypeScore:
    return TypeScore([predict(item) for item in items])


def draw(articles: Iterable[Article]) -> Iterator[tuple[Article, int, str, str]]:
    """(article, sentence position, mention text, label) of every STEP-th
    mention from FIRST, in corpus order: how the sample was drawn."""
    number = 0
    for article in nlp.analyse_articles(articles):
        for sentence in article.sentences:
            for entity in sentence.entities:
                if number >= FIRST and (number - FIRST) % STEP == 0:
                    yield article, sentence.position, entity.text, entity.label
                number += 1


def _bare(text: str) -> str:
    words = text.split()
    if words and words[0].lower() == "the":
        words = words[1:]
    return " ".join(words)
