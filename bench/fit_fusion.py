"""Fit the lookup's fusion model and its term weights; report calibration.

    .venv/bin/python bench/fit_fusion.py --data-dir ../shared/data/checkthat2020 --cache-dir /tmp/ct-cache

Steps:

1. ``claimlookup/data/term-idf.json``: IDF of content stems over a fixed
   background corpus: the CheckThat! verified claims (claim + title, no
   queries, no labels) and the FA-KES articles in ``seeds/fa-kes``. The
   lookup's coverage features use it, so they do not depend on the store.
2. Index the verified claims (bench/checkthat.py's store, cached), run every
   *train* query through the lookup's candidate generation and feature code
   (``claimlookup.lookup.candidate_sets``), label each candidate sentence 1 if
   its article is a relevant claim of the query, and fit the L2 logistic
   regression (``claimlookup.fusion.fit_logistic``). Weights go to
   ``claimlookup/data/fusion-weights.json``.
3. Score the *dev* split with the new weights and print the reliability
   table (sentence level and article level) that docs/lookup.md quotes.

Only the train split is fitted on; dev is only reported.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from checkthat import CLAIMS_FILE, _tsv_rows, build_store, read_split  # noqa: E402

from claimlookup import fusion, lookup  # noqa: E402
from claimlookup.model import Filters  # noqa: E402

FAKES = ROOT / "seeds" / "fa-kes" / "FA-KES-Dataset.csv"
L2 = 1.0


def background_documents(data_dir: Path) -> list[str]:
    docs = [f"{row[2]} {row[1]}" for row in _tsv_rows(data_dir / CLAIMS_FILE) if len(row) >= 3]
    with open(FAKES, encoding="utf-8", errors="replace", newline="") as f:
        docs += [f"{r['article_title']} {r['article_content']}" for r in csv.DictReader(f)]
    return docs


def write_term_weights(data_dir: Path) -> fusion.TermWeights:
    docs = background_documents(data_dir)
    weights = fusion.TermWeights.from_counts([set(fusion.content_stems(d)) for d in docs])
    data = weights.to_json() | {"documents": len(docs),
                                "corpus": "CheckThat! 2020 verified claims (claim + title) and FA-KES articles"}
    fusion.TermWeights.PATH.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n",
                                       encoding="utf-8")
    fusion.TermWeights.load.cache_clear()
    print(f"term weights: {len(data['idf'])} stems from {len(docs)} documents -> {fusion.TermWeights.PATH}")
    return weights
