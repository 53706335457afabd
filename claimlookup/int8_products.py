"""Integer products that are exact on every CPU.

The int8 graphs (the embedder and the relation model, recipe rowq8 in
``claimlookup.embed``) multiply uint8 activations (zero point 128) by int8
weights in ``MatMulIntegerToFloat``. onnxruntime (MLAS) computes u8 x s8 on
x86 with ``VPDPBUSD`` where the CPU has VNNI (AVX512-VNNI or AVX-VNNI): exact
32-bit sums. Without VNNI (AVX2 or AVX-512 without VNNI: AMD Zen 1-3,
Intel before Ice Lake / Cascade Lake) it uses ``VPMADDUBSW``, which adds each
pair of products into a *saturating 16-bit* integer: 255 x 127 x 2 does not
fit, and activations far from zero meet large weights often. Measured on an
AMD EPYC (Zen 1) VM: a random u8 x s8 product had 99.9 % of its entries
wrong, the relation model's logits moved by up to 0.23 and the embedder's
cosine to the fp32 model fell from 0.9992 to 0.9980 (docs/benchmarks.md,
"Integer products on CPUs without VNNI").

``products_exact`` asks the running onnxruntime, once per process, whether
it multiplies u8 x s8 exactly on this CPU (a tiny graph whose pairs of
products overflow 16 bits). Where it does not, ``widen`` rewrites a graph's
int8 weights as uint8 with zero point 128 (``w + 128``, the same integers
after the zero point is taken off): MLAS multiplies u8 x u8 by widening to
16 bits first and never saturates, so the graph gives the sums a VNNI CPU
gives, at about the same speed on the CPU measured. Where the products are
exact the graph is left as it is.

What ``widen`` covers: ``MatMulIntegerToFloat``, ``MatMulInteger`` and
``DynamicQuantizeMatMul`` nodes of the main graph whose activation is uint8
(known from its zero point) and whose weight and zero point are initializers
the graph does not also take as inputs: every product of the committed
models. Anything else (int8 activations, which do not saturate; the QLinear
operators; nodes inside If / Loop subgraphs) is left as it is.
"""

from __future__ import annotations

import functools

import numpy as np

#: Integer-product operators with a constant weight: the weight's input
#: index, its zero point's, and the activation's zero point's (None: the
#: operator quantises its float input to uint8 itself).
_WEIGHTED = {"MatMulIntegerToFloat": (1, 5, 4), "MatMulInteger": (1, 3, 2), "DynamicQuantizeMatMul": (1, 3, None)}
_PROBE_DEPTH = 64


@functools.cache
def products_exact() -> bool:
    """Whether this onnxruntime multiplies uint8 by int8 exactly on this CPU."""
    return bool(np.array_equal(_probe(), _probe_exact()))


def _probe_exact() -> np.ndarray:
    a, w = _probe_operands()
    return ((a.astype(np.int64) - 128) @ w.astype(np.int64)).astype(np.float32)


def _probe_operands() -> tuple[np.ndarray, np.ndarray]:
    # Every pair of products 255 x 127 + 255 x 127 (or x -128) overflows 16 bits.
    a = np.full((4, _PROBE_DEPTH), 255, dtype=np.uint8)
    a[1] = 1
    a[2, ::2] = 0
    w = np.full((_PROBE_DEPTH, 4), 127, dtype=np.int8)
    w[:, 1] = -128
    w[::3, 2] = -7
    return a, w


def _probe() -> np.ndarray:
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    a, w = _probe_operands()
    initializers = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.array(1.0, np.float32), "a_scale"),
                    numpy_helper.from_array(np.ones(w.shape[1], np.float32), "w_scale"),
                    numpy_helper.from_array(np.array(128, np.uint8), "a_zero")]
    node = helper.make_node("MatMulIntegerToFloat", ["a", "w", "a_scale", "w_scale", "a_zero"], ["y"],
                            domain="com.microsoft")
    graph = helper.make_graph([node], "probe", [helper.make_tensor_value_info("a", TensorProto.UINT8, list(a.shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [a.shape[0], w.shape[1]])],
                              initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"a": a})[0])


def widen(model) -> int:
    """Rewrite, in place, each constant int8 weight of an integer product as
    uint8 with its zero point raised by 128 (128 where it had none); returns
    how many products were rewritten. The integers each product sums are
    unchanged; a weight read by several products is converted once."""
    from onnx import AttributeProto, numpy_helper

    graph = model.graph
    fed = {i.name for i in graph.input}  # initializers a caller may override
    weights = {i.name: i for i in graph.initializer if i.name not in fed}
    taken = {i.name for i in graph.initializer} | fed | {name for node in graph.node for name in node.output}
    converted: dict[tuple[str, str], tuple[str, str]] = {}
    count = 0
    for node in graph.node:
        if node.domain not in ("", "com.microsoft") or node.op_type not in _WEIGHTED:
            continue
        w_at, zero_at, activation_zero_at = _WEIGHTED[node.op_type]
        inputs = list(node.input)
        if activation_zero_at is not None:
            activation_zero = inputs[activation_zero_at] if len(inputs) > activation_zero_at else ""
            if activation_zero not in weights or numpy_helper.to_array(weights[activation_zero]).dtype != np.uint8:
                continue  # int8 (or unknown) activations: s8 x s8 does not saturate
        weight = weights.get(inputs[w_at]) if len(inputs) > w_at else None
        if weight is None or numpy_helper.to_array(weight).dtype != np.int8:
            continue
        zero_name = inputs[zero_at] if len(inputs) > zero_at else ""
        if zero_name and zero_name not in weights:
            continue  # a zero point computed at run time or fed: left as it is
        key = (inputs[w_at], zero_name)
        if key not in converted:
            values = numpy_helper.to_array(weight)
            zero = numpy_helper.to_array(weights[zero_name]) if zero_name else np.zeros((), np.int8)
            if zero.dtype != np.int8:
                continue
            names = (_fresh(taken, inputs[w_at] + "_u8"), _fresh(taken, (zero_name or inputs[w_at]) + "_zero_u8"))
            for name, array in zip(names, (values, zero), strict=True):
                graph.initializer.append(numpy_helper.from_array((array.astype(np.int16) + 128).astype(np.uint8), name))
            converted[key] = names
        inputs += [""] * (zero_at + 1 - len(inputs))
        inputs[w_at], inputs[zero_at] = converted[key]
        del node.input[:]
        node.input.extend(inputs)
        count += 1
    # The int8 originals no node reads any more (kept where a subgraph might).
    if not any(a.type in (AttributeProto.GRAPH, AttributeProto.GRAPHS) for node in graph.node for a in node.attribute):
        used = {name for node in graph.node for name in node.input}
        originals = {name for key in converted for name in key if name}
        for tensor in [i for i in graph.initializer if i.name in originals and i.name not in used]:
            graph.initializer.remove(tensor)
    return count


def _fresh(taken: set[str], name: str) -> str:
    """``name``, or ``name_k`` with the first free k; then taken."""
    candidate, k = name, 1
    while candidate in taken:
        candidate, k = f"{name}_{k}", k + 1
    taken.add(candidate)
    return candidate
