"""Figures: whether a report's figure agrees with the claim's."""

from __future__ import annotations

from collections.abc import Sequence

from claimlookup.model import Agreement, Quantity

#: Relative tolerance (of the larger value) within which an approximate
#: figure agrees ("around two dozen" vs 20); "dozens"-style vague figures get
#: VAGUE_TOLERANCE.
APPROX_TOLERANCE = 0.2
VAGUE_TOLERANCE = 0.5
#: "at least X" agrees with values up to X x (1 + OPEN_BOUND_RANGE).
OPEN_BOUND_RANGE = 0.5

# --- figures ----------------------------------------------------------------------


def comparable(a: Quantity, b: Quantity) -> bool:
    """Same counted thing: equal ``counts`` and equal ``event``."""
    return a.counts == b.counts and a.event == b.event


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


def agreement(claim_quantities: Sequence[Quantity], quantity: Quantity) -> Agreement:
    """``same`` if a claim figure for the same thing agrees, ``different`` if
    the claim has figures for that thing and none agrees, else ``absent``."""
    mine = [q for q in claim_quantities if comparable(q, quantity)]
    if not mine:
        return Agreement.ABSENT
    return Agreement.SAME if any(figures_agree(q, quantity) for q in mine) else Agreement.DIFFERENT


