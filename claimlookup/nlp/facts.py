"""What the rules read from a sentence, and the facts they produce.

``SentenceView`` is the token-level view of one spaCy sentence that the
figure rules (``figures``) and the stance rules (``stance``) read.

``SentenceFacts``, ``EntityFact`` and ``FigureFact`` are what the last
pipeline component computes for each sentence: small frozen dataclasses that
the main process turns into ``Sentence``/``EntityMention``/``Quantity``.
They travel in ``doc.user_data``, which spaCy serialises with msgpack (not
pickle) when ``nlp.pipe(n_process > 1)`` sends a Doc back from a worker, and
msgpack knows only plain values. So the component stores
``SentenceFacts.to_wire()`` (nested lists of str, int, float and None) and
the main process reads it back with ``SentenceFacts.from_wire()``, whether
or not the Doc crossed a process boundary. The dataclasses themselves also
pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from spacy.tokens import Span

from claimlookup.model import EntityMention, Frame, Quantity
from claimlookup.nlp.entities import ENTITY_LABELS


@dataclass(frozen=True, slots=True)
class EntityFact:
    """A named entity of a sentence; offsets index the sentence's text."""

    text: str
    label: str
    key: str
    start: int
    end: int

    def shifted(self, shift: int) -> EntityFact:
        return EntityFact(self.text, self.label, self.key, self.start + shift, self.end + shift)

    def to_mention(self) -> EntityMention:
        return EntityMention(self.text, self.label, self.key, self.start, self.end)

    def to_wire(self) -> list:
        return [self.text, self.label, self.key, self.start, self.end]

    @classmethod
    def from_wire(cls, data: Sequence) -> EntityFact:
        return cls(*data)


@dataclass(frozen=True, slots=True)
class FigureFact:
    """A figure that counts something; offsets index the sentence's text."""

    value: float
    text: str
    counts: str
    event: str
    qualifier: str
    start: int
    end: int
    scope: str = "event"

    def shifted(self, shift: int) -> FigureFact:
        return replace(self, start=self.start + shift, end=self.end + shift)

    def to_quantity(self) -> Quantity:
        return Quantity(self.value, self.text, self.counts, self.event, self.qualifier, self.start, self.end,
                        self.scope)

    def to_wire(self) -> list:
        return [self.value, self.text, self.counts, self.event, self.qualifier, self.start, self.end, self.scope]

    @classmethod
    def from_wire(cls, data: Sequence) -> FigureFact:
        return cls(*data)


@dataclass(frozen=True, slots=True)
class SentenceFacts:
    """One sentence's facts; ``start``/``end`` index the Doc's text and are
    stripped of surrounding whitespace."""

    start: int
    end: int
    entities: tuple[EntityFact, ...]
    figures: tuple[FigureFact, ...]
    stance: Frame
    speaker: str | None

    def to_wire(self) -> list:
        """Plain nested lists for ``doc.user_data`` (msgpack-safe)."""
        return [self.start, self.end, [e.to_wire() for e in self.entities],
                [f.to_wire() for f in self.figures], self.stance.value, self.speaker]

    @classmethod
    def from_wire(cls, data: Sequence) -> SentenceFacts:
        start, end, entities, figures, stance, speaker = data
        return cls(start, end, tuple(EntityFact.from_wire(e) for e in entities),
                   tuple(FigureFact.from_wire(f) for f in figures), Frame(stance), speaker)


class SentenceView:
    """The token facts the rules read, computed once per sentence."""

    __slots__ = ("tokens", "words", "ent", "offset", "text", "n", "_first")

    def __init__(self, sent: Span, offset: int, text: str) -> None:
        # Space tokens (line breaks, no-break spaces) carry no word: skip them.
        self.tokens = [t for t in sent if not t.is_space]
        self.words = [t.lower_.replace("’", "'").replace("‘", "'") for t in self.tokens]
        self.ent = [t.ent_type_ for t in self.tokens]
        self.offset = offset  # of the sentence text in the doc
        self.text = text
        self.n = len(self.tokens)
        self._first: dict[str, int] | None = None

    def word(self, i: int) -> str:
        return self.words[i] if 0 <= i < self.n else ""

    def first(self, word: str) -> int:
        """Index of the first token whose word is ``word``, or ``n`` if none.
        Indexed once per sentence, so "is there an X before token k" costs
        the same for every k (not a scan of ``words[:k]`` each time)."""
        if self._first is None:
            self._first = {}
            for i, w in enumerate(self.words):
                self._first.setdefault(w, i)
        return self._first.get(word, self.n)

    def is_named(self, i: int) -> bool:
        return 0 <= i < self.n and self.ent[i] in ENTITY_LABELS

    def char_span(self, i: int, j: int) -> tuple[int, int]:
        """Sentence-relative character offsets of tokens i..j-1."""
        first, last = self.tokens[i], self.tokens[j - 1]
        return first.idx - self.offset, last.idx + len(last.text) - self.offset


def glued(view: SentenceView, i: int, text: str) -> bool:
    """Token i is ``text`` written with no space on either side ("Su-35")."""
    if not 0 <= i < view.n or view.words[i] != text:
        return False
    token = view.tokens[i]
    return not token.whitespace_ and i > 0 and not view.tokens[i - 1].whitespace_
