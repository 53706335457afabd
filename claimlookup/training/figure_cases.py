"""Figure extraction and agreement on the hand-checked cases.

``tests/data/figure_cases.jsonl`` holds sentences (most from FA-KES, a few
written), each with the figures a careful reader finds in it (value, counted
thing, event, qualifier, scope) and, for most, a claim and how each figure
compares with the claim's (``same``, ``part``, ``whole``, ``different``,
``absent``). ``evaluate`` runs them through the real pipeline
(``nlp.analyse_text`` for the sentence, the lookup's claim normalisation and
``nlp.analyse_claim`` for the claim) and the lookup's ``agreement``:

    .venv/bin/python -m claimlookup.training figures [--misses]

It reads ``Quantity.scope`` where there is one and takes ``event`` where
there is none, so the same file measures code from before scopes existed
(docs/nlp.md, "Figure cases", says how the "before" column was made).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from claimlookup import lookup, nlp
from claimlookup.model import Quantity

CASES_PATH = Path(__file__).resolve().parents[2] / "tests" / "data" / "figure_cases.jsonl"
SPLITS = ("dev", "heldout")

#: (value, counts, event, qualifier, scope): a figure as the cases write it.
Figure = tuple[float, str, str, str, str]


@dataclass(frozen=True, slots=True)
class FigureCase:
    """One sentence, its expected figures, and optionally a claim with the
    expected agreement of each figure (None where there is no claim)."""

    split: str
    source: str
    text: str
    figures: tuple[Figure, ...]
    agreements: tuple[str | None, ...]
    claim: str | None = None
    claim_figures: tuple[Figure, ...] = ()
    note: str = ""


def load_cases(path: Path = CASES_PATH) -> list[FigureCase]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        figures = tuple(_figure(f[:5]) for f in item["figures"])
        cases.append(FigureCase(item["split"], item["source"], item["text"], figures,
                                tuple(f[5] for f in item["figures"]), item.get("claim"),
                                tuple(_figure(f) for f in item.get("claim_figures", [])), item.get("note", "")))
    return cases


def _figure(values: Sequence) -> Figure:
    value, counts, event, qualifier, scope = values
    return float(value), counts, event, qualifier, scope


def as_figure(q: Quantity) -> Figure:
    return q.value, q.counts, q.event, q.qualifier, getattr(q, "scope", "event")


@dataclass(slots=True)
class CaseResult:
    """What the pipeline made of one case."""

    case: FigureCase
    got: list[Figure]
    got_claim: list[Figure]
    found: list[bool]  # per expected figure: extracted exactly
    found_unscoped: list[bool]  # ... the same but for its scope
    agreements: list[str | None]  # per expected figure: the agreement computed for it (None: no such value)

    @property
    def misses(self) -> list[str]:
        out = [f"missed {want}" for want, ok in zip(self.case.figures, self.found, strict=True) if not ok]
        extra = _unmatched(self.got, self.case.figures)
        out += [f"extra {g}" for g in extra]
        out += [f"{want[0]:g} {want[1]}: agreement {got} (expected {expected})"
                for want, expected, got in zip(self.case.figures, self.case.agreements, self.agreements, strict=True)
                if expected is not None and got != expected]
        if self.case.claim is not None and sorted(self.got_claim) != sorted(self.case.claim_figures):
            out.append(f"claim figures {self.got_claim} (expected {list(self.case.claim_figures)})")
        return out


def _unmatched(got: Sequence[Figure], wanted: Sequence[Figure]) -> list[Figure]:
    left = list(wanted)
    out = []
    for g in got:
        if g in left:
            left.remove(g)
        else:
            out.append(g)
    return out


def _matched(got: Sequence[tuple], wanted: Sequence[tuple]) -> list[bool]:
    """Per wanted item: whether an item of ``got`` not matched before equals it."""
    left = list(got)
    out = []
    for want in wanted:
        out.append(want in left)
        if want in left:
            left.remove(want)
    return out


def run_case(case: FigureCase) -> CaseResult:
    quantities = [q for s in nlp.analyse_text(case.text) for q in s.quantities]
    claim = nlp.analyse_claim(lookup.normalise_claim(case.claim)).quantities if case.claim is not None else []
    got = [as_figure(q) for q in quantities]
    unused = list(range(len(quantities)))
    found, matched = [], []
    for want in case.figures:
        exact = next((i for i in unused if got[i] == want), None)
        same_value = next((i for i in unused if got[i][0] == want[0]), None)
        i = exact if exact is not None else same_value
        found.append(exact is not None)
        matched.append(i)
        if i is not None:
            unused.remove(i)
    agreements = [lookup.agreement(claim, quantities[i]).value if i is not None and expected is not None else None
                  for i, expected in zip(matched, case.agreements, strict=True)]
    found_unscoped = _matched([g[:4] for g in got], [w[:4] for w in case.figures])
    return CaseResult(case, got, [as_figure(q) for q in claim], found, found_unscoped, agreements)


@dataclass(slots=True)
class Scores:
    """Counts over a set of cases."""

    cases: int = 0
    expected: int = 0  # figures a reader finds
    extracted: int = 0  # figures the pipeline gives
    found: int = 0  # expected figures extracted exactly (value, thing, event, qualifier, scope)
    found_unscoped: int = 0  # ... value, thing, event and qualifier (scope aside)
    extra: int = 0  # extracted figures matching no expected one
    judged: int = 0  # expected figures with an expected agreement
    agreed: int = 0  # ... whose computed agreement is the expected one
    by_label: dict[str, list[int]] = field(default_factory=dict)  # expected agreement -> [right, total]

    def add(self, result: CaseResult) -> None:
        self.cases += 1
        self.expected += len(result.case.figures)
        self.extracted += len(result.got)
        self.found += sum(result.found)
        self.found_unscoped += sum(result.found_unscoped)
        self.extra += len(_unmatched(result.got, result.case.figures))
        for expected, got in zip(result.case.agreements, result.agreements, strict=True):
            if expected is None:
                continue
            self.judged += 1
            self.agreed += got == expected
            counts = self.by_label.setdefault(expected, [0, 0])
            counts[0] += got == expected
            counts[1] += 1

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return (self.extracted - self.extra) / self.extracted if self.extracted else 1.0

    @property
    def agreement_accuracy(self) -> float:
        return self.agreed / self.judged if self.judged else 1.0


def evaluate(cases: Sequence[FigureCase]) -> tuple[dict[str, Scores], list[CaseResult]]:
    """Scores per split (and ``all``) and every case's result."""
    scores = {name: Scores() for name in (*SPLITS, "all")}
    results = []
    for case in cases:
        result = run_case(case)
        results.append(result)
        for name in (case.split, "all"):
            scores[name].add(result)
    return scores, results


def report(scores: dict[str, Scores]) -> str:
    lines = ["| split | sentences | figures | extracted exactly (recall) | scope aside | precision | agreement right |",
             "|---|---|---|---|---|---|---|"]
    for name, s in scores.items():
        lines.append(f"| {name} | {s.cases} | {s.expected} | {s.found}/{s.expected} = {s.recall:.2f} | "
                     f"{s.found_unscoped}/{s.expected} | {s.precision:.2f} | "
                     f"{s.agreed}/{s.judged} = {s.agreement_accuracy:.2f} |")
    labels = ["same", "part", "whole", "different", "absent"]
    lines += ["", "| expected agreement | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for name, s in scores.items():
        cells = [f"{s.by_label[k][0]}/{s.by_label[k][1]}" if k in s.by_label else "-" for k in labels]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cases", type=Path, default=CASES_PATH)
    parser.add_argument("--misses", action="store_true", help="list what each case got wrong")


def run(args: argparse.Namespace) -> int:
    scores, results = evaluate(load_cases(args.cases))
    print(report(scores))
    if args.misses:
        for result in results:
            for miss in result.misses:
                print(f"  [{result.case.split}] {result.case.text[:70]}... :: {miss}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m claimlookup.training.figure_cases")
    add_arguments(parser)
    raise SystemExit(run(parser.parse_args()))
