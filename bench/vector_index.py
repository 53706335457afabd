"""The SQLite store's approximate vector index: libraries compared, and the
store's index against exact search. Figures, not assertions: results go to
docs/benchmarks.md, "Vector search at scale".

    nice -n 15 .venv/bin/python -m bench.vector_index compare --store work/ann/news.db --rows 200000
    nice -n 15 .venv/bin/python -m bench.vector_index store --store work/ann/news.db
    nice -n 15 .venv/bin/python -m bench.vector_index memory --store work/ann/news.db
    nice -n 15 .venv/bin/python -m bench.vector_index scale --store work/ann/news.db --copies 9

``compare``: the first ``--rows`` stored sentence vectors, less ``--queries``
held-out rows drawn with a fixed seed, which are the queries (real sentences
of the same corpus), plus the CheckThat! 2020 dev tweets embedded by the
product's embedder (claims of another time and topic). For each library
setting: build time (one thread), file size, single-query search time (one
thread), recall@10 of its own top 10 against exact search, and recall@10
after what the store does (``OVERSAMPLE`` x 10 candidates re-scored exactly),
also counting a row that ties with the exact 10th score as found. usearch is
measured when it is importable (it is not a dependency:
``.venv/bin/pip install usearch==2.26.6``).

``store``: a store file (copied by the caller: this builds its ``.ann`` beside
it) with the threshold lowered to its size: the product's index build
(``refresh_vector_index``), then ``vector_candidates`` (limit 40, the
lookup's) with the index and without it: milliseconds per query, recall@10
and @40 against exact, and whether the scores of the rows both found agree.

``memory``: two processes open the store and answer the same queries, with
the index and then without it; their RSS and PSS from
``/proc/PID/smaps_rollup`` (PSS divides shared pages among the processes
that map them: the mapped index counts once for both).

``scale``: an index of ``--copies`` x the store's vectors (each copy jittered
by noise, ``--noise``), to show build time, file size and search time at a
million vectors. Synthetic: its recall is not a figure for real data.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import ROOT
from claimlookup.lookup.features import VECTOR_CANDIDATES
from claimlookup.model import Filters
from claimlookup.store import ann
from claimlookup.store.sqlite import SQLiteStore, neighbours
from claimlookup.store.vectors import cosines

TWEETS = ROOT.parent / "shared" / "data" / "checkthat2020" / "dev" / "tweets.queries.tsv"
SEED = 20240611


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    result = {"compare": compare, "store": store_figures, "memory": memory, "scale": scale,
              "child": child}[args.command](args)
    print(json.dumps(result))
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["compare", "store", "memory", "scale", "child"])
    parser.add_argument("--store", type=Path, required=True, help="a SQLite store file")
    parser.add_argument("--rows", type=int, default=100_000, help="compare: stored vectors to use")
    parser.add_argument("--queries", type=int, default=1000, help="held-out sentences used as queries")
    parser.add_argument("--copies", type=int, default=10, help="scale: jittered copies of the vectors")
    parser.add_argument("--noise", type=float, default=0.35, help="scale: jitter, relative to a unit vector")
    parser.add_argument("--mode", choices=["index", "exact"], default="index", help="(child)")
    return parser.parse_args(argv)


# --- data ----------------------------------------------------------------------


def stored_vectors(path: Path, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(sentence ids, float32 matrix) of the first ``rows`` vectors, read-only."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        found = conn.execute("SELECT sentence, vector FROM sentence_vectors ORDER BY sentence LIMIT ?",
                             (rows,)).fetchall()
    finally:
        conn.close()
    ids = np.array([r[0] for r in found], dtype=np.int64)
    matrix = np.frombuffer(b"".join(r[1] for r in found), dtype="<f4").reshape(len(found), -1)
    return ids, matrix


def held_out(count: int, rows: int) -> np.ndarray:
    return np.sort(np.random.default_rng(SEED).choice(rows, size=count, replace=False))


def tweet_vectors() -> np.ndarray:
    from claimlookup.embed import get_embedder

    with TWEETS.open(encoding="utf-8", newline="") as file:
        texts = [row["tweet_content"] for row in csv.DictReader(file, delimiter="\t")]
    return get_embedder().embed(texts)


def exact_top(queries: np.ndarray, matrix: np.ndarray, k: int) -> np.ndarray:
    scores = queries @ matrix.T
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    return np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1), axis=1)


def recall(found: Sequence[Sequence[int] | np.ndarray], truth: np.ndarray, k: int = 10) -> float:
    """Share of the exact top k among the k found (by row)."""
    return float(np.mean([len(set(f[:k]) & set(t[:k].tolist())) / k for f, t in zip(found, truth, strict=True)]))


def tie_aware_recall(found: Sequence[Sequence[int] | np.ndarray], queries: np.ndarray, matrix: np.ndarray,
                     truth: np.ndarray, k: int = 10) -> float:
    """Share of the k found whose exact score reaches the exact k-th best:
    a row that ties with the k-th (the corpus repeats sentences: 5% of its
    vectors are duplicates) counts as found, whichever of the tied rows the
    exact ranking happened to list."""
    shares = []
    for rows, query, best in zip(found, queries, truth, strict=True):
        kth = float(np.min(matrix[best[:k]] @ query))
        picked = np.asarray(rows[:k], dtype=np.int64)
        shares.append(float(np.sum(matrix[picked] @ query >= kth - 1e-6)) / k)
    return float(np.mean(shares))


def rescored(query: np.ndarray, candidates: np.ndarray, matrix: np.ndarray, k: int) -> list[int]:
    """The store's second step: exact cosine of the candidates, best k."""
    candidates = candidates[candidates >= 0]
    scores = cosines(query[None, :], matrix[candidates])[0]
    return candidates[np.argsort(-scores, kind="stable")[:k]].tolist()


def milliseconds(run: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- compare ---------------------------------------------------------------------------


def compare(args: argparse.Namespace) -> dict[str, Any]:
    _, everything = stored_vectors(args.store, args.rows)
    out = held_out(args.queries, len(everything))
    keep = np.ones(len(everything), bool)
    keep[out] = False
    matrix, query_sets = np.ascontiguousarray(everything[keep]), {"held-out sentences": everything[out],
                                                                   "CheckThat! tweets": tweet_vectors()}
    print(f"{len(matrix):,} vectors, queries: " + ", ".join(f"{len(q)} {n}" for n, q in query_sets.items()),
          flush=True)
    truth = {name: exact_top(q, matrix, 10) for name, q in query_sets.items()}
    exact_ms = milliseconds(lambda: cosines(query_sets["held-out sentences"][:1], matrix), 50)
    results: dict[str, Any] = {"vectors": len(matrix), "exact_ms_p50": statistics.median(exact_ms),
                               "settings": []}
    print(f"exact (numpy, one query): p50 {statistics.median(exact_ms):.1f} ms", flush=True)
    for setting in settings():
        figures = measure(setting, matrix, query_sets, truth)
        results["settings"].append(figures)
        print(json.dumps(figures), flush=True)
    return results


#: The search candidate lists tried on the product's setting.
EXPANSION_SWEEP = (64, 128, 256, 512, 1024)


def settings() -> list[dict[str, Any]]:
    """Both libraries at the product's graph parameters, each scalar kind at
    the product's search list; then the product's setting (faiss, 8-bit)
    across ``EXPANSION_SWEEP``. usearch is measured when it is importable (it
    is not a dependency; it is imported after onnxruntime here, see
    docs/store-sqlite.md)."""
    common = {"connectivity": ann.CONNECTIVITY, "expansion_add": ann.EXPANSION_ADD}
    found = [{"library": "faiss", "scalar": scalar, **common, "expansion_search": ann.EXPANSION_SEARCH}
             for scalar in ("f32", "sq8")]
    found += [{"library": "faiss", "scalar": "sq8", **common, "expansion_search": ef}
              for ef in EXPANSION_SWEEP if ef != ann.EXPANSION_SEARCH]
    try:
        import usearch.index  # noqa: F401
    except ImportError:
        print("usearch not importable: only faiss measured", flush=True)
        return found
    return found + [{"library": "usearch", "scalar": scalar, **common, "expansion_search": ann.EXPANSION_SEARCH}
                    for scalar in ("f32", "f16", "i8")]


Search = Callable[[np.ndarray, int, int], np.ndarray]
_BUILT: dict[tuple[Any, ...], tuple[dict[str, Any], Search]] = {}


def measure(setting: dict[str, Any], matrix: np.ndarray, query_sets: dict[str, np.ndarray],
            truth: dict[str, np.ndarray]) -> dict[str, Any]:
    """Build (or reuse the same graph for another search list), then search
    each query set: the k = 10 found, and 10 x ``OVERSAMPLE`` found then
    re-scored exactly as the store does."""
    graph = (setting["library"], setting["scalar"], setting["connectivity"], setting["expansion_add"])
    if graph not in _BUILT:
        build, search = (_usearch if setting["library"] == "usearch" else _faiss)(setting)
        wall, cpu = time.perf_counter(), cpu_seconds()
        size = build(matrix)
        _BUILT[graph] = ({"build_s": round(time.perf_counter() - wall, 1),
                          "build_cpu_s": round(cpu_seconds() - cpu, 1), "file_mb": round(size / 1e6, 1)}, search)
    built, search = _BUILT[graph]
    figures = dict(setting, **built)
    ef = setting["expansion_search"]
    wide_k = 10 * neighbours.OVERSAMPLE
    for name, queries in query_sets.items():
        own = [search(q, 10, ef) for q in queries]
        wide = [rescored(q, search(q, wide_k, ef), matrix, 10) for q in queries]
        times = [t for q in queries[:300] for t in milliseconds(functools.partial(search, q, wide_k, ef), 1)]
        figures[name] = {"recall@10": round(recall(own, truth[name]), 4),
                         "recall@10_rescored": round(recall(wide, truth[name]), 4),
                         "tie_aware_recall@10_rescored": round(tie_aware_recall(wide, queries, matrix, truth[name]), 4),
                         "search_ms_p50": round(statistics.median(times), 3)}
    return figures




def _usearch(setting: dict[str, Any]) -> tuple[Callable[[np.ndarray], int], Search]:
    from usearch.index import Index

    holder: dict[str, Any] = {}

    def build(matrix: np.ndarray) -> int:
        index = Index(ndim=matrix.shape[1], metric="cos", dtype=setting["scalar"],
                      connectivity=setting["connectivity"], expansion_add=setting["expansion_add"],
                      expansion_search=setting["expansion_search"])
        index.add(np.arange(len(matrix), dtype=np.uint64), matrix, threads=1)
        with tempfile.TemporaryDirectory() as folder:
            index.save(os.path.join(folder, "index"))
            size = os.path.getsize(os.path.join(folder, "index"))
        holder["index"] = index
        return size

    def search(query: np.ndarray, k: int, ef: int) -> np.ndarray:
        holder["index"].expansion_search = ef
        return np.asarray(holder["index"].search(query, k, threads=1).keys, dtype=np.int64)

    return build, search


def _faiss(setting: dict[str, Any]) -> tuple[Callable[[np.ndarray], int], Search]:
    import faiss

    faiss.omp_set_num_threads(1)
    holder: dict[str, Any] = {}

    def build(matrix: np.ndarray) -> int:
        # Unit vectors: inner product is the cosine.
        index: Any
        if setting["scalar"] == "f32":
            index = faiss.IndexHNSWFlat(matrix.shape[1], setting["connectivity"], faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexHNSWSQ(matrix.shape[1], faiss.ScalarQuantizer.QT_8bit,  # type: ignore[arg-type]
                                      setting["connectivity"],
                                      faiss.METRIC_INNER_PRODUCT)
            index.train(matrix)
        index.hnsw.efConstruction = setting["expansion_add"]
        index.add(matrix)
        index.hnsw.efSearch = setting["expansion_search"]
        with tempfile.TemporaryDirectory() as folder:
            faiss.write_index(index, os.path.join(folder, "index"))
            size = os.path.getsize(os.path.join(folder, "index"))
        holder["index"] = index
        return size

    def search(query: np.ndarray, k: int, ef: int) -> np.ndarray:
        index = holder["index"]
        index.hnsw.efSearch = max(ef, k)
        return index.search(query[None, :], k)[1][0]

    return build, search


# --- the store's index -----------------------------------------------------------------------


def store_figures(args: argparse.Namespace) -> dict[str, Any]:
    total = len(stored_vectors(args.store, 10**9)[0])
    ann.ANN_MIN_VECTORS = min(ann.ANN_MIN_VECTORS, total)
    store = SQLiteStore(args.store)
    wall, cpu = time.perf_counter(), cpu_seconds()
    refresh = store.refresh_vector_index(force=True)
    build = {"wall_s": round(time.perf_counter() - wall, 1), "cpu_s": round(cpu_seconds() - cpu, 1),
             "file_mb": round(store.vector_index_path.stat().st_size / 1e6, 1), "vectors": refresh.indexed}
    print(f"built: {json.dumps(build)}", flush=True)
    queries = tweet_vectors()[:100]
    _, sample = stored_vectors(args.store, total)
    queries = np.concatenate([queries, sample[held_out(100, len(sample))]])
    figures: dict[str, Any] = {"build": build, "queries": len(queries)}
    found = {}
    for mode in ("index", "exact"):
        ann.ANN_MIN_VECTORS = min(200_000, total) if mode == "index" else 10**12
        reader = SQLiteStore(args.store)
        one_query = functools.partial(reader.vector_candidates, queries[:1], Filters(), VECTOR_CANDIDATES)
        first = milliseconds(one_query, 1)[0]
        answers, times = [], []
        for query in queries:
            started = time.perf_counter()
            answers.append(reader.vector_candidates(query[None, :], Filters(), VECTOR_CANDIDATES)[0])
            times.append((time.perf_counter() - started) * 1000)
        filtered = milliseconds(functools.partial(
            reader.vector_candidates, queries[:1], Filters(exclude_articles=("nothing",)), VECTOR_CANDIDATES), 20)
        found[mode] = answers
        figures[mode] = {"first_query_ms": round(first, 1), "p50_ms": round(statistics.median(times), 2),
                         "p99_ms": round(float(np.percentile(times, 99)), 2),
                         "exclude_one_p50_ms": round(statistics.median(filtered), 2),
                         "uses_index": reader._vector_snapshot().floor > 0}
        reader.close()
        print(f"{mode}: {json.dumps(figures[mode])}", flush=True)
    figures["recall"] = agreement(found["index"], found["exact"])
    print(f"recall: {json.dumps(figures['recall'])}", flush=True)
    return figures


def agreement(approximate: list[list[Any]], exact: list[list[Any]]) -> dict[str, float]:
    """recall@10 and @40 of the index's answers against exact ones, and the
    largest score difference for rows both found."""
    result: dict[str, float] = {}
    for k in (10, VECTOR_CANDIDATES):
        result[f"recall@{k}"] = round(float(np.mean([len({c.ref for c in a[:k]} & {c.ref for c in e[:k]}) / k
                                                     for a, e in zip(approximate, exact, strict=True)])), 4)
    differences = [abs(ca.score - scores[ca.ref]) for a, e in zip(approximate, exact, strict=True)
                   for scores in [{c.ref: c.score for c in e}] for ca in a if ca.ref in scores]
    result["max_score_difference"] = float(max(differences, default=0.0))
    return result


# --- memory --------------------------------------------------------------------------------------


def memory(args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for mode in ("index", "exact"):
        command = [sys.executable, "-m", "bench.vector_index", "child", "--store", str(args.store), "--mode", mode]
        children = [subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
                    for _ in range(2)]
        for process in children:
            assert process.stdout is not None
            process.stdout.readline()  # "ready": both have answered their queries
        figures[mode] = [process_memory(process.pid) for process in children]
        for process in children:
            process.communicate("done\n", timeout=60)
        print(f"{mode}: {json.dumps(figures[mode])}", flush=True)
    figures["index_file_mb"] = round(neighbours.sidecar_path(args.store).stat().st_size / 1e6, 1)
    return figures


def child(args: argparse.Namespace) -> dict[str, Any]:
    """One reader: 300 queries, then "ready" and wait for the parent's line."""
    conn = sqlite3.connect(f"file:{args.store}?mode=ro", uri=True)
    try:  # only the query rows: the process's memory should be the store's
        total = conn.execute("SELECT count(*) FROM sentence_vectors").fetchone()[0]
        ids = [row[0] for row in conn.execute("SELECT sentence FROM sentence_vectors ORDER BY sentence")]
        wanted = [ids[i] for i in held_out(300, total)]
        del ids
        blobs = [conn.execute("SELECT vector FROM sentence_vectors WHERE sentence = ?", (i,)).fetchone()[0]
                 for i in wanted]
    finally:
        conn.close()
    queries = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), -1)
    ann.ANN_MIN_VECTORS = min(200_000, total) if args.mode == "index" else 10**12
    store = SQLiteStore(args.store)
    for query in queries:
        store.vector_candidates(query[None, :], Filters(), VECTOR_CANDIDATES)
    print("ready", flush=True)
    sys.stdin.readline()
    return {}


def process_memory(pid: int) -> dict[str, float]:
    """MiB: RSS and PSS of the process (``smaps_rollup``), their anonymous and
    file parts, and the RSS and PSS of its mapping of the index file
    (``smaps``, the ``.ann`` entry)."""
    fields = {}
    for line in (Path("/proc") / str(pid) / "smaps_rollup").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("Rss", "Pss", "Pss_File", "Pss_Anon"):
            fields[key.lower()] = round(int(value.split()[0]) / 1024, 1)
    in_index = False
    for line in (Path("/proc") / str(pid) / "smaps").read_text().splitlines():
        if not line.split(" ", 1)[0].endswith(":"):  # a mapping's header line
            in_index = line.rstrip().endswith(".ann")
        elif in_index and line.startswith(("Rss:", "Pss:")):
            key = "index_" + line.split(":")[0].lower()
            fields[key] = round(fields.get(key, 0.0) + int(line.split()[1]) / 1024, 1)
    return fields


# --- scale (synthetic) -----------------------------------------------------------------------------


def scale(args: argparse.Namespace) -> dict[str, Any]:
    _, base = stored_vectors(args.store, 10**9)
    rng = np.random.default_rng(SEED)
    copies = [base] + [base + args.noise * rng.standard_normal(base.shape).astype(np.float32) / np.sqrt(base.shape[1])
                       for _ in range(args.copies - 1)]
    matrix = np.concatenate(copies)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    del copies
    print(f"{len(matrix):,} vectors ({args.copies} jittered copies of {len(base):,})", flush=True)
    queries = np.ascontiguousarray(matrix[held_out(200, len(matrix))] + 0.05 * rng.standard_normal(
        (200, matrix.shape[1])).astype(np.float32))
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact_ms = milliseconds(lambda: cosines(queries[:1], matrix), 5)
    with tempfile.TemporaryDirectory(dir=args.store.parent) as folder:
        path = Path(folder) / "scale.db.ann"
        wall, cpu = time.perf_counter(), cpu_seconds()
        info = ann.build(path, ("synthetic", 0), matrix[::20], ((np.arange(b + 1, b + 1 + len(c)), c) for b, c in
                                                  ((b, matrix[b:b + 50_000]) for b in range(0, len(matrix), 50_000))),
                         threads=os.cpu_count() or 1)
        build = {"wall_s": round(time.perf_counter() - wall, 1), "cpu_s": round(cpu_seconds() - cpu, 1),
                 "file_mb": round(path.stat().st_size / 1e6, 1), "vectors": info.count}
        print(f"built: {json.dumps(build)}", flush=True)
        opened = time.perf_counter()
        index = ann.open_index(path)
        open_ms = (time.perf_counter() - opened) * 1000
        times = [t for q in queries for t in milliseconds(functools.partial(index.search, q[None, :], 160), 1)]
        truth = exact_top(queries, matrix, 10)
        keys = [index.search(q[None, :], 160)[0] - 1 for q in queries]
    return {"vectors": len(matrix), "build": build, "open_ms": round(open_ms, 1),
            "exact_ms_p50": round(statistics.median(exact_ms), 1),
            "index_search_160_ms_p50": round(statistics.median(times), 2),
            "index_search_160_ms_p99": round(float(np.percentile(times, 99)), 2),
            "recall@10_rescored_synthetic": round(recall([rescored(q, k, matrix, 10) for q, k in
                                                          zip(queries, keys, strict=True)], truth), 4)}


if __name__ == "__main__":
    raise SystemExit(main())
