"""Fixtures for the API tests: a real SQLite store filled once per session
through the real ingest pipeline (real spaCy, real embedder), copied for each
test so that writes stay hermetic, and pytest-flask ``app``/``client``
fixtures whose client checks every response against ``openapi.yaml``.

The test store holds the five seed articles (``seeds/*.txt``, no source or
date, as the indexer would read them) and three FA-KES articles about the
White Helmets from three outlets, which give the source and date filters and
facets real metadata.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from apicontract import APP_ENV, ROOT, WRITE_KEY, ContractClient, copy_store
from clirun import Run, run_cli
from flask import Flask

from api import create_app
from claimlookup.pipeline import ArticleRecord, Origin, ingest
from claimlookup.store import open_store

SEEDS = ROOT / "seeds"
FAKES_CSV = SEEDS / "fa-kes" / "FA-KES-Dataset.csv"
#: FA-KES rows in the test store (unit_id): trt, alaraby, ahram; all mention the White Helmets.
FAKES_ROWS = ("1919191767", "1923102973", "1923848146")


# --- the seeded store -------------------------------------------------------------------


def seed_records() -> list[ArticleRecord]:
    """The five seed files (title from the first line) and the FA-KES rows."""
    records = [ArticleRecord(body=path.read_text(encoding="utf-8"), id=f"seed:{path.stem[:3]}",
                             origin=Origin(str(path)))
               for path in sorted(SEEDS.glob("*.txt"))]
    with FAKES_CSV.open(encoding="utf-8", newline="") as f:
        rows = {row["unit_id"]: row for row in csv.DictReader(f) if row["unit_id"] in FAKES_ROWS}
    for unit_id in FAKES_ROWS:
        row = rows[unit_id]
        records.append(ArticleRecord(
            body=row["article_content"], title=row["article_title"], id=f"fa-kes:{unit_id}",
            source=row["source"], published=datetime.strptime(row["date"], "%m/%d/%Y").date(),
            origin=Origin(str(FAKES_CSV))))
    return records


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store filled once per session through the real pipeline."""
    path = tmp_path_factory.mktemp("seeded") / "claimlookup.db"
    store = open_store(f"sqlite:///{path}")
    store.setup()
    try:
        summary = ingest(store, seed_records())
    finally:
        store.close()
    assert summary.new == 5 + len(FAKES_ROWS) and not summary.skipped, summary.problems
    return path


@pytest.fixture(scope="session")
def default_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run]:
    """``seeds/`` (the five seeds and FA-KES) indexed by the real indexer CLI,
    as ``make run`` does, once per test session (the longest build of the
    suite): the store and what the run printed. Its readers must not change
    what it holds (an indexer run over the same input, all unchanged, is fine)."""
    db = tmp_path_factory.mktemp("default-corpus") / "claimlookup.db"
    return db, run_cli(str(SEEDS), "--store", f"sqlite:///{db}")


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No CLAIMLOOKUP_* setting of the developer's shell reaches the app under test."""
    for name in APP_ENV:
        monkeypatch.delenv(f"CLAIMLOOKUP_{name}", raising=False)
    return monkeypatch


@pytest.fixture
def make_app(seeded_db: Path, tmp_path: Path, clean_environment: pytest.MonkeyPatch
             ) -> Iterator[Callable[..., Flask]]:
    """Build an app on a private copy of the seeded store; ``make_app(API_KEY=None, ...)``
    overrides config. Every app's test client checks responses against the contract."""
    apps: list[Flask] = []
    store_url = copy_store(seeded_db, tmp_path)

    def build(**config: Any) -> Flask:
        app = create_app({"TESTING": True, "STORE_URL": store_url, "API_KEY": WRITE_KEY, "GC_FULL_EVERY": 0,
                          **config})
        app.test_client_class = ContractClient
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["claimlookup"].close()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def write_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {WRITE_KEY}"}
