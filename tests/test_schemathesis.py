"""Property-based contract test: schemathesis generates requests for every
operation of ``openapi.yaml`` and sends them to the real app (in-process
WSGI, real SQLite store seeded through the real pipeline). No response may
be a 5xx, and every status code, content type and body must be documented.

Writes run with the API key, so POST and DELETE are exercised for real (on a
private copy of the seeded store). Bounded to a few examples per operation
so the whole module stays well under three minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from apicontract import APP_ENV, WRITE_KEY, copy_store
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import SPEC_PATH, create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_path(SPEC_PATH)


@pytest.fixture(scope="module")
def fuzzed_app(seeded_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app for the whole run, on its own copy of the seeded store."""
    with pytest.MonkeyPatch.context() as env:
        for name in APP_ENV:
            env.delenv(f"CLAIMLOOKUP_{name}", raising=False)
        app = create_app({"TESTING": True, "API_KEY": WRITE_KEY, "GC_FULL_EVERY": 0,
                          "STORE_URL": copy_store(seeded_db, tmp_path_factory.mktemp("fuzz"))})
    yield app
    app.extensions["claimlookup"].close()


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
def test_api_conforms_to_its_contract(case, fuzzed_app: Flask) -> None:
    case.call_and_validate(app=fuzzed_app, headers={"Authorization": f"Bearer {WRITE_KEY}"}, checks=CHECKS)
