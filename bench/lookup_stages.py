"""CPU milliseconds of one lookup, by stage, in-process.

    .venv/bin/python -m bench.lookup_stages                # default store, 200 FA-KES claims
    .venv/bin/python -m bench.lookup_stages --store FILE --lookups 300

Runs ``find_reports`` (the code path of ``POST /v1/claims/lookup``, without
HTTP) for real claims (FA-KES sentences of 12-40 words, fixed seed, the same
list ``bench/lookup.py`` sends) on the store ``bench/lookup.py`` uses (seeds
+ FA-KES, built if missing). The stages are the lookup's own functions,
wrapped for the run: each is charged the CPU the whole process used while it
ran (``time.process_time``: spaCy's analysis thread included), so the stages
add up to the lookup's CPU. The relation model's runs are also counted
inside the stage that calls them (``judging: relation model``), and its
(claim, passage) pairs per lookup.

Prints the median and mean CPU ms per stage and per lookup, the wall ms,
and lookups per CPU second (the ceiling of one core's throughput); the last
line is one JSON object. Figures, not assertions: docs/benchmarks.md,
"CPU per lookup, by stage".
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.lookup import claims as fakes_claims
from claimlookup.training.news import DEFAULT_STORE, ensure_store

#: (module, attribute, stage name): the lookup's stages, in order.
STAGES = (
    ("claimlookup.lookup.service", "prepare_claims", "claim: spaCy + embedding"),
    ("claimlookup.lookup.service", "candidate_sets", "candidates: searches, reads, features"),
    ("claimlookup.lookup.service", "score", "ranking: the three scoring models"),
    ("claimlookup.lookup.service", "with_figure_sentences", "figure sentences"),
    ("claimlookup.lookup.reports", "judged_groups", "grouping + judging (relation model inside)"),
    ("claimlookup.lookup.reports", "build_report", "reports: highlights, entities, figures"),
    ("claimlookup.lookup.service", "summarise", "summary"),
)
MODEL_STAGE = "judging: relation model"


class Meter:
    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self.pairs = 0
        self.depth = 0

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self.depth:  # nested in another measured stage: that stage is charged
                return fn(*args, **kwargs)
            self.depth += 1
            start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.current[name] += time.process_time() - start
                self.depth -= 1
        return timed

    def wrap_model(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(model: Any, claims: Any, passages: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return fn(model, claims, passages, *args, **kwargs)
            finally:
                self.current[MODEL_STAGE] += time.process_time() - start
                self.pairs += len(claims)
        return timed


def install(meter: Meter) -> None:
    import importlib

    from claimlookup.relation import RelationModel

    for module_name, attribute, name in STAGES:
        module = importlib.import_module(module_name)
        setattr(module, attribute, meter.wrap(name, getattr(module, attribute)))
    RelationModel.logits = meter.wrap_model(RelationModel.logits)  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE,
                        help="SQLite file: another existing store is read as it is; a missing one is built "
                             "with seeds + FA-KES")
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--warm", type=int, default=20, help="lookups first, not counted (caches, models)")
    args = parser.parse_args(argv)

    from claimlookup.lookup import ClaimTooShort, LookupRequest, find_reports
    from claimlookup.store import open_store

    # The default store is built or topped up with seeds + FA-KES; another
    # existing store (a scale run's) gets no articles added (setup() may
    # still bring its schema or entity keys up to date).
    given = args.store.resolve() != DEFAULT_STORE.resolve() and args.store.exists()
    store = open_store(f"sqlite:///{args.store}" if given else ensure_store(args.store))
    store.setup()
    texts = fakes_claims(args.warm + args.lookups)
    for text in texts[:args.warm]:
        try:
            find_reports(store, LookupRequest(text, limit=10))
        except ClaimTooShort:
            pass
    meter = Meter()
    install(meter)
    per_lookup: list[dict[str, float]] = []
    pairs: list[int] = []
    for text in texts[args.warm:]:
        meter.current = defaultdict(float)
        meter.pairs = 0
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            find_reports(store, LookupRequest(text, limit=10))
        except ClaimTooShort:
            continue
        row = {k: 1000 * v for k, v in meter.current.items()}
        row["total CPU"] = 1000 * (time.process_time() - cpu)
        row["wall"] = 1000 * (time.perf_counter() - wall)
        per_lookup.append(row)
        pairs.append(meter.pairs)
    store.close()

    names = [name for _, _, name in STAGES] + [MODEL_STAGE, "total CPU", "wall"]
    table = {}
    print(f"{len(per_lookup)} lookups on {args.store} (limit 10), CPU ms per lookup:")
    print(f"{'stage':<46} {'median':>8} {'mean':>8}")
    for name in names:
        values = [row.get(name, 0.0) for row in per_lookup]
        table[name] = {"median_ms": round(statistics.median(values), 2), "mean_ms": round(statistics.fmean(values), 2)}
        print(f"{name:<46} {table[name]['median_ms']:>8.1f} {table[name]['mean_ms']:>8.1f}")
    staged = sum(table[name]["mean_ms"] for name, in ((n,) for _, _, n in STAGES))
    other = table["total CPU"]["mean_ms"] - staged
    print(f"{'not in a stage (request objects, exclusion)':<46} {'':>8} {other:>8.1f}")
    print(f"relation model pairs per lookup: median {statistics.median(pairs)}, mean {statistics.fmean(pairs):.1f}")
    ceiling = 1000 / table["total CPU"]["mean_ms"]
    print(f"lookups per CPU second (one core's ceiling): {ceiling:.1f}; two cores: {2 * ceiling:.1f}")
    print(json.dumps({"lookups": len(per_lookup), "store": str(args.store), "stages": table,
                      "unstaged_mean_ms": round(other, 2), "model_pairs_median": statistics.median(pairs),
                      "model_pairs_mean": round(statistics.fmean(pairs), 1),
                      "lookups_per_cpu_second": round(ceiling, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
