"""Fit the lookup's news-evidence model on the judged news claims.

    python -m claimlookup.training news --split all [--store FILE] [--l2 1.0] [--out FILE]

The fitted fusion (``claimlookup/data/fusion-weights.json``, CheckThat!
train; ``python -m claimlookup.training fusion``) scores how alike a report
is to a claim. It cannot weigh evidence that tweets and fact-checks never
show: figures on both sides, the claim's place missing from a whole article,
an article covering every word of the claim; and it trusts the relative
features (a candidate far behind the best one is rarely the answer) as much
as a one-answer task allows, while a news claim has many reports. This fits
what to add to the article log-odds for those (``lookup.NEWS_FEATURES``): an
L2 logistic regression with the fitted log-odds as a fixed offset, on every
judged (claim, report) pair of ``bench/data/news-claims.jsonl`` whose claim
gives a figure and whose report is among the lookup's candidates. Features
come from the lookup's own code (``lookup.candidate_sets``,
``lookup.article_features``, ``lookup.news_features``). The lookup applies
the model to such claims only (``lookup.news_applies``). Weights go to
``claimlookup/data/news-weights.json`` (or ``--out``).

``--split dev`` fits on the even claim ids and ``--split test`` on the odd
ones: with ``bench/news.py`` on the other half, that is the 2-fold
cross-validation docs/benchmarks.md reports. The shipped weights are
``--split all``; ``bench/news.py`` on either half is then in-sample.

Also here: the seeds + FA-KES store the news benchmarks and this fit use
(``ensure_store``) and the judged news claims (``load_judgements``).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from claimlookup import fusion, lookup
from claimlookup.model import Filters
from claimlookup.pipeline import ArticleRecord, Origin, ingest
from claimlookup.store import Store, open_store

ROOT = Path(__file__).resolve().parents[2]
FAKES = ROOT / "seeds" / "fa-kes" / "FA-KES-Dataset.csv"
DEFAULT_STORE = ROOT / "data" / "bench-lookup.db"
JUDGEMENTS = ROOT / "bench" / "data" / "news-claims.jsonl"
L2 = 1.0
WRITTEN_BY = "python -m claimlookup.training news"


# --- the seeds + FA-KES store and the judged news claims ---------------------------------------

def fakes_rows() -> list[dict[str, str]]:
    with open(FAKES, encoding="utf-8", errors="replace", newline="") as f:
        return list(csv.DictReader(f))


def records() -> Iterator[ArticleRecord]:
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        yield ArticleRecord(body=path.read_text(encoding="utf-8"), id=f"seed:{path.stem[:3]}",
                            origin=Origin(str(path)))
    for line, row in enumerate(fakes_rows(), start=2):
        try:
            published = datetime.strptime(row["date"], "%m/%d/%Y").date()
        except ValueError:
            published = None
        yield ArticleRecord(body=row["article_content"], title=row["article_title"] or None,
                            id=f"fa-kes:{row['unit_id']}", source=row["source"] or None,
                            published=published, origin=Origin(str(FAKES), line))


def ensure_store(path: Path) -> str:
    """The store URL; the store is built (or topped up: unchanged articles are
    skipped before any NLP) through the real pipeline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path}"
    store = open_store(url)
    store.setup()
    started = time.perf_counter()
    summary = ingest(store, records())
    print(f"store {path}: {store.count_articles()} articles ({summary.new} new, {summary.unchanged} "
          f"unchanged, {summary.skipped} skipped) in {time.perf_counter() - started:.1f} s", flush=True)
    store.close()
    return url


def load_judgements(split: str) -> dict[int, dict[str, Any]]:
    """The judged news claims of a split (dev: even ``claim_id``, test: odd,
    all): claim id -> {claim, article, kind, labels: {report id: 0 or 1}}."""
    claims: dict[int, dict[str, Any]] = {}
    with open(JUDGEMENTS, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            cid = row["claim_id"]
            if split == "dev" and cid % 2 or split == "test" and not cid % 2:
                continue
            claim = claims.setdefault(cid, {"claim": row["claim"], "article": row["claim_article"],
                                            "kind": row["kind"], "labels": {}})
            claim["labels"][row["report"]] = int(row["label"])
    return claims


# --- the fit ------------------------------------------------------------------------------------

def article_rows(candidates: lookup.CandidateSet) -> tuple[np.ndarray, np.ndarray]:
    """(news features, fitted article log-odds) of every candidate article,
    as ``lookup.score`` computes them before adding the news stage."""
    models = lookup._models()  # the shipped fusion, checked against the lookup's features
    fitted = models.sentence.logits(candidates.features)
    articles = lookup.article_features(candidates, fitted)
    _, news = lookup.news_features(candidates, fitted, articles)
    return news, models.article.logits(articles)


def news_pairs(store: Store, claims: dict[int, dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """(features, offsets, labels) of the judged pairs among the candidates,
    how many judged pairs were not among them, and how many claims the model
    applies to."""
    rows, offsets, labels, missing, applied = [], [], [], 0, 0
    for claim in claims.values():
        prepared = lookup.prepare_claims([claim["claim"]])[0]
        if not lookup.news_applies(prepared):
            continue  # the lookup does not apply the model to it either
        applied += 1
        candidates = lookup.candidate_sets(store, [prepared], Filters(exclude_articles=(claim["article"],)))[0]
        news, logits = article_rows(candidates)
        index = {a: k for k, a in enumerate(candidates.articles)}
        for article_id, label in claim["labels"].items():
            if article_id not in index:
                missing += 1
                continue
            rows.append(news[index[article_id]])
            offsets.append(logits[index[article_id]])
            labels.append(label)
    return np.array(rows), np.array(offsets), np.array(labels, dtype=float), missing, applied


def fit(store: Store, split: str, l2: float = L2) -> tuple[fusion.FusionModel, np.ndarray, np.ndarray, np.ndarray]:
    """The news-evidence model fitted on a split's judged claims, with its
    training rows (features, offsets, labels)."""
    claims = load_judgements(split)
    x, offset, y, missing, applied = news_pairs(store, claims)
    if not len(y):
        raise SystemExit("no judged pair whose claim gives a figure is among the candidates: nothing to fit")
    print(f"news claims ({split}): {len(claims)} claims, {len(y)} judged pairs among the candidates "
          f"({int(y.sum())} same claim), {missing} judged pairs not among them")
    model = fusion.fit_logistic(x, y, lookup.NEWS_FEATURES, l2=l2, offset=offset, meta={
        "fitted_on": f"bench/data/news-claims.jsonl, split {split!r}: {applied} claims that give a "
                     f"figure (of {len(claims)}), {len(y)} judged pairs",
        "offset": "article log-odds of the CheckThat!-fitted models (fusion-weights.json)",
        "applies_to": "claims that give a figure (lookup.news_applies)",
        "l2": l2, "written_by": WRITTEN_BY})
    return model, x, offset, y


def report(title: str, offset: np.ndarray, x: np.ndarray, y: np.ndarray, model: fusion.FusionModel) -> None:
    for name, p in (("fitted only", fusion.sigmoid(offset)), ("with news evidence",
                                                             fusion.sigmoid(offset + model.logits(x)))):
        print(f"  {title}, {name}: Brier {float(np.mean((p - y) ** 2)):.4f}, mean score of true pairs "
              f"{p[y == 1].mean():.3f}, of the others {p[y == 0].mean():.3f}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE,
                        help="the seeds + FA-KES SQLite store (built or topped up through the pipeline)")
    parser.add_argument("--l2", type=float, default=L2)
    parser.add_argument("--split", choices=("dev", "test", "all"), default="dev",
                        help="judged claims to fit on (dev: even ids; test: odd ids, for the second fold of a "
                             "2-fold cross-validation; all: both, for the shipped model)")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"where to write the weights (default {fusion.NEWS_WEIGHTS_PATH})")


def run(args: argparse.Namespace) -> int:
    store = open_store(ensure_store(args.store))
    model, x, offset, y = fit(store, args.split, args.l2)
    store.close()
    out: Path = args.out or fusion.NEWS_WEIGHTS_PATH
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
    fusion.load_news_model.cache_clear()
    print(f"weights -> {out}")
    print("log-odds added per unit of each feature (weight / scale):")
    for name, w, scale in zip(model.features, model.weights, model.scales, strict=True):
        print(f"  {w / scale:+.3f}  {name}")
    print(f"  {model.bias - float(np.sum(model.means / model.scales * model.weights)):+.3f}  (at zero features)")
    report(f"{args.split} pairs (in-sample)", offset, x, y, model)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))
