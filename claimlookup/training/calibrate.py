"""Fit the report score's calibration on held-out judged lookups.

    python -m claimlookup.training calibrate --news-store data/claimlookup.db

Runs three labelled sets through ``find_reports`` (``training.evaluation``):
FNC-1's story dev split (never used to train the relation model), CheckThat!
2020 dev, and the odd-numbered judged news claims (the even ones trained the
model). Every returned report that is judged gives one row of
``lookup.judging.SCORE_FEATURES`` and a label (the article reports the
claim: FNC-1 related, CheckThat! relevant, news same claim). A logistic model
over those rows (each set weighted equally) becomes
``claimlookup/data/relation-calibration.json``.

Honest figures: the calibration error reported for each set is
cross-fitted (2 folds by claim: fit on one half of the claims of every set,
measure on the other half), so no pair is scored by a calibration fitted on
it. The shipped calibration is fitted on all rows.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from claimlookup import fusion
from claimlookup.lookup.judging import CALIBRATION_PATH, SCORE_FEATURES
from claimlookup.store import open_store
from claimlookup.training import evaluation as ev
from claimlookup.training.fusion import CLAIMS_FILE, claim_records, read_split

ROOT = Path(__file__).resolve().parents[2]
NEWS_CLAIMS = ROOT / "bench" / "data" / "news-claims.jsonl"


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, flush=True)


def checkthat_queries(folder: Path, split: str) -> list[ev.Query]:
    """The tweets of a CheckThat! split with their relevant verified claims;
    every other claim a lookup returns is unrelated (the qrels are complete)."""
    data = read_split(folder, split)
    return [ev.Query(q, data.queries[q], {c: "supports" for c in cs}, group=f"ct:{q}", complete=True)
            for q, cs in sorted(data.qrels.items()) if q in data.queries]


def news_queries(parity: int) -> list[ev.Query]:
    claims: dict[int, ev.Query] = {}
    with open(NEWS_CLAIMS, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["claim_id"] % 2 != parity:
                continue
            q = claims.setdefault(r["claim_id"], ev.Query(f"n{r['claim_id']}", r["claim"], {},
                                                          exclude=(r["claim_article"],), group=f"news:{r['claim_id']}"))
            q.labels[r["report"]] = "supports" if r["label"] else "unrelated"
    return list(claims.values())


def labelled_rows(run: ev.Run, queries: list[ev.Query]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    complete = {q.qid for q in queries if q.complete}
    x, y, groups = [], [], []
    for r in run.reports:
        gold = r.gold if r.gold is not None else ("unrelated" if r.qid in complete else None)
        if gold is None or len(r.features) != len(SCORE_FEATURES):
            continue
        x.append(r.features)
        y.append(gold != "unrelated")
        groups.append(r.qid)
    return np.array(x, dtype=np.float64).reshape(-1, len(SCORE_FEATURES)), np.array(y, dtype=np.float64), groups


def collect(data: Path, news_store: Path, cache: Path) -> dict[str, tuple[np.ndarray, np.ndarray, list[str]]]:
    sets = {}
    fnc = data / "relation" / "fnc1"
    store, queries = ev.fnc_store(fnc / "train_bodies.csv", fnc / "train_stances_story_dev.csv", cache, log)
    log(f"FNC-1 story dev: {len(queries)} headlines")
    sets["fnc1-story-dev"] = labelled_rows(ev.run_queries(store, queries, limit=20, log=log), queries)
    ct = data / "checkthat2020"
    store = ev.cached_store("checkthat-claims", [ct / CLAIMS_FILE], claim_records(ct), cache, log)
    queries = checkthat_queries(ct, "dev")
    log(f"CheckThat! dev: {len(queries)} tweets")
    sets["checkthat-dev"] = labelled_rows(ev.run_queries(store, queries, limit=5, log=log), queries)
    queries = news_queries(parity=1)
    log(f"news (odd claims): {len(queries)} claims")
    sets["news-odd"] = labelled_rows(ev.run_queries(open_store(f"sqlite:///{news_store}"), queries, limit=8,
                                                    log=log), queries)
    return sets


def fit(sets: dict[str, tuple[np.ndarray, np.ndarray, list[str]]], fold: int | None = None,
        meta: dict | None = None) -> fusion.FusionModel:
    """Fit on every set (each weighted to the same total); with ``fold``,
    only on the claims whose half is not ``fold``."""
    xs, ys, ws = [], [], []
    for x, y, groups in sets.values():
        keep = np.array([fold is None or _half(g) != fold for g in groups], dtype=bool)
        if not keep.any():
            continue
        xs.append(x[keep])
        ys.append(y[keep])
        ws.append(np.full(int(keep.sum()), 1000.0 / keep.sum()))
    return fusion.fit_logistic(np.vstack(xs), np.concatenate(ys), SCORE_FEATURES, l2=1.0,
                               sample_weight=np.concatenate(ws), meta=meta)


def _half(group: str) -> int:
    import zlib

    return zlib.crc32(group.encode()) % 2


def report(sets: dict[str, tuple[np.ndarray, np.ndarray, list[str]]]) -> dict:
    """Cross-fitted calibration error and reliability table per set."""
    folds = [fit(sets, fold=f) for f in (0, 1)]
    out = {}
    for name, (x, y, groups) in sets.items():
        halves = np.array([_half(g) for g in groups])
        p = np.zeros(len(y))
        for f in (0, 1):
            mask = halves == f
            if mask.any():
                p[mask] = folds[f].probabilities(x[mask])  # fold f's model was fitted without half f
        out[name] = {"pairs": len(y), "related": int(y.sum()),
                     "ece_cross_fitted": round(ev.expected_calibration_error(p, y.astype(bool)), 4),
                     "roc_auc": round(ev.roc_auc(p, y.astype(bool)), 4),
                     "reliability": fusion.reliability_markdown(p, y)}
    return out


def write_sample(sets: dict[str, tuple[np.ndarray, np.ndarray, list[str]]], path: Path, per_set: int = 150,
                 seed: int = 7) -> None:
    """A fixed sample of the rows (``per_set`` of each set, seeded) for the
    test that the shipped calibration still fits the features the code computes."""
    rng = np.random.default_rng(seed)
    features, related = [], []
    for x, y, _ in sets.values():
        pick = rng.choice(len(y), size=min(per_set, len(y)), replace=False)
        features += [[round(float(v), 5) for v in row] for row in x[pick]]
        related += [bool(v) for v in y[pick]]
    path.write_text(json.dumps({"features_names": list(SCORE_FEATURES), "features": features,
                                "related": related}) + "\n")


def run(args: argparse.Namespace) -> int:
    cache: Path = args.work / "stores"
    rows_path = args.work / "calibration-rows.npz"
    if rows_path.exists() and not args.refresh:
        saved = np.load(rows_path, allow_pickle=True)
        sets = saved["sets"].item()
    else:
        sets = collect(args.data, args.news_store, cache)
        np.savez(rows_path, sets=np.array(sets, dtype=object))
    figures = report(sets)
    for name, f in figures.items():
        log(f"{name}: {f['pairs']} judged reports ({f['related']} related), cross-fitted ECE "
            f"{f['ece_cross_fitted']}, ROC-AUC {f['roc_auc']}")
        print(f["reliability"])
    meta = {"fitted_on": {name: {"pairs": f["pairs"], "related": f["related"]} for name, f in figures.items()},
            "cross_fitted": {name: {k: f[k] for k in ("ece_cross_fitted", "roc_auc")} for name, f in figures.items()},
            "command": "python -m claimlookup.training calibrate"}
    model = fit(sets, meta=meta)
    write_sample(sets, ROOT / "tests" / "data" / "calibration-sample.json")
    out = args.out or CALIBRATION_PATH
    out.write_text(json.dumps(model.to_json(), indent=2) + "\n")
    weights = dict(zip(SCORE_FEATURES, np.round(model.weights, 3), strict=True))
    log(f"wrote {out}: weights {weights}, bias {model.bias:.3f}")
    print(json.dumps(meta["cross_fitted"]))
    return 0
