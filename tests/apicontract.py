"""The contract check used by every API test: each response the test client
receives is validated against ``openapi.yaml`` with openapi-core.

(A helper module rather than conftest code, so tests can import it.)
"""

from __future__ import annotations

import json
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask.testing import FlaskClient
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound, ServerNotFound
from openapi_schema_validator import OAS30Validator

from api import SPEC_PATH

ROOT = Path(__file__).resolve().parent.parent
WRITE_KEY = "test-write-key-0123456789"
READ_KEY = "test-read-key-0123456789"
PROBLEM = "application/problem+json"
#: Environment variables the app reads; cleared so a developer's shell cannot change the tests.
APP_ENV = ("STORE_URL", "API_KEY", "READ_API_KEY", "CORS_ORIGINS", "MAX_PAGE_SIZE", "MAX_QUERY_LENGTH",
           "MAX_QUERY_STRING", "MAX_CONTENT_LENGTH", "MAX_BATCH_ARTICLES", "RETRY_AFTER")


def copy_store(seeded_db: Path, target_dir: Path) -> str:
    """Copy the seeded database (and any WAL) into ``target_dir``; its store URL."""
    for file in seeded_db.parent.glob(seeded_db.name + "*"):
        shutil.copy2(file, target_dir / file.name)
    return f"sqlite:///{target_dir / seeded_db.name}"


@cache
def spec_dict() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


@cache
def openapi() -> OpenAPI:
    # openapi-core reads only application/json as JSON (errors are application/problem+json),
    # no YAML, and only text/plain and text/html as text (the docs assets are text too).
    as_text = _decode_text
    config = Config(extra_media_type_deserializers={
        "application/problem+json": json.loads, "application/yaml": yaml.safe_load,
        "text/javascript": as_text, "text/css": as_text})
    return OpenAPI.from_file_path(str(SPEC_PATH), config=config)


def _decode_text(data: bytes | str) -> str:
    return data.decode("utf-8") if isinstance(data, bytes) else data


def problem_validator() -> OAS30Validator:
    return OAS30Validator(spec_dict()["components"]["schemas"]["Problem"])


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    problem_validator().validate(body)
    assert body["status"] == status
    text = response.get_data(as_text=True)
    assert "<html" not in text.lower() and "Traceback" not in text
    return body


class _SentRequest(WerkzeugOpenAPIRequest):
    """The request as openapi-core needs it to find the operation: the path
    as sent (still percent-encoded, so an id like ``https%3A%2F%2F...`` stays
    one segment, as the contract says to send it). The body stream was
    consumed by the app; response validation does not need it."""

    @property
    def path(self) -> str:
        raw = self.request.environ.get("RAW_URI")
        return self.request.root_path + raw.split("?", 1)[0] if raw else super().path

    @property
    def body(self) -> bytes | None:
        return None


def check_against_contract(response: Any) -> None:
    """Validate a test-client response against openapi.yaml (status, headers,
    media type, body). A request the spec does not describe (unknown path or
    method) must get a problem document; an OPTIONS request an empty 204."""
    request = response.request
    try:
        openapi().validate_response(_SentRequest(request), WerkzeugOpenAPIResponse(response))
    # With '/' itself a documented path, openapi-core reports an undocumented one as ServerNotFound.
    except (PathNotFound, OperationNotFound, ServerNotFound):
        if request.method == "OPTIONS":
            assert response.status_code in (204, 404), response.status_code
            if response.status_code == 204:
                assert response.data == b"" and "Content-Type" not in response.headers
                return
        assert response.status_code in (404, 405), (request.method, request.path, response.status_code)
        assert response.mimetype == "application/problem+json"
        problem_validator().validate(response.get_json())


class ContractClient(FlaskClient):
    """A test client that validates every response against the contract."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        response.get_data()  # buffer streamed bodies (static files) and release their file
        response.close()
        check_against_contract(response)
        return response
