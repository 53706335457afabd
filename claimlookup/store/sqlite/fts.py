"""FTS5 text: the only way user text reaches a MATCH expression, and the
highlight markers that become ``<mark>`` tags in snippets.

User text reaches FTS5 only through ``fts_expression`` (every term a quoted
string, see ``fts_phrase``) and only as a bound parameter. Highlights are
bracketed by private-use markers, HTML-escaped, then marked up; stored text
has those markers replaced (``unmarked``) so it can never fake a tag.
"""

from __future__ import annotations

import html

from claimlookup.model import ParsedQuery

#: Private-use characters that bracket matches in highlight()/snippet() output
#: before HTML escaping; they become <mark> and </mark> afterwards.
MARK_START, MARK_END = "\ue000", "\ue001"
_MARKER_TO_REPLACEMENT = {ord(MARK_START): "\ufffd", ord(MARK_END): "\ufffd"}
SNIPPET_TOKENS = 32


def fts_phrase(text: str) -> str:
    """``text`` as one FTS5 string literal: whatever it contains (quotes,
    ``*``, ``NEAR(``, ``AND``, ``:``), FTS5 reads it as words to match in
    sequence, never as syntax. (NUL would end the string early: it becomes
    a space, which separates tokens anyway.)"""
    return '"' + text.replace('"', '""').replace("\x00", " ") + '"'


def fts_expression(query: ParsedQuery) -> str | None:
    """The FTS5 MATCH expression for ``query`` (None if it has no groups):
    groups ANDed, terms within a group ORed, exclusions NOT-ed."""
    groups = ["(" + " OR ".join(fts_phrase(t.text) for t in group) + ")" for group in query.groups if group]
    if not groups:
        return None
    expression = " AND ".join(groups)
    if query.excluded:
        expression = f"({expression}) NOT ({fts_exclusion(query)})"
    return expression


def fts_exclusion(query: ParsedQuery) -> str:
    """The excluded terms as one FTS5 OR expression."""
    return " OR ".join(fts_phrase(t.text) for t in query.excluded)


def unmarked(text: str) -> str:
    """``text`` with the highlight markers replaced by U+FFFD (same length,
    so offsets hold): stored text can never fake a <mark> tag."""
    return text.translate(_MARKER_TO_REPLACEMENT)


def markup(marked: str) -> str:
    """HTML-escape highlighter output, then turn the markers into <mark> tags."""
    return html.escape(marked).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def snippet_sql(fts: str) -> str:
    """Marked text of a page's hits in the FTS table ``fts``: (rowid, marked)
    for the rowids in a JSON list. Sentences are highlighted whole; articles
    get a snippet of ``SNIPPET_TOKENS`` tokens from their best column."""
    marker = f"'{MARK_START}', '{MARK_END}'"
    if fts == "sentences_fts":
        function = f"highlight(sentences_fts, 0, {marker})"
    else:
        function = f"snippet(articles_fts, -1, {marker}, '…', {SNIPPET_TOKENS})"
    return (f"SELECT rowid, {function} AS marked FROM {fts} "
            f"WHERE {fts} MATCH ? AND rowid IN (SELECT value FROM json_each(?))")
