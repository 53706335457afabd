"""What several benchmark scripts share, so that no script imports another.

* The seeds + FA-KES bench store (``bench.lookup``, ``bench.news``,
  ``bench.news_pool``, ``bench.fit_news``): ``ensure_store``, the FA-KES rows,
  the hand-judged news claims.
* CheckThat! 2020 task 2 (``bench.checkthat``, ``bench.fit_fusion``): the data,
  its store, the ranking metrics, the lookup's candidate sets, and the fusion
  fitting and scoring.

Run the scripts as modules from the repository root, with the project
installed (``make install``): ``.venv/bin/python -m bench.checkthat ...``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from claimlookup import fusion, lookup
from claimlookup.model import ANALYSIS_VERSION, Filters
from claimlookup.pipeline import ArticleRecord, Origin, ingest
from claimlookup.store import Store, open_store
from claimlookup.store.sqlite import SCHEMA_PATH

ROOT = Path(__file__).resolve().parents[1]
FAKES = ROOT / "seeds" / "fa-kes" / "FA-KES-Dataset.csv"

# --- the seeds + FA-KES bench store ---------------------------------------------------------

DEFAULT_STORE = ROOT / "data" / "bench-lookup.db"
JUDGEMENTS = ROOT / "bench" / "data" / "news-claims.jsonl"


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


def checked_fusion() -> fusion.Fusion:
    """The shipped fusion models, checked against the features the lookup computes."""
    models = fusion.load_fusion()
    for model, names in ((models.sentence, lookup.SENTENCE_FEATURES), (models.article, lookup.ARTICLE_FEATURES)):
        if model.features != names:
            raise fusion.FusionModelError(
                f"{fusion.WEIGHTS_PATH} was fitted on features {model.features}, the lookup computes "
                f"{names}; run python -m bench.fit_fusion")
    return models


# --- CheckThat! 2020 task 2 ---------------------------------------------------------------------

CLAIMS_FILE = "verified_claims.docs.tsv"
QUERIES_FILE = "tweets.queries.tsv"
QRELS_FILE = "tweet-vclaim-pairs.qrels"
L2 = 1.0

#: [(query id, CandidateSet)], as ``collect`` returns them.
CandidateSets = list[tuple[str, lookup.CandidateSet]]


@dataclass(frozen=True)
class Split:
    queries: dict[str, str]  # qid -> tweet text
    qrels: dict[str, set[str]]  # qid -> relevant vclaim ids


def tsv_rows(path: Path) -> Iterator[list[str]]:
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t")
        next(rows, None)  # header
        yield from rows


def claim_records(data_dir: Path) -> Iterator[ArticleRecord]:
    path = data_dir / CLAIMS_FILE
    for line, row in enumerate(tsv_rows(path), start=2):
        vclaim_id, vclaim, title = (row + ["", "", ""])[:3]
        yield ArticleRecord(body=vclaim, title=title or None, id=vclaim_id, origin=Origin(str(path), line))


def read_split(data_dir: Path, split: str) -> Split:
    queries = {row[0]: row[1] for row in tsv_rows(data_dir / split / QUERIES_FILE) if len(row) >= 2}
    qrels: dict[str, set[str]] = {}
    with open(data_dir / split / QRELS_FILE, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4 and parts[3] != "0":
                qrels.setdefault(parts[0], set()).add(parts[2])
    return Split({q: t for q, t in queries.items() if q in qrels}, qrels)


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def build_store(data_dir: Path, cache_dir: Path | None, store_url: str | None) -> tuple[Store, str]:
    """A store holding the verified claims, built through the ingest pipeline.

    With ``store_url``: that store is filled (unchanged claims are skipped).
    With ``cache_dir``: the SQLite file ``checkthat-<hash of the claims
    file>-<hash of schema.sql>-a<ANALYSIS_VERSION>.db`` is reused if it
    exists, else built there.
    Otherwise a fresh store in a temporary directory.
    """
    if store_url:
        store = open_store(store_url)
        return _filled(store, data_dir, fresh=True), store_url
    if cache_dir:
        cache_dir.mkdir(parents=True, exist_ok=True)
        key = f"{file_hash(data_dir / CLAIMS_FILE)}-{file_hash(SCHEMA_PATH)[:8]}-a{ANALYSIS_VERSION}"
        path = cache_dir / f"checkthat-{key}.db"
        if path.exists():
            print(f"store: reusing {path}\n  key = sha256 of {data_dir / CLAIMS_FILE} + of the store schema "
                  f"{SCHEMA_PATH.name} + the analysis version (claimlookup.model.ANALYSIS_VERSION, bumped when "
                  "the NLP or the embedder changes)", flush=True)
            return open_store(f"sqlite:///{path}"), str(path)
        partial = path.with_suffix(".building")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        store = _filled(open_store(f"sqlite:///{partial / 'store.db'}"), data_dir, fresh=True)
        store.close()
        (partial / "store.db").rename(path)
        shutil.rmtree(partial, ignore_errors=True)
        print(f"store: built and cached as {path}", flush=True)
        return open_store(f"sqlite:///{path}"), str(path)
    path = Path(tempfile.mkdtemp(prefix="checkthat-")) / "store.db"
    return _filled(open_store(f"sqlite:///{path}"), data_dir, fresh=True), str(path)


def _filled(store: Store, data_dir: Path, fresh: bool) -> Store:
    store.setup()
    started = time.perf_counter()
    summary = ingest(store, claim_records(data_dir))
    print(f"store: indexed {summary.articles} claims ({summary.new} new, {summary.skipped} skipped, "
          f"{summary.duplicates} duplicates) in {time.perf_counter() - started:.0f} s", flush=True)
    for problem in summary.problems[:10]:
        print(f"  {problem}", flush=True)
    return store


def average_precision(ranked: Sequence[str], relevant: set[str], depth: int) -> float:
    hits, total = 0, 0.0
    for i, doc in enumerate(ranked[:depth]):
        if doc in relevant:
            hits += 1
            total += hits / (i + 1)
    return total / len(relevant) if relevant else 0.0


def metrics(rankings: dict[str, list[str]], qrels: dict[str, set[str]]) -> dict[str, float]:
    """MAP@1, MAP@5, MRR, P@1 and recall@20 over the queries of ``qrels``
    (a query with no ranking counts as all misses)."""
    rows = []
    for qid, relevant in qrels.items():
        ranked = rankings.get(qid, [])
        first = next((i for i, d in enumerate(ranked) if d in relevant), None)
        rows.append((average_precision(ranked, relevant, 1), average_precision(ranked, relevant, 5),
                     0.0 if first is None else 1.0 / (first + 1),
                     float(bool(ranked) and ranked[0] in relevant),
                     len(set(ranked[:20]) & relevant) / len(relevant)))
    means = [sum(col) / len(rows) for col in zip(*rows, strict=True)] if rows else [0.0] * 5
    return dict(zip(("map_at_1", "map_at_5", "mrr", "p_at_1", "recall_at_20"), (round(m, 4) for m in means),
                    strict=True))


def collect(store: Store, split: Split) -> CandidateSets:
    """Candidate sets (features, no scores) of every query of a split, with
    each query id: [(qid, CandidateSet)]. Too-short queries are left out."""
    out = []
    for qid, text in split.queries.items():
        try:
            claim = lookup.prepare_claims([text])[0]
        except lookup.ClaimTooShort:
            continue
        out.append((qid, lookup.candidate_sets(store, [claim], Filters())[0]))
    return out


def fit_models(sets: CandidateSets, qrels: dict[str, set[str]], l2: float = L2,
               sentence_names: Sequence[str] = lookup.SENTENCE_FEATURES,
               article_names: Sequence[str] = lookup.ARTICLE_FEATURES,
               meta: dict[str, Any] | None = None) -> fusion.Fusion:
    """Fit the sentence model (label: the sentence's article is relevant),
    then the article model over article features built from its log-odds.
    ``*_names`` select feature subsets (the ablation drops some)."""
    s_idx = [lookup.SENTENCE_FEATURES.index(n) for n in sentence_names]
    a_idx = [lookup.ARTICLE_FEATURES.index(n) for n in article_names]
    x = np.vstack([c.features[:, s_idx] for _, c in sets])
    sentence = fusion.fit_logistic(x, sentence_labels(sets, qrels), sentence_names, l2=l2)
    xa = np.vstack([lookup.article_features(c, sentence.logits(c.features[:, s_idx]))[:, a_idx] for _, c in sets])
    article = fusion.fit_logistic(xa, article_labels(sets, qrels), article_names, l2=l2)
    return fusion.Fusion(sentence, article, dict(meta or {}))


def sentence_labels(sets: CandidateSets, qrels: dict[str, set[str]]) -> np.ndarray:
    return np.concatenate([[s.ref.article_id in qrels.get(qid, ()) for s in c.sentences]
                           for qid, c in sets]).astype(float)


def article_labels(sets: CandidateSets, qrels: dict[str, set[str]]) -> np.ndarray:
    return np.concatenate([[a in qrels.get(qid, ()) for a in c.articles] for qid, c in sets]).astype(float)


def scored(sets: CandidateSets, models: fusion.Fusion, sentence_names: Sequence[str] = lookup.SENTENCE_FEATURES,
           article_names: Sequence[str] = lookup.ARTICLE_FEATURES) -> CandidateSets:
    """Fill scores of every candidate set with ``models`` (feature subsets allowed)."""
    s_idx = [lookup.SENTENCE_FEATURES.index(n) for n in sentence_names]
    a_idx = [lookup.ARTICLE_FEATURES.index(n) for n in article_names]
    for _, c in sets:
        c.logits = models.sentence.logits(c.features[:, s_idx])
        c.scores = fusion.sigmoid(c.logits)
        c.article_features = lookup.article_features(c, c.logits)
        c.article_scores = models.article.probabilities(c.article_features[:, a_idx])
    return sets


def rankings(sets: CandidateSets) -> dict[str, list[str]]:
    """Each query's candidate articles by article score (no copy folding)."""
    out = {}
    for qid, c in sets:
        assert c.article_scores is not None, "score the candidate sets first (scored)"
        out[qid] = [c.articles[k] for k in np.argsort(-c.article_scores, kind="stable")]
    return out
