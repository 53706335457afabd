"""Hand-built analysed articles for the store contract: sentences, entity
mentions, quantities, stances and small deterministic unit vectors. No spaCy,
no embedder: every fact a test asserts is visible here.

Vectors: sentence ``position`` of the ``n``-th corpus article points mostly
along axis ``8 * n + position``; the two market-strike reports also share a
component on ``MARKET_AXIS``, so a query along that axis finds exactly them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from claimlookup.model import Article, EntityMention, Frame, Quantity, Sentence

DIM = 384
MARKET_AXIS = DIM - 1

#: (text, label, key) of an entity mention; offsets are found in the sentence.
Mention = tuple[str, str, str]


@dataclass
class Line:
    """One sentence to build: its text and what analysis would have found."""

    text: str
    entities: list[Mention] = field(default_factory=list)
    quantities: list[Quantity] = field(default_factory=list)
    stance: Frame = Frame.ASSERTS
    speaker: str | None = None


def unit(*weights: tuple[int, float]) -> np.ndarray:
    """A unit float32 vector with the given (axis, weight) components."""
    vector = np.zeros(DIM, dtype=np.float32)
    for axis, weight in weights:
        vector[axis] += weight
    return vector / np.linalg.norm(vector)


def axis(index: int, position: int) -> int:
    return 8 * index + position


def build_article(index: int, article_id: str, title: Line, body: list[Line], *, source: str | None,
                  published: date | None, url: str | None = None, shared_axis: int | None = None) -> Article:
    """An analysed article: title = sentence 0, body lines joined by spaces."""
    body_text = " ".join(line.text for line in body)
    sentences = [_sentence(0, title, 0, index, shared_axis)]
    offset = 0
    for position, line in enumerate(body, start=1):
        sentences.append(_sentence(position, line, offset, index, shared_axis))
        offset += len(line.text) + 1
    return Article(id=article_id, title=title.text, body=body_text, source=source, url=url,
                   published=published, sentences=sentences)


def _sentence(position: int, line: Line, offset: int, index: int, shared_axis: int | None) -> Sentence:
    weights = [(axis(index, position), 1.0)]
    if shared_axis is not None:
        weights.append((shared_axis, 0.5 + 0.1 * position))
    mentions = [EntityMention(text=text, label=label, key=key, start=line.text.index(text),
                              end=line.text.index(text) + len(text)) for text, label, key in line.entities]
    return Sentence(position=position, text=line.text, start=offset, end=offset + len(line.text),
                    entities=mentions, quantities=list(line.quantities), stance=line.stance,
                    speaker=line.speaker, vector=unit(*weights))


def killed(value: float, text: str, counts: str = "people", qualifier: str = "exact") -> Quantity:
    return Quantity(value=value, text=text, counts=counts, event="killed", qualifier=qualifier)


RUSSIAN = ("Russian", "NORP", "russian")
RUSSIA = ("Russia", "GPE", "russia")
MAARET = ("Maaret al-Numan", "GPE", "maaret al-numan")
OBSERVATORY = ("Syrian Observatory", "ORG", "syrian observatory")
ALEPPO = ("Aleppo", "GPE", "aleppo")
IDLIB = ("Idlib", "GPE", "idlib")
UN = ("United Nations", "ORG", "united nations")
KHAN = ("Khan Sheikhoun", "GPE", "khan sheikhoun")

#: Ids in corpus order.
MARKET_REUTERS = "reuters-market"
MARKET_BBC = "bbc-market"
CONVOY = "reuters-convoy"
SARIN = "aljazeera-sarin"
UNDATED = "undated-note"
MARKUP = "reuters-markup"


def corpus() -> list[Article]:
    """Six articles; a fresh list of fresh objects on every call."""
    return [
        build_article(0, MARKET_REUTERS,
                      Line("Russian jets strike vegetable market in Maaret al-Numan", [RUSSIAN, MAARET]),
                      [Line("Russian jets struck a vegetable market in Maaret al-Numan on Tuesday, killing 20 "
                            "people, the Syrian Observatory said.", [RUSSIAN, MAARET, OBSERVATORY],
                            [killed(20, "20")], Frame.ATTRIBUTES, "the Syrian Observatory"),
                       Line("Russia's defence ministry denied the report.", [RUSSIA], [], Frame.DENIES,
                            "Russia's defence ministry"),
                       Line("Rescue workers searched the rubble for survivors.")],
                      source="Reuters", published=date(2017, 4, 5), url="https://example.org/reuters/market",
                      shared_axis=MARKET_AXIS),
        build_article(1, MARKET_BBC,
                      Line("Air strike on Idlib market kills 23", [IDLIB], [killed(23, "23")]),
                      [Line("An air strike hit a busy market in Maaret al-Numan in Idlib province, killing 23 "
                            "civilians.", [MAARET, IDLIB], [killed(23, "23", "civilians")]),
                       Line("Activists blamed Russian aircraft for the attack.", [RUSSIAN], [], Frame.ATTRIBUTES,
                            "Activists")],
                      source="BBC", published=date(2017, 4, 6), url="https://example.org/bbc/market",
                      shared_axis=MARKET_AXIS),
        build_article(2, CONVOY,
                      Line("Aid convoy attacked near Aleppo", [ALEPPO]),
                      [Line("An aid convoy was attacked near Aleppo, the United Nations said.", [ALEPPO, UN], [],
                            Frame.ATTRIBUTES, "the United Nations"),
                       Line("Eighteen trucks were destroyed in the attack.", [],
                            [Quantity(18, "Eighteen", "trucks", "destroyed")])],
                      source="Reuters", published=date(2016, 9, 20)),
        build_article(3, SARIN,
                      Line("Sarin attack in Khan Sheikhoun", [KHAN]),
                      [Line("Dozens of people were killed in a chemical attack in Khan Sheikhoun.", [KHAN],
                            [killed(24, "Dozens", qualifier="vague")]),
                       Line("The Syrian government denied using chemical weapons.", [], [], Frame.DENIES,
                            "The Syrian government")],
                      source="Al Jazeera", published=date(2017, 4, 4)),
        build_article(4, UNDATED,
                      Line("Editorial note on sources"),
                      [Line("This note about Aleppo has no date and is not signed.", [ALEPPO])],
                      source=None, published=None),
        build_article(5, MARKUP,
                      Line("Markup test from Aleppo", [ALEPPO]),
                      [Line("The <script>alert(1)</script> tag & the bazaar in Aleppo.", [ALEPPO])],
                      source="Reuters", published=date(2015, 1, 10)),
    ]


def corpus_by_id() -> dict[str, Article]:
    return {article.id: article for article in corpus()}


def index_of(article_id: str) -> int:
    return [article.id for article in corpus()].index(article_id)


def vector_of(article_id: str, position: int) -> np.ndarray:
    """The stored vector of one corpus sentence."""
    vector = corpus_by_id()[article_id].sentences[position].vector
    assert vector is not None
    return vector


def extra_article(article_id: str, word: str, index: int = 20, source: str = "AFP",
                  published: date | None = date(2018, 1, 1)) -> Article:
    """A small article outside the corpus, findable by ``word``."""
    return build_article(index, article_id, Line(f"Report about {word}"),
                         [Line(f"The {word} was seen in Homs.", [("Homs", "GPE", "homs")])],
                         source=source, published=published)
