"""Refresh the response examples of the claim endpoints in openapi.yaml from real responses.

    .venv/bin/python -m tools.openapi_examples --store sqlite:///data/claimlookup.db

Sends the request examples of ``POST /v1/claims/lookup`` and ``POST
/v1/claims/scan`` (raw text) from openapi.yaml to the real app over the given
store (the default run's: ``make index``), and writes each response, as
returned, as the ``example`` of the ``LookupFound`` and ``ScanFound``
responses. Only those two blocks of the file change; the rest is left as
written. Run it after a change to scoring, then review the diff.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi.yaml"


def response_block(text: str, name: str) -> tuple[int, int]:
    """(start, end) offsets of the ``example:`` block of response ``name``."""
    head = re.search(rf"^    {name}:\n", text, re.MULTILINE)
    if head is None:
        raise SystemExit(f"no response {name} in {SPEC}")
    start = text.index("          example:\n", head.end())
    following = re.compile(r"^ {0,10}\S", re.MULTILINE).search(text, start + len("          example:\n"))
    return start, following.start() if following else len(text)


def as_block(example: object) -> str:
    body = yaml.safe_dump(example, sort_keys=True, allow_unicode=True, width=110)
    return "          example:\n" + "".join("            " + line + "\n" for line in body.splitlines())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, help="store URL (the default run's)")
    args = parser.parse_args(argv)
    os.environ["CLAIMLOOKUP_STORE_URL"] = args.store
    from api import create_app

    text = SPEC.read_text(encoding="utf-8")
    spec = yaml.safe_load(text)
    lookup_request = spec["paths"]["/v1/claims/lookup"]["post"]["requestBody"]["content"]["application/json"]["example"]
    scan_request = (spec["paths"]["/v1/claims/scan"]["post"]["requestBody"]["content"]["application/json"]
                    ["examples"]["text"]["value"])
    client = create_app().test_client()
    for name, path, payload in (("LookupFound", "/v1/claims/lookup", lookup_request),
                                ("ScanFound", "/v1/claims/scan", scan_request)):
        response = client.post(path, json=payload)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code} {response.get_data(as_text=True)}")
        start, end = response_block(text, name)
        text = text[:start] + as_block(response.get_json()) + text[end:]
        print(f"{name}: example from POST {path} {payload}")
    SPEC.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
