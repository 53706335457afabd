"""``claimlookup-index``: index articles from files, folders or stdin.

Reading is ``indexer.readers``; everything after (ids, cleaning, spaCy,
embeddings, the store) is ``claimlookup.pipeline``. This module parses
arguments, shows progress, prints problems and the summary, and maps the
outcome to an exit status.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from time import monotonic, sleep
from typing import Protocol, TextIO, runtime_checkable

from claimlookup.pipeline import IngestSummary, Problem, ingest
from claimlookup.settings import DEFAULT_STORE_URL, Settings
from claimlookup.store import ArticleNotFound, Store, StoreError, open_store
from indexer.readers import FORMATS, CsvLayout, InputError, ReadOptions, check_paths, count_records, read_inputs

EXIT_OK, EXIT_FATAL, EXIT_USAGE, EXIT_SKIPPED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

DESCRIPTION = """\
Index news articles into the claimlookup store: read them, strip boilerplate,
split sentences and find entities, figures and stance (spaCy), embed titles
and sentences, and write them. Articles whose content is unchanged since the
last run are skipped before any analysis, so re-running is cheap."""

EPILOG = f"""\
inputs:
  PATH is a file or a folder (read recursively, sorted; hidden files skipped;
  files of other extensions ignored with a note). "-" reads stdin (--format,
  default jsonl).
  .txt     one article per file (UTF-8); title = first non-empty line that is
           not boilerplate
  .jsonl   one JSON object per line (also .ndjson). Fields:
             body       (required) the article text
             title      headline; without it the first line of body is the title
             id         the source's own id (string or integer), kept as given
                        (or "PREFIX:id" with --id-prefix)
             url        http(s) URL; the id when there is no id
             source     outlet name
             published  ISO date (2017-04-05) or datetime (2017-04-05T09:14:00Z)
             language   "en" (default; English only)
           other fields are ignored
  .csv     a header row, then one article per row. FA-KES columns out of the
           box: unit_id -> id, article_title -> title, article_content -> body,
           source, date (M/D/YYYY) -> published. Generic names work too
           (id, title, body/text/content, source, date/published, url/link).
           Ids from the id column are namespaced "PREFIX:value", PREFIX being
           --id-prefix or the file's stem lower-cased, a final "-dataset"/
           "-data"/"-export"/"-dump"/"-corpus" dropped (FA-KES-Dataset.csv ->
           fa-kes:1914947530).

approximate vector index (SQLite):
  from 200,000 stored vectors the SQLite store answers vector queries from an
  HNSW index in a file beside the database (<store>.ann), shared by every
  server process through the page cache, instead of a float32 copy of every
  vector in each. Every run (and --reindex) ends by building it when it is
  missing or more than a tenth behind; --vector-index builds it now. Until
  it is there, or when it is damaged or stale, search is exact.

leftovers (Elasticsearch):
  a write that crashed leaves sentences no reader shows but that take kNN
  slots. A run on Elasticsearch (not --reindex) notes them when it starts and
  removes those still uncommitted when it ends, after a grace for writes in
  flight (5 write timeouts, 300 s by default; no wait when none were found).
  --sweep does only that. The SQLite store writes each article in one
  transaction: nothing to sweep.

ids:
  the source's id (namespaced as above), else the URL, else "h:" + a hash of
  the cleaned title and body (the same text always gets the same id).
  Writing an id again replaces the stored article; unchanged content is
  skipped. Within one run, a repeated id is indexed once (the first) and
  every repeat is reported with its location: it is a note, not an error.

exit status:
  0  everything indexed (duplicates and ignored files are only notes)
  1  fatal: the store is unavailable or corrupt, or --delete found no such id
  2  usage error (bad option, missing path, bad store URL)
  3  some records were skipped (reported as PATH:LINE: REASON)
  130 interrupted (Ctrl-C or SIGTERM); articles written so far are kept

environment:
  CLAIMLOOKUP_STORE_URL      default store ({DEFAULT_STORE_URL})
  CLAIMLOOKUP_EMBED_THREADS  onnxruntime threads for embeddings (default {Settings().embed_threads})

See docs/indexer.md for the boilerplate rules and the full reference."""


def build_parser(settings: Settings | None = None) -> argparse.ArgumentParser:
    """The parser; ``settings`` (default: from the environment) give the default store."""
    settings = settings or Settings.from_env()
    parser = argparse.ArgumentParser(prog="claimlookup-index", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", metavar="PATH", help="file, folder or - (stdin)")
    parser.add_argument("--store", metavar="URL", default=settings.store_url,
                        help="store URL: sqlite:///relative.db, sqlite:////absolute.db or http(s)://host:9200 "
                             "(default: $CLAIMLOOKUP_STORE_URL or %(default)s)")
    parser.add_argument("--format", choices=FORMATS,
                        help="format of stdin (default jsonl) and of the files named, whatever their extension")
    parser.add_argument("--id-prefix", metavar="PREFIX",
                        help="namespace for ids from a CSV id column or a JSONL id field: PREFIX:id")
    _add_csv_options(parser)
    parser.add_argument("--processes", type=_positive_int, metavar="N",
                        help="spaCy processes (default: 2 when at least 200 articles need analysis and "
                             "2 cores exist, else 1)")
    parser.add_argument("--reindex", action="store_true",
                        help="index the inputs into a fresh index and swap it in atomically when done: "
                             "articles not in the inputs disappear; on failure the old index stays")
    parser.add_argument("--delete", nargs="+", metavar="ID", help="delete these articles (no PATH allowed)")
    parser.add_argument("--vector-index", action="store_true",
                        help="build the SQLite store's approximate vector index now (no PATH; see below)")
    parser.add_argument("--sweep", action="store_true",
                        help="remove the leftover sentences of crashed writes (Elasticsearch; waits a grace for "
                             "writes in flight; no PATH allowed)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="list every article written (new or updated) with its id and where it was read")
    parser.add_argument("--quiet", "-q", action="store_true",
                        help="no progress bar, notes or summary; skipped records and errors are still printed")
    return parser


def _add_csv_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("csv layout", "which column holds what (defaults: FA-KES, then generic names)")
    for key, default in (("id", "unit_id"), ("title", "article_title"), ("body", "article_content"),
                         ("source", "source"), ("date", "date"), ("url", "url")):
        group.add_argument(f"--csv-{key}-column", metavar="NAME", help=f"{key} column (default {default})")
    group.add_argument("--csv-delimiter", metavar="CHAR", type=_delimiter,
                       help="field delimiter: one character, or 'tab' (default: guessed from the header row "
                            "among , ; tab |)")
    group.add_argument("--csv-date-format", metavar="FMT",
                       help="strptime format of the date column, e.g. %%d.%%m.%%Y (default: YYYY-MM-DD or M/D/YYYY)")


def _delimiter(value: str) -> str:
    value = "\t" if value.lower() == "tab" else value
    if len(value) != 1:
        raise argparse.ArgumentTypeError("a delimiter is one character (or 'tab')")
    return value


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = Settings.from_env()
    except ValueError as e:
        print(f"claimlookup-index: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    parser = build_parser(settings)
    args = parser.parse_args(argv)
    try:
        _check_usage(args, parser)
        store = open_store(args.store)
    except (InputError, ValueError) as e:
        parser.print_usage(sys.stderr)
        print(f"claimlookup-index: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if args.sweep:
            return _sweep(store, quiet=args.quiet)
        if args.vector_index:
            return _vector_index(store)
        return _delete(store, args.delete) if args.delete else _index(store, args)
    except (StoreError, OSError) as e:
        print(f"claimlookup-index: store error: {e}", file=sys.stderr)
        return EXIT_FATAL
    except KeyboardInterrupt:
        print("claimlookup-index: interrupted (articles written so far are kept)", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
        store.close()


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends the run like Ctrl-C: generators close, spaCy's worker
    processes are stopped, finished articles stay written."""
    raise KeyboardInterrupt


def _check_usage(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if args.delete and (args.paths or args.reindex):
        raise InputError("--delete takes ids only: no PATH and no --reindex")
    if args.sweep and (args.paths or args.reindex or args.delete):
        raise InputError("--sweep takes no PATH, --reindex or --delete")
    if args.vector_index and (args.paths or args.reindex or args.delete or args.sweep):
        raise InputError("--vector-index takes no PATH, --reindex, --delete or --sweep")
    if not args.delete and not args.paths and not args.sweep and not args.vector_index:
        raise InputError("nothing to do: give a PATH (or - for stdin), --delete ID, --sweep or --vector-index")
    if args.paths.count("-") > 1:
        raise InputError("stdin (-) can be read only once")
    check_paths(args.paths)


def _delete(store: Store, ids: Sequence[str]) -> int:
    store.setup()
    status = EXIT_OK
    for article_id in ids:
        try:
            store.delete_article(article_id)
            print(f"deleted {article_id}")
        except ArticleNotFound:
            print(f"claimlookup-index: no article with id {article_id!r}", file=sys.stderr)
            status = EXIT_FATAL
    return status


@runtime_checkable
class Sweepable(Protocol):
    """The Elasticsearch store's leftover sweep (``ElasticStore``), in two
    phases; not part of the Store protocol: the SQLite store has nothing to sweep."""

    @property
    def sweep_grace(self) -> float: ...

    def leftover_generations(self) -> dict[str, set[str]]: ...

    def remove_generations(self, found: Mapping[str, Iterable[str]]) -> int: ...


def _sweep(store: Store, *, quiet: bool) -> int:
    """``--sweep``: find the leftover generations, wait the grace, remove those still uncommitted."""
    if not isinstance(store, Sweepable):
        print("nothing to sweep: the SQLite store writes each article in one transaction, so no write leaves "
              "leftovers")
        return EXIT_OK
    found = store.leftover_generations()
    removed = _remove_leftovers(store, found, monotonic(), quiet=quiet)
    print(f"removed {removed} leftover sentence{'' if removed == 1 else 's'}")
    return EXIT_OK


def _remove_leftovers(store: Sweepable, found: Mapping[str, set[str]], found_at: float, *, quiet: bool) -> int:
    """Wait out what is left of the grace since ``found_at`` (a write in flight
    then may commit), then delete the generations of ``found`` still
    uncommitted. Nothing found: no wait, no request."""
    if not found:
        return 0
    wait = store.sweep_grace - (monotonic() - found_at)
    if wait > 0:
        if not quiet:
            generations = sum(len(hashes) for hashes in found.values())
            print(f"leftovers: {generations} uncommitted generation(s) of {len(found)} article(s); waiting "
                  f"{wait:.0f} s for writes in flight to commit before removing them", file=sys.stderr)
        sleep(wait)
    return store.remove_generations(found)


@runtime_checkable
class VectorIndexed(Protocol):
    """A store with an approximate vector index to keep up (``SQLiteStore``);
    not part of the Store protocol: Elasticsearch maintains its own HNSW."""

    index_build_threads: int

    def refresh_vector_index(self, *, force: bool = False) -> _Refresh: ...


class _Refresh(Protocol):
    @property
    def action(self) -> str: ...

    def describe(self) -> str: ...


def _vector_index(store: Store) -> int:
    """``--vector-index``: build the index now (below its size: remove it)."""
    if not isinstance(store, VectorIndexed):
        print("nothing to build: Elasticsearch keeps its own vector index")
        return EXIT_OK
    store.setup()
    store.index_build_threads = os.cpu_count() or 1
    print(f"vector index: {store.refresh_vector_index(force=True).describe()}")
    return EXIT_OK


def _refresh_vector_index(store: Store, *, quiet: bool) -> None:
    """After a run: build the index if it is missing or stale (a failure is a
    warning: the articles are written, and search is exact meanwhile)."""
    if not isinstance(store, VectorIndexed):
        return
    try:
        refresh = store.refresh_vector_index()
    except (StoreError, OSError) as e:
        print(f"claimlookup-index: warning: could not build the vector index (run claimlookup-index "
              f"--vector-index later; search is exact meanwhile): {e}", file=sys.stderr)
        return
    if not quiet and refresh.action != "none":
        print(f"vector index: {refresh.describe()}")


def _index(store: Store, args: argparse.Namespace) -> int:
    options = _read_options(args)
    store.setup()
    if isinstance(store, VectorIndexed):  # the index is built at the end, after spaCy's processes are gone
        store.index_build_threads = os.cpu_count() or 1
    # Elasticsearch: note the leftovers of crashed writes now, remove them at the end (a rebuild leaves none).
    sweeper = store if isinstance(store, Sweepable) and not args.reindex else None
    found = _leftovers_at_start(sweeper) if sweeper is not None else {}
    found_at = monotonic()
    show_progress = not args.quiet and sys.stderr.isatty()
    total = count_records(args.paths, options) if show_progress else None
    with _progress(show_progress, total) as on_progress:
        if args.reindex:
            with store.rebuild() as fresh:
                summary = ingest(fresh, read_inputs(args.paths, options), n_process=args.processes,
                                 on_progress=on_progress)
        else:
            summary = ingest(store, read_inputs(args.paths, options), n_process=args.processes,
                             on_progress=on_progress)
    print_problems(summary.problems, sys.stderr, notes=not args.quiet)
    if not args.quiet:
        print_summary(summary, sys.stdout, reindexed=args.reindex, verbose=args.verbose)
    if sweeper is not None and found:
        _leftovers_at_end(sweeper, found, found_at, quiet=args.quiet)
    _refresh_vector_index(store, quiet=args.quiet)
    return EXIT_SKIPPED if summary.skipped else EXIT_OK


def _leftovers_at_start(store: Sweepable) -> dict[str, set[str]]:
    """The sweep's first phase before indexing; a failure only skips the sweep."""
    try:
        return store.leftover_generations()
    except StoreError as e:
        print(f"claimlookup-index: warning: could not look for leftovers of crashed writes: {e}", file=sys.stderr)
        return {}


def _leftovers_at_end(store: Sweepable, found: Mapping[str, set[str]], found_at: float, *, quiet: bool) -> None:
    """The sweep's second phase after indexing; a failure is a warning (the articles are written)."""
    try:
        removed = _remove_leftovers(store, found, found_at, quiet=quiet)
    except StoreError as e:
        print(f"claimlookup-index: warning: could not remove leftovers of crashed writes (run "
              f"claimlookup-index --sweep later): {e}", file=sys.stderr)
        return
    if not quiet:
        print(f"leftovers: removed {removed} sentence{'' if removed == 1 else 's'} of crashed writes")


def _read_options(args: argparse.Namespace) -> ReadOptions:
    layout = CsvLayout(id_column=args.csv_id_column, title_column=args.csv_title_column,
                       body_column=args.csv_body_column, source_column=args.csv_source_column,
                       date_column=args.csv_date_column, url_column=args.csv_url_column,
                       date_format=args.csv_date_format, delimiter=args.csv_delimiter)
    return ReadOptions(csv=layout, id_prefix=args.id_prefix, format=args.format)


@contextmanager
def _progress(enabled: bool, total: int | None) -> Iterator[Callable[[int], object]]:
    """A tqdm bar's ``update`` (or a no-op) for the pipeline's progress callback."""
    if not enabled:
        yield lambda n: None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="article", file=sys.stderr, dynamic_ncols=True) as bar:
        yield bar.update


def print_problems(problems: Sequence[Problem], out: TextIO, *, notes: bool = True) -> None:
    """``path:line: reason``, one per line; notes only if ``notes``."""
    for problem in problems:
        if problem.skipped or notes:
            print(f"{problem}{'' if problem.skipped else ' (note)'}", file=out)


#: Without --verbose, the summary names the articles written when there are at most this many.
SUMMARY_IDS = 10


def print_summary(summary: IngestSummary, out: TextIO, *, reindexed: bool = False, verbose: bool = False) -> None:
    """The counts and stage times; the ids written: each on its own line with
    its status and origin (``verbose``), else in one line when there are at
    most SUMMARY_IDS (a curl user sees the id a file got), else a hint."""
    stages = summary.stages
    written = summary.new + summary.updated
    if verbose:
        for article_id, status, origin in summary.written:
            print(f"{status} {article_id} ({origin})", file=out)
        if written > len(summary.written):
            print(f"... and {written - len(summary.written)} more (not kept)", file=out)
    lines = [
        f"{'reindexed' if reindexed else 'indexed'}: {summary.new} new, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {summary.skipped} skipped, {summary.duplicates} duplicate articles",
        f"written: {summary.sentences} sentences (titles included), {summary.entities} entities",
        f"time: {summary.seconds:.1f} s (read+clean {stages.read_clean:.1f} s, spaCy {stages.spacy:.1f} s "
        f"with {summary.processes} process{'es' if summary.processes > 1 else ''}, embed {stages.embed:.1f} s, "
        f"store {stages.store:.1f} s)",
    ]
    if not verbose and 0 < written <= SUMMARY_IDS:
        lines.append("ids: " + ", ".join(f"{i} ({status})" for i, status, _ in summary.written))
    elif not verbose and written:
        lines.append("ids: --verbose lists the ids written")
    print("\n".join(lines), file=out)


if __name__ == "__main__":
    sys.exit(main())
