"""The claim-relation model as shipped: the file, its card, what it says of
hand-written pairs, and the calibration of the report score."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from claimlookup import relation
from claimlookup.embed import file_sha256
from claimlookup.lookup import judging
from claimlookup.model import ClaimStance, Frame
from claimlookup.relation import LABELS, RelationModel, article_passage

DATA = Path(__file__).parent / "data"
MARKET = "Russian jets struck a vegetable market in Maaret al-Numan, killing 20 people"


@pytest.fixture(scope="module")
def model() -> RelationModel:
    return RelationModel()


def test_the_model_file_matches_its_card() -> None:
    card = relation.ModelCard.load()
    assert file_sha256(relation.MODEL_PATH) == card.sha256
    assert card.labels == LABELS and card.max_tokens == relation.MAX_TOKENS


def test_a_file_that_is_not_the_card_s_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "model.onnx"
    other.write_bytes(relation.MODEL_PATH.read_bytes()[:-1] + b"\0")
    with pytest.raises(relation.ModelFileMismatch):
        RelationModel(other)


def test_probabilities_are_a_distribution_per_pair(model: RelationModel) -> None:
    p = model.probabilities([MARKET, MARKET], ["Idlib market hit by jets", "Rain is expected tomorrow"])
    assert p.shape == (2, 4)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    assert model.probabilities([], []).shape == (0, 4)


def test_a_pair_scores_the_same_alone_and_in_a_batch(model: RelationModel) -> None:
    texts = ["An airstrike hit the market of Maaret al-Numan.", "The club signed a new striker.",
             "Russia denied its aircraft carried out the strike on the market, calling the reports fake."]
    together = model.probabilities([MARKET] * 3, texts)
    alone = np.vstack([model.probabilities([MARKET], [t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_pairs_spread_over_threads_score_as_in_one_thread() -> None:
    texts = ["An airstrike hit the market of Maaret al-Numan.", "The club signed a new striker.",
             "Russia denied its aircraft carried out the strike on the market, calling the reports fake.",
             "Rescuers said 20 people were killed.", "Rain is expected tomorrow in the north of the country.",
             "The ministry called the reports of a strike on Maaret al-Numan a provocation."]
    one = RelationModel(parallel=1).logits([MARKET] * len(texts), texts)
    for parallel in (2, 3):
        assert np.array_equal(RelationModel(parallel=parallel).logits([MARKET] * len(texts), texts), one)


# Hand-written (claim, sentence, expected) triples in the seeds' and FA-KES's own
# subjects, judged as the lookup judges a shown sentence: the model's
# probabilities, the sentence's frame from the real NLP, the stance rule.
KHAN = "Chemical weapons were used in an attack on Khan Sheikhoun"
TRIPLES = [
    (MARKET, "A Russian airstrike hit the crowded vegetable market in Maaret al-Numan on Monday, killing 20 "
             "civilians, rescuers said.", "supports"),
    (MARKET, "Russian jets struck a vegetable market in Maaret al-Numan on Monday, killing 20 people.", "supports"),
    (MARKET, "The White Helmets said Russian warplanes hit the market in Maaret al-Numan, killing 20 people.",
     "supports"),
    (MARKET, "Russia's defence ministry denied that its aircraft struck the market in Maaret al-Numan, calling "
             "the reports a fake.", "refutes"),
    (MARKET, "Russia denied that its jets struck the market in Maaret al-Numan.", "refutes"),
    (MARKET, "The football season in Spain starts next weekend with three new clubs.", "unrelated"),
    (KHAN, "Syria's government denied it had ever used chemical weapons and said the Khan Sheikhoun attack was "
           "fabricated.", "refutes"),
    (KHAN, "Inspectors confirmed that sarin was used in the attack on Khan Sheikhoun that killed dozens of people.",
     "supports"),
    # The first model read this as a stance (no short unrelated pairs in training): a strict xfail until
    # the second stage's random unrelated pairs (docs/relation-model.md).
    (KHAN, "Turkey's central bank raised interest rates for the third time this year.", "unrelated"),
]


@pytest.mark.parametrize(("claim", "text", "expected"), TRIPLES)
def test_hand_written_sentences(model: RelationModel, claim: str, text: str, expected: str) -> None:
    from claimlookup import nlp

    p = model.probabilities([claim], [text])[0]
    frame = nlp.analyse_text(text)[-1].stance
    claim_denies = any(s.stance is Frame.DENIES for s in nlp.analyse_claim(claim).sentences)
    stance = "unrelated" if p[0] >= 0.5 else judging.sentence_stance(p, frame, claim_denies).value
    assert stance == expected, (frame, dict(zip(LABELS, p.round(3), strict=True)))


def test_the_passage_is_the_title_and_the_two_closest_sentences_in_order() -> None:
    sentences = ["Title", "far", "close", "closest", "medium"]
    assert article_passage(sentences, [0.0, 0.1, 0.8, 0.9, 0.5]) == "Title close closest"
    assert article_passage(["Only a title"], [1.0]) == "Only a title"
    assert article_passage([], []) == ""


def test_a_denial_claim_is_supported_by_reports_of_the_denial() -> None:
    refuting = np.array([0.05, 0.05, 0.1, 0.8])
    assert judging.sentence_stance(refuting, Frame.DENIES, claim_denies=False) is ClaimStance.REFUTES
    assert judging.sentence_stance(refuting, Frame.DENIES, claim_denies=True) is ClaimStance.SUPPORTS
    assert judging.sentence_stance(refuting, Frame.ASSERTS, claim_denies=True) is ClaimStance.REFUTES


def test_a_sentence_s_stance_is_its_content_and_its_frame_says_who() -> None:
    relayed = np.array([0.05, 0.6, 0.25, 0.1])  # FNC-1's "discuss": someone says it
    assert judging.sentence_stance(relayed, Frame.ATTRIBUTES, claim_denies=False) is ClaimStance.SUPPORTS
    assert judging.sentence_stance(relayed, Frame.DENIES, claim_denies=False) is ClaimStance.REFUTES
    assert judging.sentence_stance(relayed, Frame.ASSERTS, claim_denies=False) is ClaimStance.DISCUSSES
    unrelated = np.array([0.9, 0.05, 0.03, 0.02])
    assert judging.sentence_stance(unrelated, Frame.DENIES, claim_denies=False) is ClaimStance.DISCUSSES


def test_related_log_odds_are_clipped() -> None:
    assert judging.related_logit(np.array([1.0, 0.0, 0.0, 0.0])) == -judging.LOGIT_CLIP
    assert judging.related_logit(np.array([0.5, 0.5, 0.0, 0.0])) == pytest.approx(0.0)


def test_the_shipped_calibration_is_calibrated_on_its_fixed_sample() -> None:
    """A fixed sample of held-out judged reports (features and label, saved by
    the calibration run): the shipped calibration's expected calibration error
    on it stays small, and higher scores mean more true reports."""
    calibration = judging.load_calibration()
    assert calibration is not None and calibration.features == judging.SCORE_FEATURES
    sample = json.loads((DATA / "calibration-sample.json").read_text())
    x = np.array(sample["features"])
    y = np.array(sample["related"], dtype=bool)
    p = calibration.probabilities(x)
    bins = np.minimum((p * 10).astype(int), 9)
    ece = sum(abs(p[bins == b].mean() - y[bins == b].mean()) * (bins == b).sum() for b in range(10)
              if (bins == b).any()) / len(p)
    assert ece <= 0.08, ece
    assert y[p >= 0.5].mean() > 0.5 > y[p < 0.5].mean()


def test_the_runtime_graph_is_the_committed_model_with_the_newer_quantisation() -> None:
    """The committed file's per-token quantisation (recipe rowq8-v1) is
    rewritten at load as the embedder's (one QuantizeLinear an activation,
    the row scales inside MatMulIntegerToFloat): same labels, the same
    probabilities up to rounding."""
    import onnx

    from claimlookup.embed import onnx_session

    data = relation.runtime_graph(relation.MODEL_PATH)
    nodes = onnx.load_from_string(data).graph.node
    ops = [n.op_type for n in nodes]
    assert ops.count("QuantizeLinear") == 24 and ops.count("MatMulIntegerToFloat") == 30
    uint8_casts = [n for n in nodes if n.op_type == "Cast" and n.attribute[0].i == onnx.TensorProto.UINT8]
    assert uint8_casts == [] and "rq_shift" not in {i for n in nodes for i in n.input}
    committed, runtime = onnx_session(relation.MODEL_PATH, 1), onnx_session(data, 1)
    pairs = relation.PairEncoder().encode([c for c, _, _ in TRIPLES], [t for _, t, _ in TRIPLES])
    before = np.vstack([committed.run(None, relation.pad([p]))[0] for p in pairs])
    after = np.vstack([runtime.run(None, relation.pad([p]))[0] for p in pairs])
    assert np.array_equal(before.argmax(axis=1), after.argmax(axis=1))
    np.testing.assert_allclose(relation.softmax(after), relation.softmax(before), atol=0.05)
    assert not np.array_equal(before, after)  # the rewrite did run: rounding moved the logits


class _CountingSession:
    def __init__(self, session: object) -> None:
        self.session, self.runs = session, 0

    def run(self, *args: object) -> list:
        self.runs += 1
        return self.session.run(*args)  # type: ignore[attr-defined]


def test_a_pair_scored_before_is_not_run_again() -> None:
    model = RelationModel(parallel=1)
    counting = _CountingSession(model._session)
    model._session = counting
    texts = ["An airstrike hit the market of Maaret al-Numan.", "The club signed a new striker."]
    first = model.logits([MARKET, MARKET], texts)
    assert counting.runs == 2
    rain, wind = "Rain is expected tomorrow.", "Strong winds closed the port."
    again = model.logits([MARKET] * 5, [texts[1], rain, wind, rain, texts[1]])
    assert counting.runs == 4  # the two new pairs, each once though each comes twice
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[4], first[1])
    assert np.array_equal(again[1], again[3])
    fresh = RelationModel(parallel=1).logits([MARKET, MARKET], [rain, wind])
    assert np.array_equal(again[1], fresh[0]) and np.array_equal(again[2], fresh[1])


def test_the_pair_memo_drops_the_least_recently_used() -> None:
    memo = relation.PairMemo(2)
    keys = [relation.pair_key("claim", f"passage {i}") for i in range(3)]
    rows = np.arange(12, dtype=np.float32).reshape(3, 4)
    memo.store(keys[:2], rows[:2])
    out = np.zeros((1, 4), dtype=np.float32)
    assert memo.fill([keys[0]], out) == [] and np.array_equal(out[0], rows[0])  # 0 is now the most recent
    memo.store([keys[2]], rows[2:])
    assert len(memo) == 2 and memo.fill(keys, np.zeros((3, 4), dtype=np.float32)) == [1]
    assert relation.pair_key("a", "bc") != relation.pair_key("ab", "c")


def test_the_pair_memo_can_be_turned_off_and_refuses_a_negative_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIMLOOKUP_RELATION_MEMO", "0")
    model = RelationModel(parallel=1)
    counting = _CountingSession(model._session)
    model._session = counting
    model.logits([MARKET], ["The club signed a new striker."])
    model.logits([MARKET], ["The club signed a new striker."])
    assert counting.runs == 2 and len(model._memo) == 0
    monkeypatch.setenv("CLAIMLOOKUP_RELATION_MEMO", "-1")
    with pytest.raises(ValueError, match="CLAIMLOOKUP_RELATION_MEMO"):
        RelationModel()
