"""bench/scale.py on a tiny prefix, end to end, so that the script cannot rot
unnoticed: FA-KES articles written in the scale file's format (gzipped JSON
lines), the real reader and ingest pipeline into a real SQLite file, a resumed
run, then the real gunicorn (one worker) on a free port with lookups and
searches over HTTP. No timing is asserted: speed lives in docs/benchmarks.md.
"""

from __future__ import annotations

import gzip
import importlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from claimlookup.pipeline import ingest
from claimlookup.store import open_store
from claimlookup.training.news import fakes_rows

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = 300


@pytest.fixture(scope="module")
def scale() -> Iterator[ModuleType]:
    """``bench.scale`` as ``python -m bench.scale`` sees it: run from the
    repository root (the bench package is not installed)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(ROOT))
        yield importlib.import_module("bench.scale")


@pytest.fixture(scope="module")
def news_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 40 FA-KES articles as the scale file has them: id, title, body, source, published."""
    path = tmp_path_factory.mktemp("scale-data") / "news.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for row in fakes_rows()[:40]:
            f.write(json.dumps({"id": f"fa-kes:{row['unit_id']}", "title": row["article_title"] or None,
                                "body": row["article_content"], "source": row["source"], "published": None}) + "\n")
    return path


def last_json(output: str) -> dict[str, Any]:
    return json.loads(output.strip().splitlines()[-1])


def test_rough_sentences_follow_the_files_rule(scale: ModuleType) -> None:
    assert scale.rough_sentences("") == 0
    assert scale.rough_sentences("One. Two! \"Three?\" 4 dogs. lower case. End") == 4
    assert scale.rough_sentences("Mr. Smith said so.") == 2  # rough: an abbreviation counts


def test_the_prefix_is_whole_articles_up_to_the_one_that_crosses_n(scale: ModuleType, news_file: Path) -> None:
    prefix = scale.read_prefix(news_file, SENTENCES)
    bodies = [row["article_content"] for row in fakes_rows()[:40]]
    counts = [scale.rough_sentences(body) for body in bodies]
    taken = prefix["articles"]
    assert sum(counts[:taken - 1]) < SENTENCES <= sum(counts[:taken]) == prefix["rough_sentences"]
    assert taken < 40  # the file holds more than the prefix
    assert scale.read_prefix(news_file, 10**9)["articles"] == 40  # past the end: the whole file


def test_index_resumes_then_serve_and_measure(scale: ModuleType, news_file: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    store_path = tmp_path / f"news-{SENTENCES}.db"
    articles = scale.read_prefix(news_file, SENTENCES)["articles"]
    # A run killed after its first 5 articles were committed leaves them in the file.
    store = open_store(f"sqlite:///{store_path}")
    store.setup()
    try:
        first = list(scale.prefix_items(news_file, SENTENCES))[:5]
        assert ingest(store, first).new == 5
    finally:
        store.close()

    args = ["--data", str(news_file), "--sentences", str(SENTENCES), "--work-dir", str(tmp_path)]
    assert scale.main([*args, "--workers", "1", "--clients", "1,2", "--lookups", "3", "--searches", "4",
                       "--repeat", "2"]) == 0
    output = capsys.readouterr().out
    assert "already in the store: 5 of the prefix's" in output
    result = last_json(output)
    index = result["index"]
    assert (index["articles_before"], index["unchanged"], index["new"]) == (5, 5, articles - 5)
    assert index["articles_after"] == articles and index["stored_sentences"] > articles
    assert set(index["stages_s"]) == {"read_clean", "spacy", "embed", "store"}
    assert result["store_size"]["db_bytes"] > 0

    serve = result["serve"]
    assert serve["errors"] == 0 and serve["ready_s"] > 0
    for kind, per_request in (("lookup", 3), ("search", 4)):
        for clients in ("1", "2"):
            figures = serve[kind][clients]
            assert figures["statuses"] == {"200": 2 * per_request}, (kind, clients, figures)
            assert len(figures["runs"]) == 2
            assert 0 < figures["p50_ms"] <= figures["p99_ms"] and figures["requests_per_s"] > 0
    memory = serve["memory_after_load"]
    assert [p["role"] for p in memory["processes"]] == ["master", "worker"]
    assert all(p["rss_mib"] > 0 and p["hwm_mib"] >= p["rss_mib"] for p in memory["processes"])
    for process in memory["processes"]:  # the server was stopped, its processes are gone
        assert not os.path.exists(f"/proc/{process['pid']}/status") or _is_zombie_or_reused(process["pid"])

    # Run again: nothing left to index.
    assert scale.main([*args, "--index-only"]) == 0
    again = last_json(capsys.readouterr().out)
    assert (again["index"]["new"], again["index"]["unchanged"], again["index"]["articles_after"]) == \
        (0, articles, articles)
    assert "serve" not in again

    # A longer prefix starts from a copy of this one and indexes only the rest.
    assert scale.main([*args[:2], "--sentences", str(SENTENCES + 100), "--work-dir", str(tmp_path),
                       "--from-store", str(store_path), "--index-only"]) == 0
    longer = last_json(capsys.readouterr().out)
    assert longer["index"]["articles_before"] == longer["index"]["unchanged"] == articles
    assert longer["index"]["new"] == longer["prefix"]["articles"] - articles > 0


def _is_zombie_or_reused(pid: int) -> bool:
    """A pid can be taken again by an unrelated process: then it is no gunicorn."""
    try:
        return "gunicorn" not in Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return True
