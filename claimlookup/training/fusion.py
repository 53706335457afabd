"""Fit the lookup's fusion model and its term weights; report calibration.

    python -m claimlookup.training fusion [--data-dir DIR] [--cache-dir DIR | --store FILE] [--out DIR]

Steps:

1. ``term-idf.json``: IDF of content stems over a fixed background corpus:
   the CheckThat! verified claims (claim + title, no queries, no labels) and
   the FA-KES articles in ``seeds/fa-kes``. The lookup's coverage features
   use it (``claimlookup/data/term-idf.json``), so they do not depend on the
   store.
2. Index the verified claims (a SQLite store, cached, or ``--store``), run
   every *train* query through the lookup's candidate generation and feature
   code (``claimlookup.lookup.candidate_sets``), label each candidate sentence
   1 if its article is a relevant claim of the query, and fit the L2 logistic
   regression (``claimlookup.fusion.fit_logistic``). Weights go to
   ``fusion-weights.json``.
3. Score the *dev* split with the new weights and print the reliability
   table (sentence level and article level) that docs/lookup.md quotes.

Only the train split is fitted on; dev is only reported. ``--out`` (default
``claimlookup/data``) is the folder both files are written to. The features
are computed with the lookup's table (``claimlookup/data/term-idf.json``):
if the rebuilt table differs from it and goes elsewhere, install it and fit
again.

Also here: the CheckThat! 2020 task 2 data, its store, the ranking metrics
and the scoring of candidate sets with a fitted pair of models, which
``bench/checkthat.py`` uses too.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from claimlookup import fusion, lookup
from claimlookup.embed import file_sha256, model_identity
from claimlookup.model import ANALYSIS_VERSION, Filters
from claimlookup.pipeline import ArticleRecord, Origin, ingest
from claimlookup.store import Store, open_store
from claimlookup.store.sqlite import SCHEMA_PATH
from claimlookup.training.news import FAKES

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "checkthat2020"
CLAIMS_FILE = "verified_claims.docs.tsv"
QUERIES_FILE = "tweets.queries.tsv"
QRELS_FILE = "tweet-vclaim-pairs.qrels"
L2 = 1.0
WRITTEN_BY = "python -m claimlookup.training fusion"

#: [(query id, CandidateSet)], as ``collect`` returns them.
CandidateSets = list[tuple[str, lookup.CandidateSet]]
#: [(query id, ScoredCandidates)], as ``scored`` returns them.
ScoredSets = list[tuple[str, lookup.ScoredCandidates]]
#: Either (the labels read only the sentences and articles).
AnySets = Sequence[tuple[str, lookup.CandidateSet | lookup.ScoredCandidates]]


# --- CheckThat! 2020 task 2 -------------------------------------------------------------------

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
    return file_sha256(path)[:16]


def build_store(data_dir: Path, cache_dir: Path | None, store_url: str | None) -> tuple[Store, str]:
    """A store holding the verified claims, built through the ingest pipeline.

    With ``store_url``: that store is filled (unchanged claims are skipped).
    With ``cache_dir``: the SQLite file ``checkthat-<hash of the claims
    file>-<hash of schema.sql>-a<ANALYSIS_VERSION>-e<the embedder file's
    sha256, 12 digits>.db`` is reused if it exists, else built there.
    Otherwise a fresh store in a temporary directory.
    """
    if store_url:
        store = open_store(store_url)
        return _filled(store, data_dir), store_url
    if cache_dir:
        cache_dir.mkdir(parents=True, exist_ok=True)
        key = (f"{file_hash(data_dir / CLAIMS_FILE)}-{file_hash(SCHEMA_PATH)[:8]}-a{ANALYSIS_VERSION}"
               f"-e{model_identity()[:12]}")
        path = cache_dir / f"checkthat-{key}.db"
        if path.exists():
            print(f"store: reusing {path}\n  key = sha256 of {data_dir / CLAIMS_FILE} + of the store schema "
                  f"{SCHEMA_PATH.name} + the analysis version (claimlookup.model.ANALYSIS_VERSION, bumped when "
                  "the NLP or the embedder changes) + the embedder file's sha256", flush=True)
            return open_store(f"sqlite:///{path}"), str(path)
        partial = path.with_suffix(".building")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        store = _filled(open_store(f"sqlite:///{partial / 'store.db'}"), data_dir)
        store.close()
        (partial / "store.db").rename(path)
        shutil.rmtree(partial, ignore_errors=True)
        print(f"store: built and cached as {path}", flush=True)
        return open_store(f"sqlite:///{path}"), str(path)
    path = Path(tempfile.mkdtemp(prefix="checkthat-")) / "store.db"
    return _filled(open_store(f"sqlite:///{path}"), data_dir), str(path)


def _filled(store: Store, data_dir: Path) -> Store:
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


# --- candidate sets, fitting and scoring --------------------------------------------------------

def collect(store: Store, split: Split) -> CandidateSets:
    """Candidate sets (features, no scores) of every query of a split, with
    each query id: [(qid, CandidateSet)]. Too-short queries are left out."""
    out = []
    for qid, text in split.queries.items():
        try:
            claim = lookup.prepare_claims([text])[0]
        except (lookup.ClaimTooShort, lookup.ClaimNotEnglish):
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


def sentence_labels(sets: AnySets, qrels: dict[str, set[str]]) -> np.ndarray:
    return np.concatenate([[s.ref.article_id in qrels.get(qid, ()) for s in c.sentences]
                           for qid, c in sets]).astype(float)


def article_labels(sets: AnySets, qrels: dict[str, set[str]]) -> np.ndarray:
    return np.concatenate([[a in qrels.get(qid, ()) for a in c.articles] for qid, c in sets]).astype(float)


def scored(sets: CandidateSets, models: fusion.Fusion, sentence_names: Sequence[str] = lookup.SENTENCE_FEATURES,
           article_names: Sequence[str] = lookup.ARTICLE_FEATURES) -> ScoredSets:
    """Every candidate set scored with ``models`` (feature subsets
    allowed): the fitted stage of ``lookup.score``, without the news stage
    (which is fitted on top of these models)."""
    s_idx = [lookup.SENTENCE_FEATURES.index(n) for n in sentence_names]
    a_idx = [lookup.ARTICLE_FEATURES.index(n) for n in article_names]
    out: ScoredSets = []
    for qid, c in sets:
        logits = models.sentence.logits(c.features[:, s_idx])
        articles = lookup.article_features(c, logits)
        out.append((qid, lookup.ScoredCandidates(
            c, logits, fusion.sigmoid(logits), articles, models.article.probabilities(articles[:, a_idx]),
            news_features=np.zeros((len(c.sentences), 0)), article_news_features=np.zeros((len(c.articles), 0)))))
    return out


def rankings(sets: ScoredSets) -> dict[str, list[str]]:
    """Each query's candidate articles by article score (no copy folding)."""
    out = {}
    for qid, c in sets:
        out[qid] = [c.articles[k] for k in np.argsort(-c.article_scores, kind="stable")]
    return out


# --- the term weights -------------------------------------------------------------------------

def background_documents(data_dir: Path) -> list[str]:
    docs = [f"{row[2]} {row[1]}" for row in tsv_rows(data_dir / CLAIMS_FILE) if len(row) >= 3]
    with open(FAKES, encoding="utf-8", errors="replace", newline="") as f:
        docs += [f"{r['article_title']} {r['article_content']}" for r in csv.DictReader(f)]
    return docs


def write_term_weights(data_dir: Path, path: Path) -> dict[str, Any]:
    """Rebuild the IDF table from the background corpus and write it to ``path``."""
    docs = background_documents(data_dir)
    weights = fusion.TermWeights.from_counts([set(fusion.content_stems(d)) for d in docs])
    data = weights.to_json() | {"documents": len(docs),
                                "corpus": "CheckThat! 2020 verified claims (claim + title) and FA-KES articles"}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    if path.resolve() == fusion.TermWeights.PATH.resolve():
        fusion.TermWeights.load.cache_clear()
    else:
        shipped = json.loads(fusion.TermWeights.PATH.read_text(encoding="utf-8"))
        same = shipped.get("idf") == data["idf"] and shipped.get("default") == data["default"]
        print(f"term weights: {'the same as' if same else 'DIFFERENT from'} {fusion.TermWeights.PATH}"
              + ("" if same else "; the fit below uses the lookup's table: install the new one and fit again"))
    print(f"term weights: {len(data['idf'])} stems from {len(docs)} documents -> {path}")
    return data


def print_reliability(title: str, p: np.ndarray, y: np.ndarray) -> list[dict]:
    table = fusion.reliability_table(p, y)
    print(f"\n{title}\n{fusion.reliability_markdown(p, y)}")
    brier = float(np.mean((p - y) ** 2))
    print(f"Brier score {brier:.4f}; {int(y.sum())} true of {len(y)}")
    return table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA,
                        help="CheckThat! 2020 task 2 (verified_claims.docs.tsv, train/, dev/)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--cache-dir", type=Path, help="reuse the built SQLite store from here (else build it there)")
    where.add_argument("--store", type=Path, help="an existing SQLite store of the verified claims, used as it is")
    parser.add_argument("--train-split", default="train")
    parser.add_argument("--report-split", default="dev")
    parser.add_argument("--l2", type=float, default=L2)
    parser.add_argument("--keep-idf", action="store_true", help="do not rebuild term-idf.json")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"folder for fusion-weights.json and term-idf.json (default {fusion.WEIGHTS_PATH.parent})")


def run(args: argparse.Namespace) -> int:
    out_dir: Path = args.out or fusion.WEIGHTS_PATH.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    if not args.keep_idf:
        write_term_weights(args.data_dir, out_dir / fusion.TermWeights.PATH.name)
    if args.store:
        if not args.store.exists():
            raise SystemExit(f"no store at {args.store}")
        store = open_store(f"sqlite:///{args.store}")
        print(f"store: {args.store} as it is ({store.count_articles()} articles)", flush=True)
    else:
        store, _ = build_store(args.data_dir, args.cache_dir, None)
    train = read_split(args.data_dir, args.train_split)
    started = time.perf_counter()
    train_sets = collect(store, train)
    print(f"train: {len(train_sets)} queries, {sum(len(c.sentences) for _, c in train_sets)} candidate "
          f"sentences, {sum(len(c.articles) for _, c in train_sets)} candidate articles "
          f"({time.perf_counter() - started:.0f} s)", flush=True)
    models = fit_models(train_sets, train.qrels, args.l2, meta={
        "fitted_on": f"CheckThat! 2020 task 2, split {args.train_split!r} ({len(train_sets)} queries)",
        "sentence_unit": "candidate sentence; label 1 if its article is a relevant verified claim",
        "article_unit": "candidate article; label 1 if it is a relevant verified claim",
        "l2": args.l2, "written_by": WRITTEN_BY})
    weights_path = out_dir / fusion.WEIGHTS_PATH.name
    weights_path.write_text(json.dumps(models.to_json(), indent=1) + "\n", encoding="utf-8")
    fusion.load_fusion.cache_clear()
    print(f"weights -> {weights_path}")
    for title, model in (("sentence model", models.sentence), ("article model", models.article)):
        print(f"{title} (weights on standardised features):")
        for name, w in sorted(zip(model.features, model.weights, strict=True), key=lambda t: -abs(t[1])):
            print(f"  {w:+.3f}  {name}")

    dev = read_split(args.data_dir, args.report_split)
    dev_sets = scored(collect(store, dev), models)
    print(f"\n{args.report_split} (candidate ranking, no copy folding): {metrics(rankings(dev_sets), dev.qrels)}")
    print_reliability(f"Reliability, {args.report_split} split, article level (Report.score)",
                      np.concatenate([c.article_scores for _, c in dev_sets]), article_labels(dev_sets, dev.qrels))
    print_reliability(f"Reliability, {args.report_split} split, sentence level (ReportSentence.score)",
                      np.concatenate([c.scores for _, c in dev_sets]), sentence_labels(dev_sets, dev.qrels))
    store.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))
