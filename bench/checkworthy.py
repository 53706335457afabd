"""Precision and recall of the scan's check-worthy sentence choice on the
labelled page sentences (``tests/data/scan-sentences.jsonl``), with the
page's boilerplate cleaned (as a scan does) and without (the rule alone).

    .venv/bin/python -m bench.checkworthy

Prints one table row per variant and the chosen / labelled counts per kind
of sentence; the last line is JSON. The evaluation is the product's
(``claimlookup.training.checkworthy``); this script only prints.
"""

from __future__ import annotations

import json

from claimlookup.training.checkworthy import evaluate, load_labelled


def main() -> None:
    pages = load_labelled()
    labelled = sum(len(p.sentences) for p in pages)
    worthy = sum(s.worthy for p in pages for s in p.sentences)
    print(f"{labelled} labelled sentences on {len(pages)} pages, {worthy} check-worthy")
    results = {"cleaned": evaluate(pages, clean=True).as_dict(), "rule alone": evaluate(pages, clean=False).as_dict()}
    print("| variant | precision | recall | F1 | TP | FP | FN |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} "
              f"| {r['tp']} | {r['fp']} | {r['fn']} |")
    for name, r in results.items():
        print(f"{name}: chosen / labelled by kind: {r['chosen_by_kind']}")
    print(json.dumps({"sentences": labelled, "pages": len(pages), "worthy": worthy, **results}))


if __name__ == "__main__":
    main()
