"""Running ``claimlookup-index`` in-process for tests (shared by conftest.py
and the indexer's test modules)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

from indexer import cli


@dataclass(frozen=True)
class Run:
    status: int
    out: str
    err: str


def run_cli(*args: str) -> Run:
    """``main(args)`` in-process, capturing stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(list(args))
    return Run(status, out.getvalue(), err.getvalue())
