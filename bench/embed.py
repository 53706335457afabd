"""Embedder: the packaged model (int8 weights, folded to fp32 by onnxruntime at
load) against the derived per-token int8 model that ``claimlookup.embed`` uses.

    .venv/bin/python -m bench.embed

Prints, in one run: median ms for one sentence (1 thread), sentences/s
batched (batch 8; 1 thread, 2 threads, 2 threads with spinning), and the
mean/min cosine between the two models' vectors on ~200 FA-KES sentences.
The VM is shared and noisy: compare the ratios within a run."""

from __future__ import annotations

import csv
import re
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from claimlookup import embed

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "seeds" / "fa-kes" / "FA-KES-Dataset.csv"
SINGLE = "The death toll rose to at least 70 on Wednesday, the health ministry said in a statement."


def sentences(limit: int = 200) -> list[str]:
    """The 2nd and 3rd sentence of each FA-KES article (the 1st repeats the
    date and title), at least six words, in file order."""
    out: list[str] = []
    with open(CSV, encoding="utf-8", errors="replace", newline="") as f:
        for row in csv.DictReader(f):
            for s in re.split(r"(?<=[.!?])\s+", row["article_content"])[1:3]:
                if len(s.split()) >= 6:
                    out.append(s)
    return out[:limit]


def make(path: Path, threads: int, spinning: bool = False) -> embed.Embedder:
    e = embed.Embedder(path, threads=threads)
    e._session = embed.onnx_session(path, threads, spinning=spinning)
    return e


def single_ms(e: embed.Embedder, repeats: int = 60) -> float:
    e.embed([SINGLE])
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        e.embed([SINGLE])
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def rate(e: embed.Embedder, texts: list[str], rounds: int = 3) -> float:
    e.embed(texts[:8])
    best = []
    for _ in range(rounds):
        start = time.perf_counter()
        e.embed(texts, batch_size=8)
        best.append(len(texts) / (time.perf_counter() - start))
    return statistics.median(best)


def main() -> None:
    texts = sentences()
    models = {"packaged fp32": embed.source_model(), "int8 per-token": embed.cached_model()}
    print(f"{len(texts)} sentences; single sentence: {len(SINGLE.split())} words")
    vectors = {}
    rows: list[dict[str, Any]] = []
    for label, path in models.items():
        one = make(path, 1)
        vectors[label] = one.embed(texts)
        row = {"model": label, "single ms (1t)": single_ms(one), "sent/s b8 1t": rate(one, texts),
               "sent/s b8 2t": rate(make(path, 2), texts), "sent/s b8 2t spin": rate(make(path, 2, True), texts)}
        rows.append(row)
    keys = list(rows[0])
    print(" | ".join(f"{k:>17}" for k in keys))
    for row in rows:
        print(" | ".join(f"{row[k]:>17}" if isinstance(row[k], str) else f"{row[k]:>17.1f}" for k in keys))
    print("ratio int8/fp32: single " f"{rows[0]['single ms (1t)'] / rows[1]['single ms (1t)']:.2f}x faster, "
          f"b8 1t {rows[1]['sent/s b8 1t'] / rows[0]['sent/s b8 1t']:.2f}x, "
          f"b8 2t {rows[1]['sent/s b8 2t'] / rows[0]['sent/s b8 2t']:.2f}x")
    a, b = vectors.values()
    cos = (a * b).sum(axis=1)
    print(f"cosine int8 vs fp32 over {len(texts)}: mean {cos.mean():.4f} min {cos.min():.4f}")
    quantised = make(models["int8 per-token"], 1)
    alone = np.stack([quantised.embed([t])[0] for t in texts[:50]])
    print(f"int8 batch independence (alone vs batched, 50 sentences): max |diff| {np.abs(alone - b[:50]).max():.2e}")


if __name__ == "__main__":
    main()
