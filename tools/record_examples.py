"""Record, and compare, the answers to the README's search, lookup and scan examples.

    .venv/bin/python -m tools.record_examples --store sqlite:///data/claimlookup.db --out now.json
    .venv/bin/python -m tools.record_examples --store ... --compare before.json

Reads every ``curl`` example of README.md that calls ``/v1/search``,
``/v1/claims/lookup``, ``/v1/claims/scan`` or ``/v1/articles/{id}/reports``,
sends it to the app (Flask's test client, in process) over the given store,
and writes each request with its status and JSON body. With ``--compare``,
prints which answers differ from an earlier recording (exit status 1 if any).
A structure-only change must leave every answer identical; a change of
scoring lists what it changed on purpose.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
PATHS = re.compile(r"/v1/(search|claims/lookup|claims/scan|articles/[^/]+/reports)\b")


def examples(readme: Path = ROOT / "README.md") -> list[dict]:
    """Each curl example of the README that the recording covers, as
    ``{"method", "path", "query", "body"}``."""
    text = readme.read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("curl "):
            continue
        words = shlex.split(line)
        url = next((w for w in words if w.startswith("http")), None)
        if url is None or not PATHS.search(url):
            continue
        parts = urlsplit(url)
        body = words[words.index("-d") + 1] if "-d" in words else None
        out.append({"method": "POST" if body is not None else "GET", "path": parts.path,
                    "query": parts.query, "body": json.loads(body) if body else None})
    return out


def record(store_url: str) -> list[dict]:
    import os

    os.environ["CLAIMLOOKUP_STORE_URL"] = store_url
    from api import create_app

    client = create_app().test_client()
    answers = []
    for ex in examples():
        target = ex["path"] + ("?" + ex["query"] if ex["query"] else "")
        response = client.post(target, json=ex["body"]) if ex["method"] == "POST" else client.get(target)
        answers.append({**ex, "status": response.status_code, "answer": response.get_json()})
    return answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, help="store URL")
    parser.add_argument("--out", type=Path, help="write the recording here")
    parser.add_argument("--compare", type=Path, help="an earlier recording to diff against")
    args = parser.parse_args(argv)
    answers = record(args.store)
    if args.out:
        args.out.write_text(json.dumps(answers, indent=1, sort_keys=True) + "\n")
        print(f"{len(answers)} answers recorded to {args.out}")
    if args.compare:
        before = {(a["method"], a["path"], a["query"], json.dumps(a["body"], sort_keys=True)): a
                  for a in json.loads(args.compare.read_text())}
        changed = 0
        for a in answers:
            key = (a["method"], a["path"], a["query"], json.dumps(a["body"], sort_keys=True))
            same = key in before and before[key]["status"] == a["status"] and before[key]["answer"] == a["answer"]
            changed += not same
            print(f"{'same   ' if same else 'CHANGED'} {a['method']} {a['path']}?{a['query']}")
        print(f"{len(answers) - changed} of {len(answers)} answers identical")
        return 1 if changed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
