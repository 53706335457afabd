"""Cumulative tolls: which figures of a sentence count a period or a whole war.

"More than 320000 people have been killed since 2011" and "the war has
killed 400,000" are not figures of one incident: they must not be compared
with "an airstrike killed 20". ``CumulativeReach`` reads the cues of one
sentence once (``SentenceView``) and says, for a token, whether a cue
reaches it. The figure rules (``figures``) mark the figures it reaches
``scope="cumulative"``. docs/nlp.md, "Cumulative tolls", lists the cues.

Each cue is read with a bounded window around one token, so a sentence
costs linear time (docs/nlp.md, "Linear-time text rules").
"""

from __future__ import annotations

from collections.abc import Collection

from claimlookup.nlp.facts import SentenceView

#: Nouns for a war or a campaign, as the subject of a toll verb: "the war has
#: killed", "Syrias conflict has left more than 320000 people dead".
_WAR_NOUNS = frozenset("war conflict uprising crisis revolution revolt violence insurgency campaign offensive "
                       "siege bloodshed".split())
#: ... and after "in": "killed in the conflict". Not "fighting", as subject
#: or after "in": that is often one battle's toll ("the heavy fighting claimed
#: the lives of 129 loyalists").
_IN_WAR_NOUNS = frozenset("war conflict uprising crisis revolution revolt insurgency".split())
_WAR_VERBS = frozenset("killed killing kills left leaving claimed claiming cost costing".split())
#: Words allowed between the war noun and its verb ("the war, which has so far
#: killed"; "the war in Syria has killed": named places too).
_WAR_LINKS = frozenset(", which that has have had so far already now reportedly alone also in".split())
#: Words after "since" that make it a period ("since the start of the war",
#: "since the conflict began"), besides a date.
_SINCE_STARTS = frozenset("start beginning outbreak onset eruption began begun started erupted erupting then "
                          "inception".split())
_MONTHS = frozenset("january february march april may june july august september october november december".split())
_PERIOD_UNITS = frozenset("year years month months week weeks days hours".split())
#: A "since" or period cue after one of these compares, it does not count:
#: "the first explosion since 2011", "the deadliest attack this year".
_COMPARED = frozenset("first worst deadliest largest biggest heaviest highest bloodiest fiercest greatest most "
                      "last only".split())
_COMPARE_WINDOW = 10
_SINCE_WINDOW = 6
#: Clause boundaries: a cue reaches the figures of its own clause only.
_CLAUSE_BREAKS = frozenset({";", ":", "while", "whereas", "although", "but"})
_CLAUSE_OPENERS = frozenset({"which", "who", "where", "as", "bringing", "adding", "taking", "raising", "and",
                             "after", "while", "whereas", "although", "but"})
#: ", and" before one of these goes on with the same subject ("has killed
#: 230000 people, and wounded a million"): no new clause.
_SAME_SUBJECT = _WAR_VERBS | {"wounded", "injured", "wounding", "injuring", "displaced"}


class CumulativeReach:
    """The tokens of one sentence that a cumulative cue reaches.

    ``events`` is the event vocabulary (``figures.EVENTS``): "killed in the
    war" is a cue only after an event word."""

    __slots__ = ("_clause", "_whole", "_forward")

    def __init__(self, view: SentenceView, events: Collection[str]) -> None:
        self._clause = _clauses(view)
        self._forward: dict[int, int] = {}  # clause -> first token a forward cue reaches
        periods: dict[int, int] = {}  # clause -> its first "since" or period cue
        for k, w in enumerate(view.words):
            if (w == "since" and self._since_period(view, k)) or _period_phrase(view, k):
                if not self._compared(view, k):
                    periods.setdefault(self._clause[k], k)
            elif w in _WAR_NOUNS and not _of_the_war(view, k):
                verb = self._war_verb(view, k)
                if verb is not None:
                    self._forward.setdefault(self._clause[verb], verb)
                elif w in _IN_WAR_NOUNS and self._in_the_war(view, k, events):
                    periods.setdefault(self._clause[k], k)
        # A period after a war's toll verb dates that toll only ("in a war that
        # has killed 400,000 since 2011"); elsewhere it reaches its clause.
        self._whole = {c for c, k in periods.items() if k < self._forward.get(c, view.n)}

    def reaches(self, k: int) -> bool:
        clause = self._clause[k]
        return clause in self._whole or k >= self._forward.get(clause, k + 1)

    def _same_clause(self, view: SentenceView, k: int, j: int) -> bool:
        return 0 <= j < view.n and self._clause[j] == self._clause[k]

    def _since_period(self, view: SentenceView, k: int) -> bool:
        """ "since" followed by a date or a start: "since 2011", "since the
        conflict began", "since Tuesday", "since the start of the war"."""
        for j in range(k + 1, k + 1 + _SINCE_WINDOW):
            if not self._same_clause(view, k, j):
                return False
            w = view.words[j]
            if view.ent[j] == "DATE" or w in _SINCE_STARTS or w in _MONTHS or _year(w):
                return True
        return False

    def _compared(self, view: SentenceView, k: int) -> bool:
        """A superlative or "first" shortly before the cue, in its clause."""
        return any(view.words[j] in _COMPARED for j in range(max(0, k - _COMPARE_WINDOW), k)
                   if self._clause[j] == self._clause[k])

    def _war_verb(self, view: SentenceView, k: int) -> int | None:
        """The toll verb of a war noun: "the war has killed", "the ongoing
        war killing", "the conflict, which has left"."""
        for j in range(k + 1, min(k + 6, view.n)):
            w = view.words[j]
            if w in _WAR_VERBS:
                return j
            if w not in _WAR_LINKS and not view.is_named(j):
                return None
        return None

    def _in_the_war(self, view: SentenceView, k: int, events: Collection[str]) -> bool:
        """ "killed in the conflict", "deaths in Syria's six-year war"."""
        for j in range(k - 1, max(k - 6, 0), -1):
            w = view.words[j]
            if w in ("in", "during", "throughout"):
                return view.word(j - 1) in events
            if w in (",", ";", ":"):
                return False
        return False


def _clauses(view: SentenceView) -> list[int]:
    """The clause number of each token."""
    ids, current = [], 0
    for k, w in enumerate(view.words):
        after = view.word(k + 1)
        if w in _CLAUSE_BREAKS or (w == "," and after in _CLAUSE_OPENERS and not (
                after == "and" and view.word(k + 2) in _SAME_SUBJECT)):
            current += 1
        ids.append(current)
    return ids


def _of_the_war(view: SentenceView, k: int) -> bool:
    """ "the deadliest attack of the war, which killed 20": the war names a
    time, not the subject of the toll verb."""
    return any(view.word(j) == "of" for j in range(k - 4, k))


def _period_phrase(view: SentenceView, k: int) -> bool:
    """ "so far", "to date", "this year" (not "earlier this year"), "over
    the past year", "in the last three months", "in the past 24 hours"."""
    w, nxt = view.words[k], view.word(k + 1)
    if (w, nxt) in (("so", "far"), ("to", "date")):
        return True
    if (w, nxt) == ("this", "year"):
        return k == 0 or (view.words[k - 1] not in ("earlier", "later") and view.ent[k - 1] != "DATE")
    if w in ("over", "in", "during", "within") and nxt == "the" and view.word(k + 2) in ("past", "last"):
        return view.word(k + 3) in _PERIOD_UNITS or view.word(k + 4) in _PERIOD_UNITS
    return False


def _year(word: str) -> bool:
    return len(word) == 4 and word.isdigit() and 1900 <= int(word) <= 2100
