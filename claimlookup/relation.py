"""The claim-relation model: how a passage relates to a claim.

A MiniLM cross-encoder trained here (``python -m claimlookup.training relation``,
model card ``docs/relation-model.md``) reads ``[CLS] claim [SEP] passage [SEP]``
and gives four probabilities, in :data:`LABELS` order:

- ``unrelated``: the passage does not report the claim;
- ``discusses``: it reports the claim without taking a side (relays it);
- ``supports``: it states or confirms the claim;
- ``refutes``: it denies or contradicts the claim.

It runs as an int8 ONNX model with onnxruntime and ``tokenizers`` (no torch).
The same :func:`article_passage` and :class:`PairEncoder` are used by training
and by the lookup, so the model sees at run time what it was trained on.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from claimlookup import caches, parallel
from claimlookup.embed import ModelFileMismatch, file_sha256, onnx_session, runtime_graph
from claimlookup.settings import Settings

LABELS = ("unrelated", "discusses", "supports", "refutes")
UNRELATED, DISCUSSES, SUPPORTS, REFUTES = range(4)
#: Tokens of one (claim, passage) pair, special tokens included; the longer
#: side is cut first.
MAX_TOKENS = 128
#: An article passage: its title (or first sentence) and this many more
#: sentences, those closest to the claim, in the article's order.
PASSAGE_SENTENCES = 2
DATA = Path(__file__).parent / "data"
TOKENIZER_PATH = DATA / "minilm-tokenizer.json"
MODEL_PATH = DATA / "relation-minilm-int8.onnx"
CARD_PATH = DATA / "relation-model.json"


class PairEncoder:
    """Tokenises (claim, passage) pairs as the model was trained on them."""

    def __init__(self, max_tokens: int = MAX_TOKENS) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
        self._tokenizer.enable_truncation(max_tokens, strategy="longest_first")
        self._tokenizer.no_padding()

    def encode(self, claims: Sequence[str], passages: Sequence[str]) -> list[tuple[list[int], list[int]]]:
        """Token ids and token type ids of each pair, unpadded."""
        encodings = self._tokenizer.encode_batch(list(zip(claims, passages, strict=True)))
        return [(e.ids, e.type_ids) for e in encodings]


def pad(pairs: Sequence[tuple[list[int], list[int]]]) -> dict[str, np.ndarray]:
    """Right-pad a batch of encoded pairs into the model's three inputs."""
    width = max(len(ids) for ids, _ in pairs)
    ids = np.zeros((len(pairs), width), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for row, (token_ids, type_ids) in enumerate(pairs):
        ids[row, :len(token_ids)] = token_ids
        types[row, :len(type_ids)] = type_ids
        mask[row, :len(token_ids)] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def article_passage(sentences: Sequence[str], relevance: Sequence[float] | np.ndarray,
                    extra: int = PASSAGE_SENTENCES) -> str:
    """The passage the model reads for a whole article: its first sentence
    (the title) and the ``extra`` sentences with the highest ``relevance``
    (cosine to the claim), in the article's order."""
    if not sentences:
        return ""
    scores = np.asarray(relevance, dtype=np.float32)
    rest = sorted(range(1, len(sentences)), key=lambda i: (-float(scores[i]), i))[:extra]
    return " ".join(sentences[i] for i in [0, *sorted(rest)])


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What ``relation-model.json`` says of the shipped model."""

    sha256: str
    labels: tuple[str, ...]
    max_tokens: int
    calibration: dict

    @classmethod
    def load(cls, path: Path = CARD_PATH) -> ModelCard:
        data = json.loads(path.read_text())
        return cls(sha256=data["sha256"], labels=tuple(data["labels"]),
                   max_tokens=int(data["max_tokens"]), calibration=data.get("calibration", {}))


class RelationModel:
    """Scores (claim, passage) pairs. Load once and reuse (``get_relation_model``)."""

    def __init__(self, model_path: Path = MODEL_PATH, card: ModelCard | None = None,
                 threads: int | None = None, verify: bool = True, parallel: int | None = None) -> None:
        self.card = card or ModelCard.load()
        if verify and file_sha256(model_path) != self.card.sha256:
            raise ModelFileMismatch(f"{model_path} does not match the sha256 in its card")
        if tuple(self.card.labels) != LABELS:
            raise ModelFileMismatch(f"model labels {self.card.labels} are not {LABELS}")
        settings = Settings.from_env()
        threads = threads or settings.embed_threads
        self._session = onnx_session(runtime_graph(model_path), threads)
        self._encoder = PairEncoder(self.card.max_tokens)
        #: Runs of one call spread over this many threads (``relation_threads``).
        self.parallel = max(1, parallel if parallel is not None else settings.relation_threads)
        if settings.relation_memo < 0:
            raise ValueError(f"{Settings.variable('relation_memo')}: must be 0 or more, not {settings.relation_memo}")
        self._memo = PairMemo(settings.relation_memo)

    def logits(self, claims: Sequence[str], passages: Sequence[str], batch_size: int = 1) -> np.ndarray:
        """Raw (n, 4) logits. One pair per run by default: with per-token
        quantisation, padding costs more than batching saves (93-token
        passages on one core: 12.3 ms each alone, 18.6 ms in batches of 16).
        The runs of one call, longest first, are shared by ``parallel``
        threads (``claimlookup.parallel``: the caller and idle helpers), so
        one request uses the cores other requests leave idle; the results are
        the same. A pair scored before by any request of this process (the
        last ``relation_memo`` pairs, ``caches.RELATION_PAIRS``) is not run
        again: a pair's logits do not depend on what else is scored with it."""
        out = np.zeros((len(claims), len(LABELS)), dtype=np.float32)
        if not len(claims):
            return out
        keys = [pair_key(claim, passage) for claim, passage in zip(claims, passages, strict=True)]
        missing = self._memo.fill(keys, out)
        if not missing:
            return out
        first = list({keys[i]: i for i in reversed(missing)}.values())  # one run a distinct pair
        pairs = self._encoder.encode([claims[i] for i in first], [passages[i] for i in first])
        scored = np.zeros((len(first), len(LABELS)), dtype=np.float32)
        order = sorted(range(len(pairs)), key=lambda i: -len(pairs[i][0]))
        runs = [order[begin:begin + batch_size] for begin in range(0, len(order), batch_size)]

        def run(idx: list[int]) -> None:
            scored[idx] = self._session.run(None, pad([pairs[i] for i in idx]))[0]

        parallel.shared(runs, run, self.parallel, caches.RELATION_HELPERS)
        self._memo.store([keys[i] for i in first], scored)
        row = {keys[i]: k for k, i in enumerate(first)}
        for i in missing:
            out[i] = scored[row[keys[i]]]
        return out

    def probabilities(self, claims: Sequence[str], passages: Sequence[str]) -> np.ndarray:
        """(n, 4) probabilities in :data:`LABELS` order."""
        return softmax(self.logits(claims, passages))


def pair_key(claim: str, passage: str) -> bytes:
    """A 128-bit digest of a (claim, passage) pair (the claim's length first,
    so no split of the same characters gives the same key): the memo's key."""
    head = claim.encode("utf-8", "surrogatepass")
    data = len(head).to_bytes(8, "little") + head + passage.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).digest()


class PairMemo:
    """Logits of pairs already scored, by ``pair_key``, the least recently
    used dropped first beyond ``bound`` pairs (~180 bytes a pair); shared by
    the threads of one process."""

    def __init__(self, bound: int) -> None:
        self.bound = bound
        self._rows: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._rows)

    def fill(self, keys: Sequence[bytes], out: np.ndarray) -> list[int]:
        """Write the rows of known pairs into ``out``; the indices of the others."""
        missing = []
        with self._lock:
            for i, key in enumerate(keys):
                row = self._rows.get(key)
                if row is None:
                    missing.append(i)
                else:
                    self._rows.move_to_end(key)
                    out[i] = np.frombuffer(row, dtype=np.float32)
        return missing

    def store(self, keys: Sequence[bytes], rows: np.ndarray) -> None:
        if self.bound <= 0:
            return
        with self._lock:
            for key, row in zip(keys, rows, strict=True):
                self._rows[key] = row.astype(np.float32).tobytes()
                self._rows.move_to_end(key)
            while len(self._rows) > self.bound:
                self._rows.popitem(last=False)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)
