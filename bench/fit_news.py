"""Fit the lookup's news-evidence model on the judged news claims: a wrapper
of ``python -m claimlookup.training news`` (``claimlookup.training.news``).

    .venv/bin/python -m bench.fit_news --split all [--store FILE] [--l2 1.0]
"""

from __future__ import annotations

from claimlookup.training.news import main

if __name__ == "__main__":
    raise SystemExit(main())
