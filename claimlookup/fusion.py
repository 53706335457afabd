"""Evidence fusion: a small logistic regression that turns a candidate's
features into a calibrated probability that it reports the same claim.

The weights are fixed and checked in (``claimlookup/data/fusion-weights.json``),
written by ``python -m claimlookup.training fusion`` from the CheckThat! 2020 *train* split only.
Because the model is a probability model fitted on held-apart pairs, a score
means the same thing from one query to the next: see ``docs/lookup.md`` for the
reliability table on the dev split.

Pure numpy: fitting is Newton's method (iteratively reweighted least squares)
with an L2 penalty on standardised features; the intercept is not penalised.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from claimlookup import caches

WEIGHTS_PATH = Path(__file__).parent / "data" / "fusion-weights.json"


class FusionModelError(ValueError):
    """The weights file does not match the features the lookup computes."""


@dataclass(frozen=True)
class FusionModel:
    """A fitted logistic model over named features.

    Features are standardised with the training ``means``/``scales`` before
    the dot product, so the ``weights`` are comparable with one another.
    """

    features: tuple[str, ...]
    weights: np.ndarray
    bias: float
    means: np.ndarray
    scales: np.ndarray
    meta: dict

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Log-odds for each row of ``x`` (n x len(features))."""
        z = (np.asarray(x, dtype=np.float64) - self.means) / self.scales
        return z @ self.weights + self.bias

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        return sigmoid(self.logits(x))

    def contributions(self, row: np.ndarray) -> dict[str, float]:
        """Each feature's additive share of one row's log-odds, plus the bias:
        the ``evidence`` the lookup shows with ``explain=True``."""
        z = (np.asarray(row, dtype=np.float64) - self.means) / self.scales
        parts = {name: round(float(v), 4) for name, v in zip(self.features, z * self.weights, strict=True)}
        parts["bias"] = round(float(self.bias), 4)
        return parts

    def to_json(self) -> dict:
        return {
            "features": list(self.features),
            "weights": [float(w) for w in self.weights],
            "bias": float(self.bias),
            "means": [float(m) for m in self.means],
            "scales": [float(s) for s in self.scales],
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: dict) -> FusionModel:
        features = tuple(data["features"])
        arrays = [np.asarray(data[k], dtype=np.float64) for k in ("weights", "means", "scales")]
        if any(a.shape != (len(features),) for a in arrays):
            raise FusionModelError("weights, means and scales must have one entry per feature")
        return cls(features, arrays[0], float(data["bias"]), arrays[1], arrays[2], data.get("meta", {}))


def sigmoid(z: np.ndarray) -> np.ndarray:
    # Split by sign so that neither branch overflows.
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, features: Sequence[str], l2: float = 1.0,
                 sample_weight: np.ndarray | None = None, max_iter: int = 50,
                 tol: float = 1e-8, meta: dict | None = None,
                 offset: np.ndarray | None = None) -> FusionModel:
    """Fit an L2-penalised logistic regression by Newton's method.

    ``l2`` is the penalty on the standardised weights (the intercept is not
    penalised); ``sample_weight`` lets callers balance queries; ``offset``
    is a fixed log-odds term per row (the model then fits what to *add* to
    it). Converges in a handful of iterations for a few dozen features.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(features) or len(y) != len(x):
        raise ValueError("x must be (n, len(features)) and y must have n labels")
    w_s = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    means = np.average(x, axis=0, weights=w_s)
    scales = np.sqrt(np.average((x - means) ** 2, axis=0, weights=w_s))
    scales[scales < 1e-9] = 1.0  # a constant feature gets weight ~0 through the penalty
    z = np.hstack([(x - means) / scales, np.ones((len(x), 1))])
    penalty = np.full(z.shape[1], float(l2))
    penalty[-1] = 0.0
    beta = np.zeros(z.shape[1])
    base = np.zeros(len(y)) if offset is None else np.asarray(offset, dtype=np.float64)
    def loss(b: np.ndarray) -> float:
        t = base + z @ b
        # -log-likelihood, written with logaddexp so that it never overflows
        return float(np.sum(w_s * (np.logaddexp(0.0, t) - y * t)) + 0.5 * np.sum(penalty * b * b))

    current = loss(beta)
    for _ in range(max_iter):
        p = sigmoid(base + z @ beta)
        grad = z.T @ (w_s * (p - y)) + penalty * beta
        hess = (z * (w_s * p * (1 - p))[:, None]).T @ z + np.diag(penalty) + 1e-9 * np.eye(len(beta))
        step = np.linalg.solve(hess, grad)
        # Damped Newton: halve the step until the penalised loss does not rise
        # (a full step can overshoot when the offset is large or classes separate).
        for _ in range(30):
            trial = loss(beta - step)
            if trial <= current + 1e-12:
                break
            step = step / 2
        beta -= step
        current = loss(beta)
        if np.max(np.abs(step)) < tol:
            break
    return FusionModel(tuple(features), beta[:-1], float(beta[-1]), means, scales, dict(meta or {}))


def reliability_table(p: ArrayLike, y: ArrayLike,
                      edges: Sequence[float] = (0.0, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0)) -> list[dict]:
    """Observed match rate per score bin: ``[{low, high, pairs, mean_score,
    match_rate}]``. Bins are [low, high), the last one closed."""
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    rows = []
    for i, (low, high) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        last = i == len(edges) - 2
        mask = (p >= low) & ((p <= high) if last else (p < high))
        n = int(mask.sum())
        rows.append({"low": low, "high": high, "pairs": n,
                     "mean_score": float(p[mask].mean()) if n else None,
                     "match_rate": float(y[mask].mean()) if n else None})
    return rows


def reliability_markdown(p: ArrayLike, y: ArrayLike,
                         edges: Sequence[float] = (0.0, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0)) -> str:
    """``reliability_table`` as the Markdown table the benchmarks print and
    the docs quote (empty bins left out)."""
    lines = ["| score | pairs | mean score | true matches |", "|---|---:|---:|---:|"]
    lines += [f"| {row['low']:.1f}-{row['high']:.1f} | {row['pairs']} | {row['mean_score']:.3f} "
              f"| {row['match_rate']:.1%} |" for row in reliability_table(p, y, edges) if row["pairs"]]
    return "\n".join(lines)


@dataclass(frozen=True)
class Fusion:
    """The two checked-in models: ``sentence`` scores a candidate sentence;
    ``article`` scores a candidate article from its sentences' log-odds and
    article-level evidence."""

    sentence: FusionModel
    article: FusionModel
    meta: dict

    def to_json(self) -> dict:
        return {"meta": self.meta, "sentence": self.sentence.to_json(), "article": self.article.to_json()}

    @classmethod
    def from_json(cls, data: dict) -> Fusion:
        return cls(FusionModel.from_json(data["sentence"]), FusionModel.from_json(data["article"]),
                   data.get("meta", {}))


NEWS_WEIGHTS_PATH = Path(__file__).parent / "data" / "news-weights.json"


@caches.lru(caches.NEWS_MODEL)
def load_news_model(path: str | None = None) -> FusionModel:
    """The news-evidence model (cached per path): what to add to the fitted
    log-odds for evidence CheckThat! cannot weigh; written by python -m claimlookup.training news."""
    with open(path or NEWS_WEIGHTS_PATH, encoding="utf-8") as f:
        return FusionModel.from_json(json.load(f))


@caches.lru(caches.FUSION)
def load_fusion(path: str | None = None) -> Fusion:
    """The checked-in models (cached per path)."""
    with open(path or WEIGHTS_PATH, encoding="utf-8") as f:
        return Fusion.from_json(json.load(f))


# --- lexical evidence that does not depend on the store -------------------------

#: Function words never count as evidence (they are not "key terms").
STOPWORDS = frozenset("""
a about above after again against all also am an and any are aren't as at be because been
before being below between both but by can can't cannot could couldn't did didn't do does
doesn't doing don't down during each even ever every few for from further get gets got had
hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself him
himself his how how's however i i'd i'll i'm i've if in into is isn't it it's its itself
just let's like may me might more most much must mustn't my myself new no nor not now of
off on once one only or other ought our ours ourselves out over own per rt said same say
says shan't she she'd she'll she's should shouldn't since so some still such than that
that's the their theirs them themselves then there there's these they they'd they'll
they're they've this those though through to too under until up upon us very via was
wasn't we we'd we'll we're we've were weren't what what's when when's where where's which
while who who's whom why why's will with within without won't would wouldn't yet you
you'd you'll you're you've your yours yourself yourselves
""".split())

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


@caches.lru(caches.STEM)
def stem(word: str) -> str:
    """A light suffix stripper (plurals, -ed, -ing, final -e): enough to match
    "strikes"/"strike", "killed"/"kill", "raised"/"raise" in coverage and
    highlights. Not Porter: both sides of every comparison go through it."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) <= 3 or not w.isalpha():
        return w
    for suffix, repl, min_len in (("ies", "y", 5), ("ied", "y", 5), ("sses", "ss", 5),
                                  ("ing", "", 6), ("ed", "", 5), ("s", "", 4)):
        if w.endswith(suffix) and len(w) >= min_len:
            if suffix == "s" and w[-2] in "su":  # "bus", "press", "virus"
                break
            w = w[: len(w) - len(suffix)] + repl
            if suffix in ("ing", "ed") and len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]  # "stopped" -> "stop"
            break
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]
    return w


def words(text: str) -> list[tuple[int, int, str]]:
    """Word spans ``(start, end, word)`` of ``text``."""
    return [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


def content_stems(text: str) -> list[str]:
    """Stems of the content words of ``text``, in order, with repeats."""
    return [stem(w) for _, _, w in words(text) if w.lower().replace("’", "'") not in STOPWORDS]


class TermWeights:
    """Inverse document frequencies from a fixed background corpus, so that
    the coverage feature is the same whichever store (or archive size) is
    behind the lookup. Unknown stems get ``default`` (the IDF of a stem seen
    once)."""

    PATH = Path(__file__).parent / "data" / "term-idf.json"

    def __init__(self, idf: dict[str, float], default: float) -> None:
        self._idf = idf
        self.default = default

    def idf(self, stem_: str) -> float:
        return self._idf.get(stem_, self.default)

    @classmethod
    def from_counts(cls, doc_stems: Sequence[set[str]], min_df: int = 2) -> TermWeights:
        """Smoothed IDF ``ln(1 + N / df)`` over documents given as stem sets;
        stems in fewer than ``min_df`` documents are left to the default."""
        df: dict[str, int] = {}
        for stems in doc_stems:
            for s in stems:
                df[s] = df.get(s, 0) + 1
        n = len(doc_stems)
        idf = {s: round(float(np.log1p(n / c)), 3) for s, c in df.items() if c >= min_df}
        return cls(idf, round(float(np.log1p(n / 1)), 3))

    def to_json(self) -> dict:
        return {"default": self.default, "idf": dict(sorted(self._idf.items()))}

    @classmethod
    @caches.lru(caches.TERM_WEIGHTS)
    def load(cls) -> TermWeights:
        with open(cls.PATH, encoding="utf-8") as f:
            data = json.load(f)
        return cls(data["idf"], float(data["default"]))


def coverage(query: dict[str, float], stems: AbstractSet[str]) -> float:
    """IDF-weighted share of the query's stems (``stem -> idf``) found in
    ``stems``: 1.0 when every key term of the claim occurs."""
    total = sum(query.values())
    if total <= 0:
        return 0.0
    return sum(w for s, w in query.items() if s in stems) / total
