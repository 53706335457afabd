"""Run a benchmark with a candidate embedder file in place of the committed one.

    .venv/bin/python -m bench.candidate_embedder FILE bench.relation \
        --data-dir ../shared/data/relation/fnc1 --split story_dev --cache-dir work/calibration/stores
    .venv/bin/python -m bench.candidate_embedder FILE bench.checkthat \
        --data-dir ../shared/data/checkthat2020 --split dev --cache-dir work/calibration/stores

For a student out of ``python -m claimlookup.training embedder --out DIR``,
measured before it is committed (docs/TEAM-NOTES.md: a new student is a change
of embedder). Points ``claimlookup.embed`` at FILE with a card naming its
sha256 (written beside it as ``FILE.card.json``), then runs the module's
``main`` with the remaining arguments. The bench stores are keyed by the
embedder file's sha256 (``embed.model_identity``), so the candidate gets stores
of its own in the same ``--cache-dir``. The fitted stages (fusion, news,
calibration) stay the committed ones unless the command refits them: a
candidate measured this way is measured with the shipped student's fits.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from claimlookup import embed


def use(model: Path) -> Path:
    """Point the embedder at ``model`` (an ONNX file in the student's format);
    returns the card written beside it."""
    card = model.with_name(model.name + ".card.json")
    card.write_text(json.dumps({"sha256": embed.file_sha256(model)}) + "\n")
    embed.MODEL_PATH, embed.CARD_PATH = model, card
    return card


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    use(Path(args[0]).resolve())
    return int(importlib.import_module(args[1]).main(args[2:]) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
