"""Readers: turn files, folders and stdin into ``ArticleRecord``s.

Every record carries its origin (file, line). A record that cannot be read
(undecodable bytes, malformed JSON, a missing required field or column, a bad
date) becomes a ``Problem`` with its origin instead; the reader goes on with
the next record. Readers yield both, in input order, lazily.

Formats (``docs/indexer.md`` has the full reference):

``.txt``    one article per file, UTF-8; the title is the first non-empty line
            that is not boilerplate (``claimlookup.clean``); the id is a hash
            of title and body.
``.jsonl``  one JSON object per line: ``body`` (required), ``article_id``
            (or ``id``, the same field), ``url``,
            ``title``, ``source``, ``published`` (ISO date or datetime),
            ``language``. Other fields are ignored.
``.csv``    a header row, one article per row. FA-KES columns out of the box
            (``unit_id`` -> id, ``article_title`` -> title, ``article_content``
            -> body, ``source``, ``date`` as M/D/YYYY -> published); other
            layouts through ``CsvLayout``. Ids from the id column are
            namespaced: ``{prefix}:{value}``.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from claimlookup.pipeline import ArticleRecord, Origin, Problem

FORMATS = ("jsonl", "txt", "csv")
EXTENSIONS = {".txt": "txt", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
STDIN = "-"
STDIN_NAME = "<stdin>"
JSONL_FIELDS = ("article_id", "id", "url", "title", "body", "source", "published", "language")
#: Words dropped from the end of a CSV file's stem when it names the id prefix:
#: "FA-KES-Dataset.csv" -> "fa-kes".
_GENERIC_STEM_WORDS = ("dataset", "data", "export", "dump", "corpus")
_CSV_FIELD_LIMIT = 10_000_000

Item = ArticleRecord | Problem


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """Which CSV column holds what. ``None`` means: the first of the usual
    names present in the header (FA-KES names first, then generic ones)."""

    id_column: str | None = None
    title_column: str | None = None
    body_column: str | None = None
    source_column: str | None = None
    date_column: str | None = None
    url_column: str | None = None
    date_format: str | None = None  # strptime format; None: ISO or M/D/YYYY
    delimiter: str | None = None  # None: the most frequent of , ; TAB | in the header row


#: Column names tried, in order, when a layout option is not given.
CSV_DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("unit_id", "article_id", "id"),
    "title": ("article_title", "title", "headline"),
    "body": ("article_content", "body", "text", "content"),
    "source": ("source",),
    "date": ("date", "published"),
    "url": ("url", "link"),
}


@dataclass(frozen=True, slots=True)
class ReadOptions:
    csv: CsvLayout = field(default_factory=CsvLayout)
    id_prefix: str | None = None  # None: CSV ids use the file's stem, JSONL ids are kept as they are
    format: str | None = None  # stdin's format (default jsonl) and files' format regardless of extension


class InputError(Exception):
    """A path that does not exist or cannot be opened (a usage error)."""


def read_inputs(paths: Sequence[str], options: ReadOptions = ReadOptions(),
                stdin: BinaryIO | None = None) -> Iterator[Item]:
    """Records and problems from every path in turn (``-`` is stdin)."""
    for path in paths:
        if path == STDIN:
            yield from read_stream(stdin or sys.stdin.buffer, STDIN_NAME, options.format or "jsonl", options)
        else:
            yield from read_path(Path(path), options)


def check_paths(paths: Iterable[str]) -> None:
    """Raise InputError for a path that does not exist (before any work)."""
    for path in paths:
        if path != STDIN and not Path(path).exists():
            raise InputError(f"{path}: no such file or directory")


def read_path(path: Path, options: ReadOptions = ReadOptions()) -> Iterator[Item]:
    """A file by its extension (or ``options.format``), or a folder recursively."""
    if path.is_dir():
        yield from _read_folder(path, options)
        return
    fmt = options.format or EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        yield Problem(Origin(str(path)), f"ignored: unknown extension {path.suffix or '(none)'!r}", skipped=False)
        return
    try:
        with path.open("rb") as stream:
            yield from read_stream(stream, str(path), fmt, options)
    except OSError as e:
        yield Problem(Origin(str(path)), f"cannot read: {e.strerror or e}")


def read_stream(stream: BinaryIO, name: str, fmt: str, options: ReadOptions = ReadOptions()) -> Iterator[Item]:
    if fmt == "txt":
        yield from read_txt(stream.read(), name)
    elif fmt == "jsonl":
        yield from read_jsonl(stream, name, options.id_prefix)
    elif fmt == "csv":
        yield from read_csv(stream, name, options.csv, options.id_prefix)
    else:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


def count_records(paths: Sequence[str], options: ReadOptions = ReadOptions()) -> int | None:
    """How many records (and problems) the paths will yield, for a progress
    bar; None when stdin is among them."""
    if STDIN in paths:
        return None
    return sum(1 for _ in read_inputs(paths, options))


def _read_folder(folder: Path, options: ReadOptions) -> Iterator[Item]:
    """Files under ``folder``, sorted, recursively; hidden files and folders skipped."""
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if path.suffix.lower() not in EXTENSIONS:
            yield Problem(Origin(str(path)), f"ignored: unknown extension {path.suffix or '(none)'!r}", skipped=False)
            continue
        yield from read_path(path, replace(options, format=None))


# --- txt -------------------------------------------------------------------------------


def read_txt(data: bytes, name: str) -> Iterator[Item]:
    """One article: the whole text (the pipeline takes the title from it)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        yield Problem(Origin(name, line), "undecodable bytes (not UTF-8): file skipped")
        return
    if not text.strip():
        yield Problem(Origin(name, 1), "empty file")
        return
    first = next(i for i, line in enumerate(text.splitlines(), start=1) if line.strip())
    yield ArticleRecord(body=text, origin=Origin(name, first))


# --- jsonl -----------------------------------------------------------------------------


def read_jsonl(stream: Iterable[bytes], name: str, id_prefix: str | None = None) -> Iterator[Item]:
    """One record per non-blank line; a bad line is reported and skipped."""
    for number, raw in enumerate(stream, start=1):
        origin = Origin(name, number)
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            yield Problem(origin, "undecodable bytes (not UTF-8)")
            continue
        if line.strip():
            yield _jsonl_record(line, origin, id_prefix)


def _jsonl_record(line: str, origin: Origin, id_prefix: str | None) -> Item:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as e:
        return Problem(origin, f"malformed JSON: {e.msg} (column {e.colno})")
    if not isinstance(value, dict):
        return Problem(origin, "not a JSON object")
    try:
        return jsonl_to_record(value, origin, id_prefix)
    except ValueError as e:
        return Problem(origin, str(e))


def jsonl_to_record(value: dict[str, Any], origin: Origin, id_prefix: str | None = None) -> ArticleRecord:
    """An ``ArticleRecord`` from one JSON object; ValueError names the bad field."""
    if "body" not in value or value["body"] is None:
        raise ValueError("missing required field 'body'")
    fields = {key: _string_field(value, key) for key in ("body", "title", "url", "source", "language")}
    key = "article_id" if "article_id" in value else "id"
    if key == "article_id" and "id" in value and value["id"] != value["article_id"]:
        raise ValueError("fields 'article_id' and 'id' disagree: give one of them")
    raw_id = value.get(key)
    if raw_id is not None and (isinstance(raw_id, bool) or not isinstance(raw_id, (str, int))):
        raise ValueError(f"field {key!r} must be a string or an integer")
    explicit_id = _prefixed(id_prefix, str(raw_id)) if raw_id not in (None, "") else None
    published = _iso_date(value.get("published"))
    return ArticleRecord(body=fields["body"] or "", title=fields["title"], id=explicit_id, url=fields["url"],
                         source=fields["source"], published=published,
                         language=fields["language"] or "en", origin=origin)


def _string_field(value: dict[str, Any], key: str) -> str | None:
    item = value.get(key)
    if item is not None and not isinstance(item, str):
        raise ValueError(f"field {key!r} must be a string")
    return item


def _iso_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError("field 'published' must be an ISO date string")
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        raise ValueError(f"bad date {value!r} in 'published' (expected YYYY-MM-DD or an ISO datetime)") from None


# --- csv -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Columns:
    id: str | None
    title: str | None
    body: str
    source: str | None
    date: str | None
    url: str | None


#: Delimiters recognised in a header row, in order of preference on a tie.
CSV_DELIMITERS = (",", ";", "\t", "|")


def csv_delimiter(header_line: str) -> str:
    """The delimiter of a CSV file, guessed from its header row: the most
    frequent of CSV_DELIMITERS (a semicolon file, common from European
    spreadsheets, read as one column before)."""
    return max(CSV_DELIMITERS, key=lambda d: (header_line.count(d), -CSV_DELIMITERS.index(d)))


def read_csv(stream: Iterable[bytes], name: str, layout: CsvLayout = CsvLayout(),
             id_prefix: str | None = None) -> Iterator[Item]:
    """One record per row after the header. Undecodable lines are reported
    with their line number; the rows that contain them are skipped."""
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    bad_lines: set[int] = set()
    lines = _decoded_lines(stream, bad_lines)
    first = next(lines, None)
    if first is None:
        yield Problem(Origin(name, 1), "empty CSV file (no header row)")
        return
    rows = csv.reader(itertools.chain([first], lines), delimiter=layout.delimiter or csv_delimiter(first))
    try:
        header = next(rows)
    except StopIteration:
        yield Problem(Origin(name, 1), "empty CSV file (no header row)")
        return
    try:
        columns = _resolve_columns(header, layout)
    except ValueError as e:
        yield Problem(Origin(name, 1), f"{e}: file skipped")
        return
    prefix = id_prefix if id_prefix is not None else csv_id_prefix(name)
    yield from _csv_rows(rows, header, columns, layout, prefix, name, bad_lines)


def _csv_rows(rows: Any, header: list[str], columns: _Columns, layout: CsvLayout, prefix: str, name: str,
              bad_lines: set[int]) -> Iterator[Item]:
    end = rows.line_num
    while True:
        start = end + 1
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as e:
            end = rows.line_num
            yield Problem(Origin(name, start), f"malformed CSV row: {e}")
            continue
        end = rows.line_num
        if not any(cell.strip() for cell in row):
            continue
        origin = Origin(name, start)
        if bad_lines.intersection(range(start, end + 1)):
            yield Problem(Origin(name, min(bad_lines.intersection(range(start, end + 1)))),
                          "undecodable bytes (not UTF-8): row skipped")
            continue
        # A row may have fewer or more cells than the header: extra cells are dropped.
        yield _csv_record(dict(zip(header, row, strict=False)), columns, layout, prefix, origin)


def _decoded_lines(stream: Iterable[bytes], bad_lines: set[int]) -> Iterator[str]:
    """Decode line by line so one bad byte costs one row, not the file."""
    for number, raw in enumerate(stream, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            bad_lines.add(number)
            yield raw.decode("utf-8", errors="replace")


def _resolve_columns(header: list[str], layout: CsvLayout) -> _Columns:
    chosen: dict[str, str | None] = {}
    for key, default_names in CSV_DEFAULT_COLUMNS.items():
        given = getattr(layout, f"{key}_column")
        if given is not None and given not in header:
            raise ValueError(f"missing column {given!r} (columns: {', '.join(header)})")
        chosen[key] = given if given is not None else next((n for n in default_names if n in header), None)
    body = chosen["body"]
    if body is None:
        raise ValueError(f"missing required body column, one of {', '.join(CSV_DEFAULT_COLUMNS['body'])} "
                         f"(columns: {', '.join(header)}; see --csv-body-column)")
    return _Columns(id=chosen["id"], title=chosen["title"], body=body, source=chosen["source"],
                    date=chosen["date"], url=chosen["url"])


def _csv_record(row: dict[str, str], columns: _Columns, layout: CsvLayout, prefix: str, origin: Origin) -> Item:
    def cell(column: str | None) -> str | None:
        value = row.get(column) if column else None
        return value.strip() or None if value else None

    if columns.body not in row:
        return Problem(origin, f"missing value for column {columns.body!r} (row too short)")
    try:
        published = _csv_date(cell(columns.date), layout.date_format)
    except ValueError as e:
        return Problem(origin, str(e))
    raw_id = cell(columns.id)
    return ArticleRecord(body=row[columns.body], title=cell(columns.title),
                         id=_prefixed(prefix, raw_id) if raw_id else None, url=cell(columns.url),
                         source=cell(columns.source), published=published, origin=origin)


def _csv_date(value: str | None, fmt: str | None) -> date | None:
    if value is None:
        return None
    formats = [fmt] if fmt else ["%Y-%m-%d", "%m/%d/%Y"]
    for candidate in formats:
        try:
            return datetime.strptime(value, candidate).date()
        except ValueError:
            continue
    if not fmt and _looks_iso_datetime(value):
        return datetime.fromisoformat(value).date()
    expected = fmt or "YYYY-MM-DD or M/D/YYYY"
    raise ValueError(f"bad date {value!r} (expected {expected}; see --csv-date-format)")


def _looks_iso_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def csv_id_prefix(name: str) -> str:
    """The id namespace of a CSV file: its stem, lower-cased, with a final
    generic word dropped: ``FA-KES-Dataset.csv`` -> ``fa-kes``."""
    stem = re.sub(r"[^a-z0-9]+", "-", Path(name).stem.lower()).strip("-")
    for word in _GENERIC_STEM_WORDS:
        if stem.endswith("-" + word):
            return stem[: -len(word) - 1]
    return stem or "csv"


def _prefixed(prefix: str | None, value: str) -> str:
    return f"{prefix}:{value}" if prefix else value
