"""Claim-matching quality on CLEF CheckThat! 2020 Task 2 (tweets -> verified claims).

Indexes the verified claims as articles (id = vclaim_id, title = the claim's
title, body = the claim) into a fresh store through the real ingest pipeline,
sends every query of a split through ``claimlookup.lookup.find_reports`` (the
code path of ``POST /v1/claims/lookup``), and prints MAP@1, MAP@5, MRR, P@1,
recall@20 and lookup latency. The last line printed is one JSON object.

    .venv/bin/python bench/checkthat.py --data-dir ../shared/data/checkthat2020 --split dev
    .venv/bin/python bench/checkthat.py ... --cache-dir /tmp/ct-cache   # reuse the built store
    .venv/bin/python bench/checkthat.py ... --ablation                  # MAP@5 per evidence source

Layout of ``--data-dir``: ``verified_claims.docs.tsv`` (vclaim_id, vclaim,
title) and ``<split>/tweets.queries.tsv`` + ``<split>/tweet-vclaim-pairs.qrels``
(TREC: ``qid 0 docid 1``). MAP@k follows the task's scorer: precision at each
relevant hit within the first k, summed and divided by the number of relevant
claims of the query.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from claimlookup.pipeline import ArticleRecord, Origin, ingest  # noqa: E402
from claimlookup.model import ANALYSIS_VERSION  # noqa: E402
from claimlookup.store import Store, open_store  # noqa: E402

CLAIMS_FILE = "verified_claims.docs.tsv"
QUERIES_FILE = "tweets.queries.tsv"
QRELS_FILE = "tweet-vclaim-pairs.qrels"
DEPTH = 20  # reports asked per query: recall@20 needs 20
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "claimlookup" / "store" / "schema.sql"


@dataclass(frozen=True)
class Split:
    queries: dict[str, str]  # qid -> tweet text
    qrels: dict[str, set[str]]  # qid -> relevant vclaim ids


def _tsv_rows(path: Path) -> Iterator[list[str]]:
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t")
        next(rows, None)  # header
        yield from rows


def claim_records(data_dir: Path) -> Iterator[ArticleRecord]:
    path = data_dir / CLAIMS_FILE
    for line, row in enumerate(_tsv_rows(path), start=2):
        vclaim_id, vclaim, title = (row + ["", "", ""])[:3]
        yield ArticleRecord(body=vclaim, title=title or None, id=vclaim_id, origin=Origin(str(path), line))


def read_split(data_dir: Path, split: str) -> Split:
    queries = {row[0]: row[1] for row in _tsv_rows(data_dir / split / QUERIES_FILE) if len(row) >= 2}
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
        key = f"{file_hash(data_dir / CLAIMS_FILE)}-{file_hash(SCHEMA_FILE)[:8]}-a{ANALYSIS_VERSION}"
        path = cache_dir / f"checkthat-{key}.db"
        if path.exists():
            print(f"store: reusing {path}\n  key = sha256 of {data_dir / CLAIMS_FILE} + of the store schema "
                  f"{SCHEMA_FILE.name} + the analysis version (claimlookup.model.ANALYSIS_VERSION, bumped when "
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


# --- metrics -----------------------------------------------------------------------


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
    means = [sum(col) / len(rows) for col in zip(*rows)] if rows else [0.0] * 5
    return dict(zip(("map_at_1", "map_at_5", "mrr", "p_at_1", "recall_at_20"), (round(m, 4) for m in means)))


def ranked_ids(result) -> list[str]:
    """Report ids in order, each followed by its folded copies (a copy is
    as much a report of the claim as its lead)."""
    return [i for r in result.reports for i in (r.article_id, *(c.article_id for c in r.copies))]


@dataclass
class Lookups:
    """What ``run_lookups`` saw: each query's ranking, latencies (ms), the
    queries refused as too short, every returned report's (score, relevant),
    and how many claims the news-evidence model applied to."""

    rankings: dict[str, list[str]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    rejected: int = 0
    scored: list[tuple[float, bool]] = field(default_factory=list)
    news_applied: int = 0


def run_lookups(store: Store, split: Split) -> Lookups:
    """Every query through find_reports."""
    from claimlookup.lookup import ClaimTooShort, LookupRequest, find_reports

    find_reports(store, LookupRequest("Warm-up query about a claim that loads every model"))
    out = Lookups()
    for qid, text in split.queries.items():
        started = time.perf_counter()
        try:
            result = find_reports(store, LookupRequest(text, limit=DEPTH))
        except ClaimTooShort:
            out.rejected += 1
            continue
        finally:
            out.latencies.append((time.perf_counter() - started) * 1000)
        out.rankings[qid] = ranked_ids(result)
        relevant = split.qrels.get(qid, set())
        out.scored += [(r.score, r.article_id in relevant) for r in result.reports]
        out.news_applied += any(q.qualifier != "vague" for q in result.claim.quantities)
    return out


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


# --- ablation --------------------------------------------------------------------------

#: Evidence sources removed one at a time in --ablation: (sentence features, article features).
#: The rows rank with the CheckThat!-fitted stage only (figures and the news-evidence
#: stage are not part of it; the news stage is measured by bench/news.py).
EVIDENCE = {
    "lexical (BM25 + coverage)": (("bm25", "coverage", "coverage_reverse", "rank_lexical"),
                                  ("coverage_article", "title_bm25")),
    "BM25 feature only (coverage kept)": (("bm25", "rank_lexical"), ("title_bm25",)),
    "vectors (cosines)": (("cosine", "cosine_gap", "rank_vector"), ("title_cosine",)),
    "entities": (("entities_shared", "entities_missing"), ("entities_shared", "entities_missing")),
    "relative features (gap, ranks)": (("cosine_gap", "rank_vector", "rank_lexical"), ()),
    "second-best sentence": ((), ("second_sentence",)),
}


def collect(store: Store, split: Split) -> list:
    """Candidate sets (features, no scores) of every query of a split, with
    each query id: [(qid, CandidateSet)]. Too-short queries are left out."""
    from claimlookup.lookup import ClaimTooShort, candidate_sets, prepare_claims
    from claimlookup.model import Filters

    out = []
    for qid, text in split.queries.items():
        try:
            claim = prepare_claims([text])[0]
        except ClaimTooShort:
            continue
        out.append((qid, candidate_sets(store, [claim], Filters())[0]))
    return out


def best_sentence_rankings(sets: list, column: int) -> dict[str, list[str]]:
    """Each query's articles by the best value of one sentence feature."""
    out = {}
    for qid, c in sets:
        best = [c.features[rows, column].max() for rows in c.article_rows]
        out[qid] = [c.articles[k] for k in sorted(range(len(best)), key=lambda k: -best[k])]
    return out


def ablation(store: Store, train: Split, dev: Split) -> list[tuple[str, float]]:
    from fit_fusion import fit_models, rankings, scored

    from claimlookup.lookup import ARTICLE_FEATURES, SENTENCE_FEATURES

    train_sets, dev_sets = collect(store, train), collect(store, dev)

    def fused(drop_sentence: Sequence[str] = (), drop_article: Sequence[str] = ()) -> float:
        s_names = [n for n in SENTENCE_FEATURES if n not in drop_sentence]
        a_names = [n for n in ARTICLE_FEATURES if n not in drop_article]
        models = fit_models(train_sets, train.qrels, sentence_names=s_names, article_names=a_names)
        return metrics(rankings(scored(dev_sets, models, s_names, a_names)), dev.qrels)["map_at_5"]

    rows = [("BM25 only (best sentence by the lookup's BM25, same candidates)",
             metrics(best_sentence_rankings(dev_sets, SENTENCE_FEATURES.index("bm25")), dev.qrels)["map_at_5"]),
            ("vectors only (best sentence by cosine, same candidates)",
             metrics(best_sentence_rankings(dev_sets, SENTENCE_FEATURES.index("cosine")),
                     dev.qrels)["map_at_5"]),
            ("fused (all features)", fused())]
    for name, (drop_sentence, drop_article) in EVIDENCE.items():
        rows.append((f"fused minus {name}", fused(drop_sentence, drop_article)))
    return rows


# --- main ---------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--split", default="dev", help="split to evaluate (a folder of --data-dir)")
    parser.add_argument("--store", help="store URL to fill (default: a fresh SQLite store in a temp dir)")
    parser.add_argument("--cache-dir", type=Path, help="reuse the built SQLite store from here")
    parser.add_argument("--ablation", action="store_true",
                        help="also refit the fusion on --train-split without each evidence source")
    parser.add_argument("--train-split", default="train")
    args = parser.parse_args(argv)

    store, where = build_store(args.data_dir, args.cache_dir, args.store)
    split = read_split(args.data_dir, args.split)
    print(f"split {args.split}: {len(split.queries)} queries; store {where}", flush=True)
    seen = run_lookups(store, split)
    result = metrics(seen.rankings, split.qrels)
    result |= {"latency_p50_ms": round(statistics.median(seen.latencies), 1),
               "latency_p99_ms": round(percentile(seen.latencies, 99), 1), "queries": len(split.queries)}
    if seen.rejected:
        print(f"{seen.rejected} queries rejected as too short (scored as misses)")
    print(f"news evidence applied to {seen.news_applied} claims (they give a figure)")
    from claimlookup.fusion import reliability_markdown

    print(f"reliability of Report.score (top {DEPTH} reports per query):")
    print(reliability_markdown([s for s, _ in seen.scored], [float(y) for _, y in seen.scored]))
    for key in ("map_at_1", "map_at_5", "mrr", "p_at_1", "recall_at_20"):
        print(f"{key:>14}: {result[key]:.4f}")
    print(f"{'latency':>14}: p50 {result['latency_p50_ms']} ms, p99 {result['latency_p99_ms']} ms (in-process)")
    if args.ablation:
        print("\nablation (MAP@5 on %s; fusion refitted on %s each time):" % (args.split, args.train_split))
        for name, value in ablation(store, read_split(args.data_dir, args.train_split), split):
            print(f"  {value:.4f}  {name}")
    store.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
