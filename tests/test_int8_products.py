"""Integer products exact on every CPU (claimlookup.int8_products): without
VNNI, onnxruntime's uint8 x int8 products saturate at 16 bits; the service
widens the weights there so every CPU gives the same model outputs."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from claimlookup import embed, int8_products
from claimlookup.relation import LABELS, PairEncoder, pad
from claimlookup.relation import MODEL_PATH as RELATION_PATH


def product_model(a_shape: tuple[int, int], w: np.ndarray, w_zero: np.ndarray | None = None,
                  readers: int = 1):
    """``readers`` MatMulIntegerToFloat nodes over one uint8 input (zero point
    128) and the constant weight ``w``, their outputs added."""
    initializers = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.array(0.5, np.float32), "a_scale"),
                    numpy_helper.from_array(np.full(w.shape[1], 2.0, np.float32), "w_scale"),
                    numpy_helper.from_array(np.array(128, np.uint8), "a_zero")]
    inputs = ["a", "w", "a_scale", "w_scale", "a_zero"]
    if w_zero is not None:
        initializers.append(numpy_helper.from_array(w_zero, "w_zero"))
        inputs.append("w_zero")
    nodes = [helper.make_node("MatMulIntegerToFloat", inputs, [f"y{k}"], domain="com.microsoft")
             for k in range(readers)]
    out = "y0"
    for k in range(1, readers):
        nodes.append(helper.make_node("Add", [out, f"y{k}"], [f"s{k}"]))
        out = f"s{k}"
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("a", TensorProto.UINT8, list(a_shape))],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, [a_shape[0], w.shape[1]])],
                              initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                   helper.make_opsetid("com.microsoft", 1)])


def exact(a: np.ndarray, w: np.ndarray, w_zero: np.ndarray | int = 0, readers: int = 1) -> np.ndarray:
    sums = (a.astype(np.int64) - 128) @ (w.astype(np.int64) - np.asarray(w_zero, np.int64))
    return (sums.astype(np.float64) * 0.5 * 2.0 * readers).astype(np.float32)


def operands(seed: int, m: int = 8, k: int = 96, n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (m, k)).astype(np.uint8), rng.integers(-128, 128, (k, n)).astype(np.int8))


def run(model, a: np.ndarray) -> np.ndarray:
    return np.asarray(embed.onnx_session(model.SerializeToString(), 1).run(None, {"a": a})[0])


def test_the_service_sessions_multiply_exactly_on_this_cpu() -> None:
    """Full-range operands overflow 16-bit pair sums on nearly every entry:
    a session as the service opens it gives the exact sums whatever the CPU."""
    a, w = operands(0)
    assert np.array_equal(run(product_model(a.shape, w), a), exact(a, w))


@pytest.mark.parametrize("readers", [1, 3])
def test_widened_weights_give_the_same_integers(readers: int) -> None:
    a, w = operands(readers)
    model = product_model(a.shape, w, readers=readers)
    assert int8_products.widen(model) == readers
    weights = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    assert "w" not in weights, "the int8 weight is dropped once no product reads it"
    widened = [name for name, value in weights.items() if value.dtype == np.uint8 and value.shape == w.shape]
    assert len(widened) == 1, "a weight read by several products is converted once"
    assert np.array_equal(weights[widened[0]].astype(np.int16) - 128, w)
    assert np.array_equal(run(model, a), exact(a, w, readers=readers))


def test_a_weight_zero_point_is_raised_with_it() -> None:
    a, w = operands(7, n=5)
    zero = np.array([0, 3, -5, 127, -128], np.int8)
    w = np.clip(w.astype(np.int16), -128 + 5, 127 - 5).astype(np.int8)
    model = product_model(a.shape, w, w_zero=zero)
    assert int8_products.widen(model) == 1
    (node,) = model.graph.node
    initializers = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    assert "w" not in initializers and "w_zero" not in initializers
    raised = initializers[node.input[5]]
    assert raised.dtype == np.uint8 and np.array_equal(raised.astype(np.int16), zero.astype(np.int16) + 128)
    assert np.array_equal(run(model, a), exact(a, w, zero))


def test_int8_activations_and_fed_weights_are_left_alone() -> None:
    """s8 x s8 products do not saturate; a weight the graph also takes as an
    input may be fed by the caller, so it keeps reading that input."""
    a, w = operands(11)
    signed = product_model(a.shape, w)
    zero = next(i for i in signed.graph.initializer if i.name == "a_zero")
    zero.CopyFrom(numpy_helper.from_array(np.array(0, np.int8), "a_zero"))
    signed.graph.input[0].type.tensor_type.elem_type = TensorProto.INT8
    assert int8_products.widen(signed) == 0

    fed = product_model(a.shape, w)
    fed.graph.input.append(helper.make_tensor_value_info("w", TensorProto.INT8, list(w.shape)))
    assert int8_products.widen(fed) == 0
    assert [i.name for i in fed.graph.initializer if i.name == "w"] == ["w"]


def test_graphs_without_int8_weights_are_left_alone() -> None:
    a = np.zeros((2, 4), np.uint8)
    model = product_model(a.shape, np.zeros((4, 3), np.uint8))  # already uint8
    before = model.SerializeToString()
    assert int8_products.widen(model) == 0
    assert model.SerializeToString() == before


def test_the_probe_tells_what_the_cpu_does() -> None:
    """``products_exact`` is what onnxruntime does with the graph unwidened."""
    a, w = int8_products._probe_operands()
    unwidened = product_model(a.shape, w)
    import onnxruntime as ort

    raw = ort.InferenceSession(unwidened.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"a": a})[0]
    assert int8_products.products_exact() == bool(np.array_equal(raw, exact(a, w)))


@pytest.mark.slow
def test_the_relation_model_gives_every_cpu_the_same_logits() -> None:
    """The relation model as the service runs it and with every weight
    widened (exact on every CPU) give the same logits: the saturating
    products moved them by up to 0.23 on a CPU without VNNI."""
    import onnx

    graph = embed.runtime_graph(RELATION_PATH)
    widened = onnx.ModelProto()
    widened.ParseFromString(graph)
    assert int8_products.widen(widened) == 30
    pairs = PairEncoder(128).encode(
        ["Russian jets struck a market in Maaret al-Numan, killing 20 people"] * 3,
        ["The White Helmets said a Russian airstrike on the market killed 20 people.",
         "Russia denied that its jets struck a market in Idlib.",
         "The football season starts in August with a derby."])
    service, reference = embed.onnx_session(graph, 1), embed.onnx_session(widened.SerializeToString(), 1)
    for pair in pairs:
        ours, theirs = service.run(None, pad([pair]))[0], reference.run(None, pad([pair]))[0]
        assert ours.shape == (1, len(LABELS))
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)
