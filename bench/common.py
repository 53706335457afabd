"""What several benchmark scripts share, so that no script imports another.

The data, stores, metrics and fitting live in the product
(``claimlookup.training``); this module re-exports what the scripts use:

* The seeds + FA-KES bench store (``bench.lookup``, ``bench.news``,
  ``bench.news_pool``): ``ensure_store``, the FA-KES rows, the hand-judged
  news claims (``claimlookup.training.news``).
* CheckThat! 2020 task 2 (``bench.checkthat``): the data, its store, the
  ranking metrics, the lookup's candidate sets, and the fusion fitting and
  scoring (``claimlookup.training.fusion``).

Run the scripts as modules from the repository root, with the project
installed (``make install``): ``.venv/bin/python -m bench.checkthat ...``.
"""

from __future__ import annotations

from claimlookup.training.fusion import (  # noqa: F401
    CLAIMS_FILE,
    L2,
    QRELS_FILE,
    QUERIES_FILE,
    CandidateSets,
    Split,
    article_labels,
    build_store,
    claim_records,
    collect,
    fit_models,
    metrics,
    rankings,
    read_split,
    scored,
    sentence_labels,
    tsv_rows,
)
from claimlookup.training.news import (  # noqa: F401
    DEFAULT_STORE,
    FAKES,
    JUDGEMENTS,
    ROOT,
    ensure_store,
    fakes_rows,
    load_judgements,
    records,
)
