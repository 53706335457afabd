"""Readers: every format, every documented field and option, and every kind of
bad record reported with its file and line while the rest is read."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest

from claimlookup.pipeline import ArticleRecord, Origin, Problem
from indexer.readers import (
    CsvLayout,
    ReadOptions,
    csv_id_prefix,
    read_inputs,
    read_path,
)

ROOT = Path(__file__).resolve().parents[1]
FAKES = ROOT / "seeds" / "fa-kes" / "FA-KES-Dataset.csv"


def split(items: list) -> tuple[list[ArticleRecord], list[Problem]]:
    records = [i for i in items if isinstance(i, ArticleRecord)]
    problems = [i for i in items if isinstance(i, Problem)]
    assert len(records) + len(problems) == len(items)
    return records, problems


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


# --- txt --------------------------------------------------------------------------------


def test_txt_is_one_record_with_the_whole_text(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "\n\nHeadline here\n\nBody sentence.\n")
    records, problems = split(list(read_path(path)))
    assert problems == []
    assert records[0].body == "\n\nHeadline here\n\nBody sentence.\n"
    assert records[0].title is None and records[0].id is None
    assert records[0].origin == Origin(str(path), 3)


def test_txt_undecodable_is_reported_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.txt", b"Title\n\nfine line\nbad \xff byte\n")
    records, problems = split(list(read_path(path)))
    assert records == []
    assert str(problems[0]).startswith(f"{path}:4: undecodable bytes")


def test_txt_empty_file_is_reported(tmp_path: Path) -> None:
    _, problems = split(list(read_path(write(tmp_path / "e.txt", " \n\n"))))
    assert problems[0].reason == "empty file" and problems[0].skipped


def test_txt_bom_is_dropped(tmp_path: Path) -> None:
    records, _ = split(list(read_path(write(tmp_path / "b.txt", "\ufeffTitle\n\nBody."))))
    assert records[0].body == "Title\n\nBody."


# --- jsonl -----------------------------------------------------------------------------


def test_jsonl_every_documented_field(tmp_path: Path) -> None:
    line = {"id": "x-1", "url": "https://example.org/a", "title": "T", "body": "B.", "source": "Outlet",
            "published": "2017-04-05", "language": "en", "unknown": 1}
    path = write(tmp_path / "a.jsonl", json.dumps(line) + "\n")
    records, problems = split(list(read_path(path)))
    assert problems == []
    record = records[0]
    assert (record.id, record.url, record.title, record.body, record.source, record.published, record.language) == \
        ("x-1", "https://example.org/a", "T", "B.", "Outlet", date(2017, 4, 5), "en")
    assert record.origin == Origin(str(path), 1)


@pytest.mark.parametrize(("published", "expected"), [
    ("2017-04-05T09:14:00Z", date(2017, 4, 5)),
    ("2017-04-05 09:14:00+02:00", date(2017, 4, 5)),
    (None, None),
    ("", None),
])
def test_jsonl_published_forms(tmp_path: Path, published: str | None, expected: date | None) -> None:
    path = write(tmp_path / "a.jsonl", json.dumps({"body": "B.", "published": published}))
    records, _ = split(list(read_path(path)))
    assert records[0].published == expected


def test_jsonl_integer_id_and_prefix(tmp_path: Path) -> None:
    path = write(tmp_path / "a.jsonl", json.dumps({"id": 42, "body": "B."}))
    assert split(list(read_path(path)))[0][0].id == "42"
    assert split(list(read_path(path, ReadOptions(id_prefix="wire"))))[0][0].id == "wire:42"


def test_jsonl_article_id_is_the_api_name_and_id_the_same_field(tmp_path: Path) -> None:
    """The API calls an article's id ``article_id``; a JSON line may use either
    name (both, equal, is fine); two different ids are a bad record, not a guess."""
    lines = [{"article_id": "a-1", "body": "B."}, {"article_id": "a-2", "id": "a-2", "body": "B."},
             {"article_id": "a-3", "id": "other", "body": "B."}, {"id": "a-4", "body": "B."}]
    path = write(tmp_path / "a.jsonl", "".join(json.dumps(line) + "\n" for line in lines))
    records, problems = split(list(read_path(path)))
    assert [r.id for r in records] == ["a-1", "a-2", "a-4"]
    assert [(p.origin.line, p.reason) for p in problems] == [
        (3, "fields 'article_id' and 'id' disagree: give one of them")]


def test_jsonl_bad_lines_are_reported_and_the_rest_is_read(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "ok-1", "body": "Good."}).encode(),
        b'{"id": "broken", "body": ',
        b"[1, 2]",
        json.dumps({"id": "no-body", "title": "T"}).encode(),
        json.dumps({"body": "B.", "published": "5 April 2017"}).encode(),
        json.dumps({"body": 12}).encode(),
        b'{"body": "caf\xe9"}',
        b"",
        json.dumps({"body": "B.", "id": ["list"]}).encode(),
        json.dumps({"id": "ok-2", "body": "Also good."}).encode(),
    ]
    path = write(tmp_path / "mixed.jsonl", b"\n".join(lines) + b"\n")
    records, problems = split(list(read_path(path)))
    assert [r.id for r in records] == ["ok-1", "ok-2"]
    assert [r.origin.line for r in records] == [1, 10]
    reasons = {p.origin.line: p.reason for p in problems}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 9]
    assert reasons[2].startswith("malformed JSON")
    assert reasons[3] == "not a JSON object"
    assert reasons[4] == "missing required field 'body'"
    assert reasons[5].startswith("bad date '5 April 2017'")
    assert reasons[6] == "field 'body' must be a string"
    assert reasons[7].startswith("undecodable bytes")
    assert reasons[9].startswith("field 'id' must be")
    assert all(p.skipped and p.origin.file == str(path) for p in problems)


# --- csv -------------------------------------------------------------------------------


def test_fakes_out_of_the_box() -> None:
    records, problems = split(list(read_path(FAKES)))
    assert problems == []
    assert len(records) == 804
    first = records[0]
    assert first.id == "fa-kes:1914947530"
    assert first.title.startswith("Syria attack symptoms consistent with nerve agent use")
    assert first.body.startswith("Wed 05 Apr 2017 Syria attack symptoms")
    assert (first.source, first.published) == ("nna", date(2017, 4, 5))
    # One row per line (no multi-line cells): row n is on line n + 1.
    assert [r.origin.line for r in records] == list(range(2, 806))
    assert sum("\ufffd" in r.body or "\ufffd" in (r.title or "") for r in records) == 53


def test_csv_id_prefix_from_stem_or_option() -> None:
    assert csv_id_prefix("seeds/fa-kes/FA-KES-Dataset.csv") == "fa-kes"
    assert csv_id_prefix("Wire Export.csv") == "wire"
    assert csv_id_prefix("news.csv") == "news"
    records, _ = split(list(read_path(FAKES, ReadOptions(id_prefix="fk"))))
    assert records[0].id == "fk:1914947530"


def test_csv_generic_column_names(tmp_path: Path) -> None:
    path = write(tmp_path / "wire.csv", "id,title,body,source,published,url\n"
                                        "7,T,Body text.,AFP,2020-01-31,https://example.org/7\n")
    records, problems = split(list(read_path(path)))
    assert problems == []
    r = records[0]
    assert (r.id, r.title, r.body, r.source, r.published, r.url) == \
        ("wire:7", "T", "Body text.", "AFP", date(2020, 1, 31), "https://example.org/7")


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_csv_delimiter_is_guessed_from_the_header(tmp_path: Path, delimiter: str) -> None:
    """Issue 10: a semicolon file failed as "1 skipped" (one column, no body)."""
    row = delimiter.join(["7", "T", "Body, with a comma.", "AFP"])
    path = write(tmp_path / "wire.csv", delimiter.join(["id", "title", "body", "source"]) + "\n" + row + "\n")
    records, problems = split(list(read_path(path)))
    assert problems == [] and (records[0].title, records[0].source) == ("T", "AFP")
    assert records[0].body == "Body, with a comma."


def test_csv_delimiter_option(tmp_path: Path) -> None:
    path = write(tmp_path / "odd.csv", "id;title;body\n1;T;A body with one; semicolon\n")
    records, _ = split(list(read_path(path, ReadOptions(csv=CsvLayout(delimiter=",")))))
    assert records == []  # one column named "id;title;body": no body column, file skipped


def test_csv_layout_options(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "Ref,Head,Text,Outlet,When,Link\n"
                                     "r1,Head 1,Body one.,Paper,31.01.2020,https://example.org/1\n")
    layout = CsvLayout(id_column="Ref", title_column="Head", body_column="Text", source_column="Outlet",
                       date_column="When", date_format="%d.%m.%Y", url_column="Link")
    records, problems = split(list(read_path(path, ReadOptions(csv=layout))))
    assert problems == []
    r = records[0]
    assert (r.id, r.title, r.body, r.source, r.published, r.url) == \
        ("x:r1", "Head 1", "Body one.", "Paper", date(2020, 1, 31), "https://example.org/1")


def test_csv_missing_required_column_skips_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "id,title\n1,T\n")
    records, problems = split(list(read_path(path)))
    assert records == []
    assert str(problems[0]).startswith(f"{path}:1: missing required body column")


def test_csv_missing_named_column(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "id,body\n1,B.\n")
    _, problems = split(list(read_path(path, ReadOptions(csv=CsvLayout(date_column="when")))))
    assert problems[0].reason.startswith("missing column 'when'")


def test_csv_bad_rows_are_reported_and_the_rest_is_read(tmp_path: Path) -> None:
    data = (b"id,title,body,date\r\n"
            b"1,One,First body.,1/2/2015\r\n"
            b"2,Two,Bad \xff byte.,1/2/2015\r\n"
            b"3,Three,\"A body\r\nover two lines.\",13/40/2015\r\n"
            b"4,Four\r\n"
            b"\r\n"
            b"5,Five,Fifth body.,2015-02-01\r\n")
    path = write(tmp_path / "rows.csv", data)
    records, problems = split(list(read_path(path)))
    assert [(r.id, r.origin.line, r.published) for r in records] == \
        [("rows:1", 2, date(2015, 1, 2)), ("rows:5", 8, date(2015, 2, 1))]
    reasons = {p.origin.line: p.reason for p in problems}
    assert reasons[3].startswith("undecodable bytes")
    assert reasons[4].startswith("bad date '13/40/2015'")
    assert reasons[6].startswith("missing value for column 'body'")


def test_csv_empty_file(tmp_path: Path) -> None:
    _, problems = split(list(read_path(write(tmp_path / "e.csv", ""))))
    assert problems[0].reason.startswith("empty CSV file")


def test_csv_empty_cells_become_none(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "id,title,body,source,date\n,,Body.,,\n")
    r = split(list(read_path(path)))[0][0]
    assert (r.id, r.title, r.source, r.published) == (None, None, None, None)


# --- folders and stdin ----------------------------------------------------------------------


def test_folder_is_read_recursively_sorted_by_extension(tmp_path: Path) -> None:
    write(tmp_path / "b.txt", "B title\n\nB body.")
    write(tmp_path / "a" / "z.jsonl", json.dumps({"body": "Z."}))
    write(tmp_path / "a" / "notes.md", "# not an article")
    write(tmp_path / "c.CSV", "body\nC.\n")
    write(tmp_path / ".hidden" / "h.txt", "Hidden\n\nbody.")
    write(tmp_path / ".x.txt", "Hidden\n\nbody.")
    records, problems = split(list(read_path(tmp_path)))
    assert [Path(r.origin.file).name for r in records] == ["z.jsonl", "b.txt", "c.CSV"]
    assert [str(p) for p in problems] == [f"{tmp_path / 'a' / 'notes.md'}: ignored: unknown extension '.md'"]
    assert not problems[0].skipped


def test_seeds_folder() -> None:
    records, problems = split(list(read_path(ROOT / "seeds")))
    assert len(records) == 5 + 804
    assert {Path(p.origin.file).name for p in problems} == {"README.md", "LICENSE.md"}
    assert not any(p.skipped for p in problems)


def test_unknown_extension_named_directly(tmp_path: Path) -> None:
    _, problems = split(list(read_path(write(tmp_path / "x.xml", "<a/>"))))
    assert problems[0].reason == "ignored: unknown extension '.xml'"


def test_format_option_overrides_extension_for_named_files(tmp_path: Path) -> None:
    path = write(tmp_path / "feed.log", json.dumps({"body": "B."}))
    records, _ = split(list(read_path(path, ReadOptions(format="jsonl"))))
    assert records[0].body == "B."


@pytest.mark.parametrize(("fmt", "data", "bodies"), [
    (None, '{"body": "One."}\n{"body": "Two."}\n', ["One.", "Two."]),
    ("jsonl", '{"body": "One."}\n', ["One."]),
    ("txt", "Title\n\nBody.\n", ["Title\n\nBody.\n"]),
    ("csv", "body\nOne.\nTwo.\n", ["One.", "Two."]),
])
def test_stdin(fmt: str | None, data: str, bodies: list[str]) -> None:
    items = list(read_inputs(["-"], ReadOptions(format=fmt), stdin=io.BytesIO(data.encode())))
    records, problems = split(items)
    assert problems == []
    assert [r.body for r in records] == bodies
    assert all(r.origin.file == "<stdin>" for r in records)


def test_inputs_are_read_in_order(tmp_path: Path) -> None:
    a = write(tmp_path / "a.jsonl", json.dumps({"body": "A."}))
    b = write(tmp_path / "b.txt", "B\n\nB body.")
    records, _ = split(list(read_inputs([str(b), "-", str(a)], stdin=io.BytesIO(b'{"body": "S."}'))))
    assert [r.origin.file for r in records] == [str(b), "<stdin>", str(a)]
