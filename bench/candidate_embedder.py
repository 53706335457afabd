"""Run a benchmark with a candidate embedder file in place of the committed one.

    .venv/bin/python -m bench.candidate_embedder FILE bench.relation \
        --data-dir ../shared/data/relation/fnc1 --split story_dev --cache-dir work/calibration/stores
    .venv/bin/python -m bench.candidate_embedder FILE bench.checkthat \
        --data-dir ../shared/data/checkthat2020 --split dev --cache-dir work/calibration/stores

For a student out of ``python -m claimlookup.training embedder --out DIR``,
measured before it is committed (docs/TEAM-NOTES.md: a new student is a change
of embedder). Points ``claimlookup.embed`` at FILE with a card naming its
sha256 (written beside it as ``FILE.card.json``), then runs the module's
``main`` with the remaining arguments. The stores of ``bench.checkthat`` and
``bench.relation`` are keyed by the embedder file's sha256
(``embed.model_identity``), so the candidate gets stores of its own in the same
``--cache-dir``. The others (``bench.news``, ``bench.lookup``, ...) default to
``data/bench-lookup.db``, whose unchanged articles are never analysed again:
they must be given a new ``--store`` path, or they would compare the claims'
candidate vectors with the committed embedder's. The fitted stages (fusion,
news, calibration) stay the committed ones unless the command refits them: a
candidate measured this way is measured with the shipped student's fits.

    .venv/bin/python -m bench.candidate_embedder FILE bench.news --split dev --store work/candidate/news.db
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from claimlookup import embed

#: Benchmarks whose stores are keyed by the embedder file (``cached_store``).
KEYED_STORES = ("bench.checkthat", "bench.relation")


def use(model: Path) -> Path:
    """Point the embedder at ``model`` (an ONNX file in the student's format);
    returns the card written beside it."""
    card = model.with_name(model.name + ".card.json")
    card.write_text(json.dumps({"sha256": embed.file_sha256(model)}) + "\n")
    embed.MODEL_PATH, embed.CARD_PATH = model, card
    embed.get_embedder.cache_clear()  # a process that already loaded the committed one loads this one next
    return card


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    module, rest = args[1], args[2:]
    if module not in KEYED_STORES and not any(a == "--store" or a.startswith("--store=") for a in rest):
        print(f"{module} reads data/bench-lookup.db unless told otherwise, whose vectors are the committed "
              "embedder's: give it a new --store FILE", file=sys.stderr)
        return 2
    use(Path(args[0]).resolve())
    return int(importlib.import_module(module).main(rest) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
