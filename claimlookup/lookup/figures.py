"""Figures: whether a report's figure agrees with the claim's.

Two figures compare when they count the same thing (``counts``, ``event``
and ``scope`` equal: ``same`` or ``different``) or related things: one
counted thing is part of the other in ``PART_OF`` ("civilians" are
"people"), or one event is part of the other in ``EVENT_PART_OF`` ("killed"
is part of "casualties"). A related figure is ``part`` or ``whole`` when it
fits the claim's, ``different`` when it cannot (docs/lookup.md, "Figures and
agreement"; docs/nlp.md, "What is counted" has the tree).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from claimlookup.model import Agreement, Quantity

#: Relative tolerance (of the larger value) within which an approximate
#: figure agrees ("around two dozen" vs 20); "dozens"-style vague figures get
#: VAGUE_TOLERANCE.
APPROX_TOLERANCE = 0.2
VAGUE_TOLERANCE = 0.5
#: "at least X" agrees with values up to X x (1 + OPEN_BOUND_RANGE).
OPEN_BOUND_RANGE = 0.5

#: The counted things (``claimlookup.nlp.figures`` vocabulary) that are part
#: of another: thing -> the broader thing it is part of. Children and women
#: are civilians; the armed are fighters, not civilians; both are people.
#: Things not listed ("families", "men", "officials", the objects but
#: buildings) are part of nothing here: they compare only with themselves.
PART_OF: dict[str, str] = {
    "civilians": "people",
    "children": "civilians",
    "women": "civilians",
    "residents": "civilians",
    "refugees": "civilians",
    "migrants": "civilians",
    "protesters": "civilians",
    "students": "civilians",
    "workers": "civilians",
    "journalists": "civilians",
    "doctors": "civilians",
    "paramedics": "civilians",
    "patients": "civilians",
    "volunteers": "civilians",
    "fighters": "people",
    "militants": "fighters",
    "rebels": "fighters",
    "soldiers": "fighters",
    "troops": "fighters",
    "terrorists": "fighters",
    "jihadists": "fighters",
    "insurgents": "fighters",
    "gunmen": "fighters",
    "loyalists": "fighters",
    "commanders": "fighters",
    "men": "people",
    "policemen": "people",
    "members": "people",
    "activists": "people",
    "leaders": "people",
    "officials": "people",
    "citizens": "people",
    "prisoners": "people",
    "victims": "people",
    "bodies": "people",
    "hospitals": "buildings",
    "schools": "buildings",
}
#: Events that are part of another: casualties are the killed and the wounded.
EVENT_PART_OF: dict[str, str] = {"killed": "casualties", "wounded": "casualties"}


class Relation(enum.Enum):
    """How a report's counted thing stands to the claim's."""

    SAME = "same"
    PART = "part"  # the report's thing is part of the claim's
    WHOLE = "whole"  # the claim's thing is part of the report's


def comparable(a: Quantity, b: Quantity) -> bool:
    """Same counted thing: equal ``counts``, ``event`` and ``scope``."""
    return a.counts == b.counts and a.event == b.event and a.scope == b.scope


def relation(claim: Quantity, report: Quantity) -> Relation | None:
    """How the report's counted thing stands to the claim's, or None when
    they are unrelated (other things, or an event and a cumulative toll).
    Thing and event may each be the same, a part or a whole, but not one a
    part and the other a whole ("civilian casualties" vs "people killed")."""
    if claim.scope != report.scope:
        return None
    thing = _related(claim.counts, report.counts, PART_OF)
    event = _related(claim.event, report.event, EVENT_PART_OF)
    if thing is None or event is None:
        return None
    kinds = {thing, event} - {Relation.SAME}
    if len(kinds) > 1:
        return None
    return kinds.pop() if kinds else Relation.SAME


def _related(claim: str, report: str, part_of: dict[str, str]) -> Relation | None:
    if claim == report:
        return Relation.SAME
    if claim in _broader(report, part_of):
        return Relation.PART
    if report in _broader(claim, part_of):
        return Relation.WHOLE
    return None


def _broader(thing: str, part_of: dict[str, str]) -> list[str]:
    """The things ``thing`` is part of, nearest first."""
    out = []
    while thing in part_of:
        thing = part_of[thing]
        out.append(thing)
    return out


def figures_agree(claim: Quantity, report: Quantity) -> bool:
    """Whether two figures for the same thing agree.

    The claim's figure says what is claimed, the report's what it gives.
    A claim of "at least X" is confirmed by a value from X (less the
    approximate tolerance) up to X x (1 + OPEN_BOUND_RANGE): tolls rise as
    bodies are counted, but "at least 20" is not 175 (and "at most X" the
    other way round). Otherwise exact vs exact:
    equal values; when either side is hedged ("around", "nearly", "two
    dozen", and a report's "at least"/"at most") values agree within
    APPROX_TOLERANCE of the larger one; a vague one ("dozens") within
    VAGUE_TOLERANCE. So a report of "at least six killed" does not agree
    with a claim of 20 killed: reports give their best count, and a reader
    wants to see who gives which number.
    """
    quals = {claim.qualifier, report.qualifier}
    a, b = claim.value, report.value
    if "vague" in quals:
        return abs(a - b) <= VAGUE_TOLERANCE * max(a, b)
    slack = APPROX_TOLERANCE * max(a, b)
    if claim.qualifier == "at_least":
        return a - slack <= b <= a * (1 + OPEN_BOUND_RANGE)
    if claim.qualifier == "at_most":
        return a / (1 + OPEN_BOUND_RANGE) <= b <= a + slack
    if quals == {"exact"}:
        return a == b
    return abs(a - b) <= slack


def _bounds(q: Quantity) -> tuple[float, float]:
    """The values a figure allows, by the tolerances of ``figures_agree``."""
    v = q.value
    if q.qualifier == "at_least":
        return v, v * (1 + OPEN_BOUND_RANGE)
    if q.qualifier == "at_most":
        return v / (1 + OPEN_BOUND_RANGE), v
    tolerance = {"approx": APPROX_TOLERANCE, "vague": VAGUE_TOLERANCE}.get(q.qualifier, 0.0)
    return v * (1 - tolerance), v / (1 - tolerance)


def fits(claim: Quantity, report: Quantity, kind: Relation) -> bool:
    """Whether a part can lie within its whole: the least the part allows
    is at most the most the whole allows, or the two agree as figures for
    one thing (a whole of 20 people and 20 civilians in it, or "at least
    21" of them, fit; 27 do not)."""
    part, whole = (report, claim) if kind is Relation.PART else (claim, report)
    return _bounds(part)[0] <= _bounds(whole)[1] or figures_agree(claim, report)


def same_thing_agreement(claim_quantities: Sequence[Quantity], quantity: Quantity) -> Agreement:
    """``same`` if a claim figure for the same thing agrees, ``different`` if
    the claim has figures for that thing and none agrees, else ``absent``.
    The ranking's figure features read this (they were fitted on it)."""
    mine = [q for q in claim_quantities if comparable(q, quantity)]
    if not mine:
        return Agreement.ABSENT
    return Agreement.SAME if any(figures_agree(q, quantity) for q in mine) else Agreement.DIFFERENT


def agreement(claim_quantities: Sequence[Quantity], quantity: Quantity) -> Agreement:
    """How a report's figure compares with the claim's figures.

    The claim's figures for the same thing decide when there are any
    (``same_thing_agreement``). Otherwise its figures for related things
    (``relation``), grouped by thing: each group must have a figure the
    report's fits (``fits``; a group is a range or a restated toll), else
    ``different`` (27 civilians cannot be part of 20 people). ``part`` when
    the report's thing is part of one the claim counts, else ``whole``;
    ``absent`` when the claim counts nothing related."""
    decided = same_thing_agreement(claim_quantities, quantity)
    if decided is not Agreement.ABSENT:
        return decided
    groups: dict[tuple[str, str], list[tuple[Quantity, Relation]]] = {}
    for q in claim_quantities:
        kind = relation(q, quantity)
        if kind is not None:
            groups.setdefault((q.counts, q.event), []).append((q, kind))
    if not groups:
        return Agreement.ABSENT
    if not all(any(fits(q, quantity, kind) for q, kind in group) for group in groups.values()):
        return Agreement.DIFFERENT
    kinds = {kind for group in groups.values() for _, kind in group}
    return Agreement.PART if Relation.PART in kinds else Agreement.WHOLE
