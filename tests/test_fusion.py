"""The fusion model: fitting, calibration, serialisation, and the lexical
evidence helpers (stems, coverage, term weights)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from claimlookup import fusion, lookup


def _synthetic(n: int, weights: np.ndarray, bias: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(weights)))
    p = fusion.sigmoid(x @ weights + bias)
    return x, (rng.random(n) < p).astype(float)


def test_fit_recovers_known_weights() -> None:
    true = np.array([2.0, -1.0, 0.0])
    x, y = _synthetic(40_000, true, -1.5)
    model = fusion.fit_logistic(x, y, ["a", "b", "c"], l2=0.01)
    # Weights apply to standardised features: divide by the scales to compare.
    recovered = model.weights / model.scales
    assert np.allclose(recovered, true, atol=0.08)
    assert model.bias + float(np.sum(-model.means / model.scales * model.weights)) == pytest.approx(-1.5, abs=0.08)


def test_fit_with_an_offset_learns_only_what_to_add() -> None:
    """With the true log-odds of one feature given as the offset, the fit
    recovers the other feature's weight and gives the offset's feature ~0."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(40_000, 2))
    y = (rng.random(len(x)) < fusion.sigmoid(1.5 * x[:, 0] - 0.8 * x[:, 1] - 0.5)).astype(float)
    model = fusion.fit_logistic(x, y, ["a", "b"], l2=0.01, offset=1.5 * x[:, 0])
    assert np.allclose(model.weights / model.scales, [0.0, -0.8], atol=0.08)
    without = fusion.fit_logistic(x, y, ["a", "b"], l2=0.01)
    assert (without.weights / without.scales)[0] == pytest.approx(1.5, abs=0.1)


def test_l2_penalty_shrinks_weights() -> None:
    x, y = _synthetic(2_000, np.array([1.5, 0.5]), 0.0, seed=1)
    loose = fusion.fit_logistic(x, y, ["a", "b"], l2=0.0)
    tight = fusion.fit_logistic(x, y, ["a", "b"], l2=5_000.0)
    assert np.all(np.abs(tight.weights) < np.abs(loose.weights))


def test_fitted_probabilities_are_calibrated_on_fresh_data() -> None:
    true = np.array([1.2, -0.7])
    x, y = _synthetic(30_000, true, -0.5, seed=2)
    model = fusion.fit_logistic(x, y, ["a", "b"])
    x2, y2 = _synthetic(30_000, true, -0.5, seed=3)
    for row in fusion.reliability_table(model.probabilities(x2), y2):
        if row["pairs"] > 500:
            assert row["match_rate"] == pytest.approx(row["mean_score"], abs=0.03)


def test_constant_feature_does_not_break_the_fit() -> None:
    x, y = _synthetic(1_000, np.array([1.0]), 0.0, seed=4)
    x = np.hstack([x, np.ones((len(x), 1))])
    model = fusion.fit_logistic(x, y, ["a", "const"])
    assert np.all(np.isfinite(model.weights)) and abs(model.weights[1]) < 1e-6


def test_sigmoid_is_stable_at_extremes() -> None:
    out = fusion.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    assert out.tolist() == [0.0, 0.5, 1.0]


def test_reliability_table_bins_and_closes_the_last_bin() -> None:
    p = np.array([0.05, 0.05, 0.5, 1.0])
    y = np.array([0, 1, 1, 1])
    table = fusion.reliability_table(p, y, edges=(0.0, 0.1, 0.6, 1.0))
    assert [r["pairs"] for r in table] == [2, 1, 1]
    assert table[0]["match_rate"] == 0.5 and table[2]["match_rate"] == 1.0


def test_reliability_markdown_lists_the_non_empty_bins() -> None:
    p = np.array([0.05, 0.05, 0.95, 0.95])
    y = np.array([0.0, 0.0, 1.0, 0.0])
    lines = fusion.reliability_markdown(p, y, edges=(0.0, 0.5, 0.9, 1.0)).splitlines()
    assert lines[2:] == ["| 0.0-0.5 | 2 | 0.050 | 0.0% |", "| 0.9-1.0 | 2 | 0.950 | 50.0% |"]


def test_model_round_trips_through_json() -> None:
    x, y = _synthetic(500, np.array([1.0, 2.0]), 0.3, seed=5)
    model = fusion.fit_logistic(x, y, ["a", "b"], meta={"note": "x"})
    again = fusion.FusionModel.from_json(json.loads(json.dumps(model.to_json())))
    assert np.allclose(again.probabilities(x), model.probabilities(x))
    assert again.meta == {"note": "x"}


def test_contributions_add_up_to_the_logit() -> None:
    x, y = _synthetic(500, np.array([1.0, -2.0]), 0.3, seed=6)
    model = fusion.fit_logistic(x, y, ["a", "b"])
    parts = model.contributions(x[0])
    assert sum(parts.values()) == pytest.approx(float(model.logits(x[:1])[0]), abs=1e-3)


def test_weights_with_wrong_shape_are_refused() -> None:
    with pytest.raises(fusion.FusionModelError):
        fusion.FusionModel.from_json({"features": ["a", "b"], "weights": [1.0], "bias": 0.0,
                                      "means": [0.0, 0.0], "scales": [1.0, 1.0]})


def test_checked_in_weights_match_the_lookup_features() -> None:
    models = fusion.load_fusion()
    assert models.sentence.features == lookup.SENTENCE_FEATURES
    assert models.article.features == lookup.ARTICLE_FEATURES
    assert "'train'" in models.meta["fitted_on"] and "dev" not in models.meta["fitted_on"]
    assert np.all(models.sentence.scales > 0) and np.all(models.article.scales > 0)


def test_more_evidence_never_lowers_the_checked_in_scores() -> None:
    """Sanity of the fitted signs: a closer cosine and a better article-level
    best sentence each raise the probability."""
    models = fusion.load_fusion()
    row = models.sentence.means.copy()
    better = row.copy()
    better[lookup.SENTENCE_FEATURES.index("cosine_gap")] += 0.1
    assert models.sentence.probabilities(better[None])[0] > models.sentence.probabilities(row[None])[0]
    art = models.article.means.copy()
    art_better = art.copy()
    art_better[lookup.ARTICLE_FEATURES.index("best_sentence")] += 1.0
    assert models.article.probabilities(art_better[None])[0] > models.article.probabilities(art[None])[0]


@pytest.mark.parametrize(("word", "expected"), [
    ("strikes", "strik"), ("strike", "strik"), ("killed", "kill"), ("stopped", "stop"),
    ("civilians", "civilian"), ("cities", "city"), ("virus", "virus"), ("Syria's", "syria"),
    ("raised", "rais"), ("raise", "rais"), ("20", "20"), ("al-Numan", "al-numan"),
])
def test_stem(word: str, expected: str) -> None:
    assert fusion.stem(word) == expected


def test_content_stems_drop_function_words() -> None:
    assert fusion.content_stems("The strike on the market killed 20 people") == [
        "strik", "market", "kill", "20", "peopl"]


def test_coverage_is_idf_weighted() -> None:
    query = {"rare": 3.0, "common": 1.0}
    assert fusion.coverage(query, {"rare"}) == pytest.approx(0.75)
    assert fusion.coverage(query, {"common", "other"}) == pytest.approx(0.25)
    assert fusion.coverage({}, {"x"}) == 0.0


def test_term_weights_rank_rare_stems_higher() -> None:
    docs = [{"the", "strike"}, {"the", "market"}, {"the", "strike", "idlib"}, {"the"}]
    weights = fusion.TermWeights.from_counts(docs, min_df=1)
    assert weights.idf("idlib") > weights.idf("strike") > weights.idf("the")
    assert weights.idf("never-seen") == weights.default >= weights.idf("idlib")


def test_checked_in_term_weights_load() -> None:
    weights = fusion.TermWeights.load()
    assert weights.idf("maaret") > weights.idf("syria") > 0
