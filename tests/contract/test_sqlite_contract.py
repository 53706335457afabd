"""The store contract against the embedded SQLite store (a temp file per test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from claimlookup.store.sqlite import SQLiteStore

from .suite import StoreContract


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SQLiteStore]:
        store = SQLiteStore(tmp_path / "store" / "claimlookup.db")
        store.setup()
        yield store
        store.integrity_check()  # every test leaves a consistent file behind
        store.close()
