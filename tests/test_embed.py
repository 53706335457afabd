"""The embedder and its cached quantised model (real onnxruntime, real model)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import numpy as np
import pytest

from claimlookup import embed

pytestmark = pytest.mark.slow


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "claimlookup"


def _build_and_embed(cache_home: str) -> list[float]:
    import os

    os.environ["XDG_CACHE_HOME"] = cache_home
    from claimlookup.embed import Embedder, cached_model

    return Embedder(cached_model()).embed(["The death toll rose to 70."])[0].tolist()


def test_unit_vectors_of_dim(cache: Path) -> None:
    vectors = embed.Embedder().embed(["Seventy people died in the attack.", "Hello", ""])
    assert vectors.shape == (3, embed.DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embed.Embedder().embed([]).shape == (0, embed.DIM)


TEXTS = ["The health ministry said 70 people were killed.", "Rebels denied the report on Sunday.",
         "Prices rose by 3 percent in March, the statistics office said in a statement."]


def test_the_teacher_is_close_to_the_packaged_model_and_batch_independent(cache: Path) -> None:
    texts = TEXTS
    quantised = embed.Embedder(embed.cached_model())
    reference = embed.Embedder(embed.source_model()).embed(texts)
    batched = quantised.embed(texts)
    assert ((batched * reference).sum(axis=1) > 0.995).all()
    alone = np.stack([quantised.embed([t])[0] for t in texts])
    assert np.array_equal(alone, batched)


def test_value_projections_stay_float(cache: Path) -> None:
    import onnx

    model = onnx.load(str(embed.cached_model()))
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("MatMulIntegerToFloat") == 30  # 36 weight MatMuls minus 6 value projections
    assert "DynamicQuantizeLinear" not in ops


def test_cached_model_is_reused(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = embed.cached_model()
    stamp = first.stat().st_mtime_ns
    monkeypatch.setattr(embed, "_derive", lambda source: pytest.fail("derived again"))
    assert embed.cached_model() == first and first.stat().st_mtime_ns == stamp
    embed.Embedder(embed.cached_model()).embed(["reuse"])
    assert list(cache.glob("*.tmp")) == []


@pytest.mark.parametrize("damage", ["truncate", "garbage", "no sidecar"])
def test_damaged_cache_is_rebuilt(cache: Path, damage: str) -> None:
    path = embed.cached_model()
    good = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "garbage":
        path.write_bytes(b"x" * 100)
    else:
        path.with_name(path.name + ".sha256").unlink()
    vectors = embed.Embedder(embed.cached_model()).embed(["Rebuilt after damage."])
    assert np.isclose(np.linalg.norm(vectors[0]), 1.0)
    assert path.read_bytes() == good  # derivation is deterministic


def test_unwritable_cache_dir_falls_back_to_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.setattr(embed.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    assert embed.cache_dir().parent == tmp_path / "tmp"


def test_concurrent_first_use_from_two_processes(cache: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        a, b = pool.map(_build_and_embed, [str(cache.parent)] * 2)
    assert np.allclose(a, b) and np.isclose(np.linalg.norm(a), 1.0)
    path = embed.cached_model()  # verified against its sidecar: not rebuilt
    assert embed._verified(path, path.with_name(path.name + ".sha256"))
    assert list(cache.glob("*.tmp")) == []


def test_gelu_and_nan_guards_simplified(cache: Path) -> None:
    """The derived graph has the six feed-forward GELUs as BiasGelu nodes and
    no NaN guard after the attention softmaxes (``embed.simplify``)."""
    import onnx

    ops = [n.op_type for n in onnx.load(str(embed.cached_model())).graph.node]
    assert ops.count("BiasGelu") == 6 and ops.count("Softmax") == 6
    assert "Erf" not in ops and "IsNaN" not in ops


def test_one_quantizelinear_per_quantised_activation(cache: Path) -> None:
    """Recipe rowq8-v3: each of the 24 quantised activations (4 a layer) is
    one QuantizeLinear with a block per row, whose scales MatMulIntegerToFloat
    applies; nothing of the older chain is left for ``upgrade_quantisation``."""
    import onnx

    model = onnx.load(str(embed.cached_model()))
    nodes = model.graph.node
    quantizers = [n for n in nodes if n.op_type == "QuantizeLinear"]
    assert len(quantizers) == 24
    scales = {n.input[1] for n in quantizers}
    assert {n.input[2] for n in nodes if n.op_type == "MatMulIntegerToFloat"} <= scales
    assert not [n for n in nodes if n.op_type == "Cast" and n.attribute[0].i == onnx.TensorProto.UINT8]
    assert embed.upgrade_quantisation(model) == 0


# --- the shipped embedder: the committed three-layer student ----------------------------------

def test_the_default_embedder_is_the_committed_student(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``Embedder()`` runs the file its card names (sha256), and derives nothing."""
    import json

    import onnx

    monkeypatch.setattr(embed, "_derive", lambda source: pytest.fail("derived the teacher"))
    monkeypatch.setattr(embed, "cached_model", lambda *a, **k: pytest.fail("asked for the teacher"))
    card = json.loads(embed.CARD_PATH.read_text())
    assert embed.verified_model(embed.MODEL_PATH, embed.CARD_PATH) == embed.MODEL_PATH
    assert card["sha256"] == embed.file_sha256(embed.MODEL_PATH) and card["layers"] == 3
    model = onnx.load(str(embed.MODEL_PATH))
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("Softmax") == 3 and ops.count("MatMulIntegerToFloat") == 15  # 18 weight MatMuls - 3 values
    assert embed.upgrade_quantisation(model) == 0  # already in the current recipe
    vectors = embed.Embedder().embed(TEXTS)
    assert np.array_equal(vectors, embed.Embedder(embed.MODEL_PATH).embed(TEXTS))
    assert list(cache.glob("*.onnx")) == []


def test_the_student_is_close_to_its_teacher_and_batch_independent(cache: Path) -> None:
    student = embed.Embedder()
    teacher = embed.Embedder(embed.cached_model()).embed(TEXTS)
    batched = student.embed(TEXTS)
    cosine = (batched * teacher).sum(axis=1)  # held out: mean 0.952, 1st percentile 0.815 (its card)
    assert cosine.mean() > 0.9 and cosine.min() > 0.8
    alone = np.stack([student.embed([t])[0] for t in TEXTS])
    assert np.array_equal(alone, batched)


def test_the_student_ranks_a_paraphrase_above_another_claim(cache: Path) -> None:
    claim, paraphrase, other = embed.Embedder().embed([
        "Seventy people were killed in the attack, the health ministry said.",
        "The ministry of health said the attack killed 70 people.",
        "The central bank raised interest rates by half a point on Tuesday."])
    assert claim @ paraphrase > 0.8 and claim @ paraphrase > claim @ other + 0.4


def test_a_damaged_student_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = bytearray(embed.MODEL_PATH.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged = tmp_path / "student.onnx"
    damaged.write_bytes(bytes(data))
    monkeypatch.setattr(embed, "MODEL_PATH", damaged)
    with pytest.raises(embed.ModelFileMismatch):
        embed.Embedder()


def test_bench_stores_are_keyed_by_the_embedder_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cached bench store holds vectors of one embedder: another embedder
    file (a candidate measured without a version bump) gets its own store."""
    import json

    from claimlookup.training.evaluation import cached_store

    source = tmp_path / "source.csv"
    source.write_text("id,text\n")
    cache = tmp_path / "stores"
    for _ in range(2):
        cached_store("bench", [source], [], cache).close()
    assert len(list(cache.glob("bench-*.db"))) == 1  # reused
    card = tmp_path / "candidate.json"
    card.write_text(json.dumps({"sha256": "0" * 64}))
    monkeypatch.setattr(embed, "CARD_PATH", card)
    cached_store("bench", [source], [], cache).close()
    assert len(list(cache.glob("bench-*.db"))) == 2


def test_a_candidate_embedder_file_is_used_and_keys_the_bench_stores(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """bench.candidate_embedder points the embedder at another file (here a
    renamed copy of the committed student, so the vectors must agree)."""
    import shutil

    from bench import candidate_embedder

    monkeypatch.setattr(embed, "MODEL_PATH", embed.MODEL_PATH)
    monkeypatch.setattr(embed, "CARD_PATH", embed.CARD_PATH)
    shipped = embed.Embedder().embed(["Shells fell on Homs at dawn."])
    candidate = tmp_path / "student.onnx"
    shutil.copyfile(embed.MODEL_PATH, candidate)
    card = candidate_embedder.use(candidate)
    assert embed.MODEL_PATH == candidate and embed.CARD_PATH == card
    assert embed.model_identity() == embed.file_sha256(candidate)
    np.testing.assert_array_equal(embed.Embedder().embed(["Shells fell on Homs at dawn."]), shipped)
    card.write_text('{"sha256": "' + "0" * 64 + '"}')
    with pytest.raises(embed.ModelFileMismatch):
        embed.Embedder().embed(["A file that is not the one its card names is refused."])


def test_a_candidate_embedder_needs_a_store_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A benchmark whose default store holds the committed embedder's vectors
    is refused without --store, before anything is loaded or patched."""
    from bench import candidate_embedder

    monkeypatch.setattr(embed, "MODEL_PATH", embed.MODEL_PATH)
    monkeypatch.setattr(embed, "CARD_PATH", embed.CARD_PATH)
    before = embed.MODEL_PATH
    assert candidate_embedder.main([str(tmp_path / "student.onnx"), "bench.news", "--split", "dev"]) == 2
    assert "--store" in capsys.readouterr().err
    assert embed.MODEL_PATH == before
