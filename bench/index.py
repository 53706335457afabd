"""Indexing benchmark: FA-KES (or any input) into a fresh temp SQLite store per run.

    .venv/bin/python -m bench.index [--path seeds/fa-kes/FA-KES-Dataset.csv] [--runs 3]
                                    [--no-embed] [--processes N] [--embed-threads N]

Prints, per run and as the median over runs: articles/s, sentences/s, total
seconds and the seconds of each stage (read+clean, spaCy, embed, store) as
the pipeline measures them (wall-clock time of the ingesting process; with
spaCy worker processes, "spaCy" is the time spent waiting for them), then CPU
seconds per stage (spaCy: the main process's stage plus the worker
processes) and the total of the process and its children. On a shared machine CPU seconds show the work
done; wall-clock seconds also show the other tenants. Models are loaded before
the first run, so load time is not counted. Figures, not assertions: results
go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from claimlookup.nlp.pipeline import spacy_profiled
from claimlookup.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_PATH = ROOT / "seeds" / "fa-kes" / "FA-KES-Dataset.csv"


@dataclass
class Result:
    articles: int
    sentences: int
    seconds: float
    read_clean: float
    spacy: float
    embed: float
    store: float
    processes: int
    cpu_read_clean: float  # CPU seconds of the main process in that stage
    cpu_spacy: float  # the main process's spaCy stage plus the worker processes
    cpu_embed: float
    cpu_store: float
    cpu_total: float  # main process and its children


    @property
    def articles_per_s(self) -> float:
        return self.articles / self.seconds

    @property
    def sentences_per_s(self) -> float:
        return self.sentences / self.seconds


def main() -> None:
    args = parse_args()
    if args.embed_threads:
        os.environ["CLAIMLOOKUP_EMBED_THREADS"] = str(args.embed_threads)
    warm_up(embed=not args.no_embed)
    print(f"input {args.path}; runs {args.runs}; embeddings {'off' if args.no_embed else 'on'}; "
          f"CLAIMLOOKUP_EMBED_THREADS={Settings.from_env().embed_threads}; "
          f"spaCy processes {args.processes or 'auto'}; load average {os.getloadavg()[0]:.2f}")
    print(f"Python {platform.python_version()}; spaCy's profiling hooks {'on' if spacy_profiled() else 'off'} "
          "(docs/operations.md, \"Python\")")
    print(header())
    results = []
    for run in range(1, args.runs + 1):
        results.append(index_once(args.path, args.processes, embed=not args.no_embed))
        print(row(f"run {run}", results[-1]))
    print(row("median", median(results)))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    middle = median(results)
    figures = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in dataclasses.asdict(middle).items()}
    figures["cpu_ms_a_sentence"] = round(1000 * middle.cpu_total / max(middle.sentences, 1), 3)
    print(json.dumps({"runs": len(results), "median": figures}))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH, help="file or folder to index (default FA-KES)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-embed", action="store_true", help="skip embeddings (vectors left empty)")
    parser.add_argument("--processes", type=int, default=None, help="spaCy processes (default: pipeline's auto)")
    parser.add_argument("--embed-threads", type=int, default=None, help="sets CLAIMLOOKUP_EMBED_THREADS")
    return parser.parse_args()


def warm_up(embed: bool) -> None:
    from claimlookup import nlp

    nlp.get_nlp()("Warm up.")
    if embed:
        from claimlookup.embed import get_embedder

        get_embedder().embed(["Warm up."])


def index_once(path: Path, processes: int | None, embed: bool) -> Result:
    from claimlookup.pipeline import ingest
    from claimlookup.store import open_store
    from indexer.readers import read_path

    with tempfile.TemporaryDirectory(prefix="bench-index-") as folder:
        store = open_store(f"sqlite:///{folder}/index.db")
        store.setup()
        try:
            cpu_before = cpu_seconds()
            started = time.perf_counter()
            summary = ingest(store, read_path(path), n_process=processes, embed=embed)
            seconds = time.perf_counter() - started
            cpu_used = cpu_seconds() - cpu_before
        finally:
            store.close()
    if summary.skipped:
        print(f"warning: {summary.skipped} records skipped", file=sys.stderr)
    stages, cpu = summary.stages, summary.cpu
    workers = cpu_used - (cpu.read_clean + cpu.spacy + cpu.embed + cpu.store)
    return Result(summary.new + summary.updated, summary.sentences, seconds, stages.read_clean, stages.spacy,
                  stages.embed, stages.store, summary.processes, cpu.read_clean, cpu.spacy + max(0.0, workers),
                  cpu.embed, cpu.store, cpu_used)


def cpu_seconds() -> float:
    """User + system CPU of this process and of its finished children (spaCy workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def median(results: list[Result]) -> Result:
    def mid(name: str) -> float:
        return statistics.median(getattr(r, name) for r in results)

    return Result(int(mid("articles")), int(mid("sentences")), mid("seconds"), mid("read_clean"), mid("spacy"),
                  mid("embed"), mid("store"), results[0].processes, mid("cpu_read_clean"), mid("cpu_spacy"),
                  mid("cpu_embed"), mid("cpu_store"), mid("cpu_total"))


def header() -> str:
    return (f"{'':8} {'articles':>8} {'sentences':>9} {'total s':>8} {'art/s':>7} {'sent/s':>7} "
            f"{'read+clean':>10} {'spaCy':>7} {'embed':>7} {'store':>7} {'procs':>5} "
            f"| cpu: {'read+clean':>10} {'spaCy':>7} {'embed':>7} {'store':>7} {'total':>7}")


def row(label: str, r: Result) -> str:
    return (f"{label:8} {r.articles:8d} {r.sentences:9d} {r.seconds:8.1f} {r.articles_per_s:7.1f} "
            f"{r.sentences_per_s:7.1f} {r.read_clean:10.2f} {r.spacy:7.1f} {r.embed:7.1f} {r.store:7.2f} "
            f"{r.processes:5d} |      {r.cpu_read_clean:10.2f} {r.cpu_spacy:7.1f} {r.cpu_embed:7.1f} "
            f"{r.cpu_store:7.2f} {r.cpu_total:7.1f}")


if __name__ == "__main__":
    main()
