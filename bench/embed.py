"""Embedder: the packaged six-layer model (int8 weights, folded to fp32 by
onnxruntime at load), its derived per-token int8 model (the teacher), and the
committed three-layer student that ``claimlookup.embed`` uses.

    .venv/bin/python -m bench.embed

Prints, in one run: median ms for one sentence (1 thread), sentences/s
batched (batch 8; 1 thread, 2 threads, 2 threads with spinning), CPU ms a
sentence (1 thread), and each model's mean/min cosine to the fp32 model's
vectors on ~200 FA-KES sentences. The VM is shared and noisy: compare the
ratios within a run. The last line is one JSON object."""

from __future__ import annotations

import csv
import json
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


def cpu_ms(e: embed.Embedder, texts: list[str], rounds: int = 3) -> float:
    e.embed(texts[:8])
    times = []
    for _ in range(rounds):
        start = time.process_time()
        e.embed(texts, batch_size=8)
        times.append(time.process_time() - start)
    return 1000 * statistics.median(times) / len(texts)


def main() -> None:
    texts = sentences()
    models = {"packaged fp32 (6 layers)": embed.source_model(), "int8 per-token (6, teacher)": embed.cached_model(),
              "student int8 (3, shipped)": embed.MODEL_PATH}
    print(f"{len(texts)} sentences; single sentence: {len(SINGLE.split())} words")
    vectors = {}
    rows: list[dict[str, Any]] = []
    for label, path in models.items():
        one = make(path, 1)
        vectors[label] = one.embed(texts)
        row = {"model": label, "single ms (1t)": single_ms(one), "CPU ms a text (1t)": cpu_ms(one, texts),
               "sent/s b8 1t": rate(one, texts), "sent/s b8 2t": rate(make(path, 2), texts),
               "sent/s b8 2t spin": rate(make(path, 2, True), texts)}
        reference = vectors["packaged fp32 (6 layers)"]
        cos = (vectors[label] * reference).sum(axis=1)
        row["cos to fp32 mean"], row["cos to fp32 min"] = float(cos.mean()), float(cos.min())
        rows.append(row)
    keys = list(rows[0])
    print(" | ".join(f"{k:>27}" if k == "model" else f"{k:>18}" for k in keys))
    for row in rows:
        print(" | ".join(f"{row[k]:>27}" if isinstance(row[k], str) else
                         f"{row[k]:>18.4f}" if k.startswith("cos") else f"{row[k]:>18.2f}" for k in keys))
    fp32, teacher, student = rows
    print(f"CPU a text: teacher int8 {fp32['CPU ms a text (1t)'] / teacher['CPU ms a text (1t)']:.2f}x fewer than "
          f"fp32; student {teacher['CPU ms a text (1t)'] / student['CPU ms a text (1t)']:.2f}x fewer than the teacher")
    shipped = make(models["student int8 (3, shipped)"], 1)
    alone = np.stack([shipped.embed([t])[0] for t in texts[:50]])
    difference = float(np.abs(alone - vectors["student int8 (3, shipped)"][:50]).max())
    print(f"student batch independence (alone vs batched, 50 sentences): max |diff| {difference:.2e}")
    table = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in rows]
    print(json.dumps({"sentences": len(texts), "batch_max_diff": difference, "models": table}))


if __name__ == "__main__":
    main()
