"""Judged lookups: every claim of a labelled set through ``find_reports``
(the code path of ``POST /v1/claims/lookup``), and the metrics over them.

Used by the score calibration (``python -m claimlookup.training calibrate``)
and by the quality benchmarks (``bench/relation.py``), so that what is
fitted and what is measured is what the service answers.

Three labelled sets:

- a folder in FNC-1 layout (bodies CSV + stances CSV): every body is indexed
  as an article (id ``fnc:<Body ID>``, title = its first line or sentence),
  every headline is looked up; a (headline, body) pair of the stances file is
  related unless labelled ``unrelated``;
- CheckThat! 2020 (tweets vs verified claims): a report is related if it is
  in the qrels;
- the judged news claims (``bench/data/news-claims.jsonl``) on the seeds +
  FA-KES store: a report is related if judged the same claim.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from claimlookup.model import ANALYSIS_VERSION, Filters
from claimlookup.pipeline import ArticleRecord, Origin, ingest
from claimlookup.relation import LABELS
from claimlookup.store import Store, open_store

#: FNC-1 stance names -> the product's stance (and back).
FNC_TO_STANCE = {"agree": "supports", "disagree": "refutes", "discuss": "discusses", "unrelated": "unrelated"}
STANCE_TO_FNC = {v: k for k, v in FNC_TO_STANCE.items()}


@dataclass(frozen=True, slots=True)
class Query:
    """One claim to look up, with what is known of the articles."""

    qid: str
    text: str
    labels: dict[str, str]  # article id -> gold label (LABELS names); unlisted articles are unjudged
    exclude: tuple[str, ...] = ()
    group: str = ""
    complete: bool = False  # True: every unlisted article is unrelated (CheckThat! qrels)


@dataclass(frozen=True, slots=True)
class JudgedReport:
    """A returned report of a query, with the gold label when it is judged."""

    qid: str
    article_ids: tuple[str, ...]  # the report and its folded copies
    rank: int
    score: float
    stance: str
    features: tuple[float, ...]
    gold: str | None
    probabilities: tuple[float, ...] = ()  # the relation model's, for the passage (explain)
    sentences: tuple[tuple[str, tuple[float, ...]], ...] = ()  # (frame, probabilities) of each shown sentence


@dataclass
class Run:
    reports: list[JudgedReport] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    rejected: int = 0


def run_queries(store: Store, queries: Iterable[Query], limit: int, log=print) -> Run:
    """Every query through ``find_reports`` with ``explain`` (for the
    calibration features); queries too short to be claims are counted."""
    from claimlookup.lookup import ClaimNotEnglish, ClaimTooShort, LookupRequest, find_reports

    out = Run()
    find_reports(store, LookupRequest("Warm-up query about a claim that loads every model"))
    for n, q in enumerate(queries, 1):
        started = time.perf_counter()
        try:
            result = find_reports(store, LookupRequest(q.text, Filters(exclude_articles=q.exclude),
                                                       limit=limit, explain=True))
        except (ClaimTooShort, ClaimNotEnglish):
            out.rejected += 1
            continue
        out.latencies_ms.append((time.perf_counter() - started) * 1000)
        for rank, r in enumerate(result.reports):
            ids = (r.article_id, *(c.article_id for c in r.copies))
            gold = next((q.labels[i] for i in ids if i in q.labels), None)
            features = tuple(r.evidence["features"].values()) if r.evidence else ()
            probabilities = tuple(r.evidence["probabilities"].values()) if r.evidence else ()
            sentences = tuple((s.frame.value, tuple(s.evidence["probabilities"].values()) if s.evidence else ())
                              for s in r.sentences)
            out.reports.append(JudgedReport(q.qid, ids, rank, r.score, r.stance.value, features, gold,
                                            probabilities, sentences))
        if n % 100 == 0:
            log(f"  {n} queries")
    return out


# --- FNC-1 layout ---------------------------------------------------------------------------

def read_fnc(bodies_csv: Path, stances_csv: Path) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    csv.field_size_limit(1 << 30)
    with open(bodies_csv, newline="", encoding="utf-8") as f:
        bodies = {row["Body ID"]: row["articleBody"] for row in csv.DictReader(f)}
    with open(stances_csv, newline="", encoding="utf-8") as f:
        rows = [(r["Headline"], r["Body ID"], r["Stance"]) for r in csv.DictReader(f) if r.get("Body ID") in bodies]
    return bodies, rows


def fnc_queries(rows: Sequence[tuple[str, str, str]]) -> list[Query]:
    by_headline: dict[str, dict[str, str]] = {}
    for headline, body, stance in rows:
        by_headline.setdefault(headline, {})[f"fnc:{body}"] = FNC_TO_STANCE.get(stance, "unrelated")
    return [Query(f"h{i}", h, labels, group=h) for i, (h, labels) in enumerate(sorted(by_headline.items()))]


_FIRST_SENTENCE = re.compile(r"^(.{20,300}?[.!?][\"'”’]?)\s+(?=\S)", re.DOTALL)


def split_title(body: str) -> tuple[str, str]:
    """(first sentence, the rest) of an FNC-1 body: its title is its first
    sentence (the corpus has no titles)."""
    text = body.strip()
    match = _FIRST_SENTENCE.match(text)
    if match is None:
        first = text.split("\n", 1)[0][:300]
        return first, text[len(first):].strip() or text
    return match.group(1).strip(), text[match.end():].strip()


def fnc_records(bodies: dict[str, str], ids: Iterable[str], origin: str) -> Iterator[ArticleRecord]:
    for body_id in ids:
        title, rest = split_title(bodies[body_id])
        yield ArticleRecord(body=rest or title, title=title, id=f"fnc:{body_id}", source=None,
                            origin=Origin(origin))


def cached_store(name: str, key_files: Sequence[Path], records: Iterable[ArticleRecord], cache_dir: Path,
                 log=print) -> Store:
    """A SQLite store of ``records`` built through the ingest pipeline,
    cached in ``cache_dir`` under a key of the source files, the analysis
    version and the embedder file (its sha256: a candidate embedder measured
    without a version bump gets stores of its own); built in a side folder
    and renamed, so a killed build is redone."""
    from claimlookup.embed import model_identity

    digest = hashlib.sha256(f"a{ANALYSIS_VERSION}:{model_identity()}".encode())
    for path in key_files:
        digest.update(path.read_bytes())
    path = cache_dir / f"{name}-{digest.hexdigest()[:16]}.db"
    if not path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".building")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        store = open_store(f"sqlite:///{partial / 'store.db'}")
        store.setup()
        started = time.perf_counter()
        summary = ingest(store, records)
        store.close()
        log(f"store {name}: {summary.articles} articles indexed in {time.perf_counter() - started:.0f} s")
        (partial / "store.db").rename(path)
        shutil.rmtree(partial, ignore_errors=True)
    return open_store(f"sqlite:///{path}")


def fnc_store(bodies_csv: Path, stances_csv: Path, cache_dir: Path, log=print) -> tuple[Store, list[Query]]:
    bodies, rows = read_fnc(bodies_csv, stances_csv)
    ids = sorted({b for _, b, _ in rows}, key=int)
    store = cached_store(f"fnc-{stances_csv.stem}", [bodies_csv, stances_csv],
                         fnc_records(bodies, ids, str(bodies_csv)), cache_dir, log)
    return store, fnc_queries(rows)


# --- metrics ----------------------------------------------------------------------------------

def fnc_predictions(run: Run, queries: Sequence[Query], threshold: float) -> tuple[list[str], list[str], list[float]]:
    """Gold and predicted label and score of every labelled (query, article)
    pair: an article not returned, or returned below ``threshold``, is
    predicted unrelated (score 0 when not returned)."""
    returned: dict[tuple[str, str], JudgedReport] = {}
    for r in run.reports:
        for i in r.article_ids:
            returned.setdefault((r.qid, i), r)
    gold, pred, scores = [], [], []
    for q in queries:
        for article, label in q.labels.items():
            found = returned.get((q.qid, article))
            gold.append(label)
            scores.append(found.score if found else 0.0)
            pred.append(found.stance if found and found.score >= threshold else "unrelated")
    return gold, pred, scores


def fnc_score(gold: Sequence[str], pred: Sequence[str]) -> float:
    """The official FNC-1 score as a share of the maximum: 0.25 for getting
    related vs unrelated right, 0.75 more for the right stance of a related pair."""
    def points(g: str, p: str) -> float:
        s = 0.25 if (g == "unrelated") == (p == "unrelated") else 0.0
        return s + (0.75 if g != "unrelated" and g == p else 0.0)
    best = sum(points(g, g) for g in gold)
    return sum(points(g, p) for g, p in zip(gold, pred, strict=True)) / best if best else 0.0


def f1_scores(gold: Sequence[str], pred: Sequence[str]) -> dict[str, float]:
    out = {}
    for c in LABELS:
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        fp = sum(g != c and p == c for g, p in zip(gold, pred, strict=True))
        fn = sum(g == c and p != c for g, p in zip(gold, pred, strict=True))
        out[c] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return out


def roc_auc(scores: Sequence[float] | np.ndarray, positive: Sequence[bool] | np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties half)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(positive, dtype=bool)
    pos, neg = s[y], s[~y]
    if not len(pos) or not len(neg):
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    ranks[order] = np.arange(1, len(order) + 1)
    allv = np.concatenate([pos, neg])
    for v in np.unique(allv):  # average ranks of ties
        tie = allv == v
        ranks[tie] = ranks[tie].mean()
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def expected_calibration_error(p: Sequence[float] | np.ndarray, y: Sequence[bool] | np.ndarray,
                               bins: int = 10) -> float:
    """ECE over equal-width bins: the pair-weighted mean |mean score - match rate|."""
    p_arr = np.asarray(p, dtype=np.float64)
    y_arr = np.asarray(y, dtype=np.float64)
    if not len(p_arr):
        return float("nan")
    index = np.minimum((p_arr * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            total += mask.sum() * abs(p_arr[mask].mean() - y_arr[mask].mean())
    return float(total / len(p_arr))


def mean_average_precision(run: Run, queries: Sequence[Query]) -> float:
    """MAP over queries with at least one related article, ranking the
    returned reports by their order (unreturned related ones count as missed)."""
    by_query: dict[str, list[JudgedReport]] = {}
    for r in run.reports:
        by_query.setdefault(r.qid, []).append(r)
    aps = []
    for q in queries:
        relevant = {a for a, label in q.labels.items() if label != "unrelated"}
        if not relevant:
            continue
        hits, total = 0, 0.0
        for i, r in enumerate(sorted(by_query.get(q.qid, []), key=lambda r: r.rank)):
            if relevant.intersection(r.article_ids):
                hits += 1
                total += hits / (i + 1)
        aps.append(total / len(relevant))
    return float(np.mean(aps)) if aps else float("nan")


def save_run(run: Run, path: Path) -> None:
    path.write_text("".join(json.dumps(_as_dict(r)) + "\n" for r in run.reports))


def _as_dict(r: JudgedReport) -> dict:
    return {k: getattr(r, k) for k in JudgedReport.__slots__}


def load_run(path: Path) -> Run:
    run = Run()
    for line in path.read_text().splitlines():
        d = json.loads(line)
        d["article_ids"], d["features"] = tuple(d["article_ids"]), tuple(d["features"])
        d["probabilities"] = tuple(d.get("probabilities", ()))
        d["sentences"] = tuple((f, tuple(p)) for f, p in d.get("sentences", ()))
        run.reports.append(JudgedReport(**d))
    return run
