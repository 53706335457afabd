"""Fit the lookup's fusion model and its term weights: a wrapper of
``python -m claimlookup.training fusion`` (``claimlookup.training.fusion``).

    .venv/bin/python -m bench.fit_fusion --data-dir ../shared/data/checkthat2020 --cache-dir /tmp/ct-cache
"""

from __future__ import annotations

import sys

from claimlookup.training.fusion import main

if __name__ == "__main__":
    sys.exit(main())
