"""The search syntax: turn what a user types into a ``ParsedQuery``.

Syntax (case-insensitive matching; the ``OR`` keyword itself is upper case)::

    sarin attack          both words (every term must match)
    "chemical weapons"    an exact phrase
    -russia  -"air strike" exclude a word or a phrase
    aleppo OR idlib army  (aleppo or idlib) and army

Rules that keep it forgiving:

* an unbalanced quote runs to the end of the query;
* a dangling ``OR`` (first, last, doubled, or next to an exclusion) is ignored;
  lower-case ``or`` is an ordinary word;
* terms with no letter or digit (``*``, ``-``, ``:``) are dropped, since the
  index could never match them;
* an empty query is the empty ``ParsedQuery`` (list everything).

Errors (``InvalidQuery``): longer than ``MAX_QUERY_CHARS``, more than
``MAX_TERMS`` terms, only exclusions, or something typed but nothing
searchable in it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from claimlookup.model import ParsedQuery, Term

MAX_QUERY_CHARS = 1000
MAX_TERMS = 32
OR_KEYWORD = "OR"


class InvalidQuery(ValueError):
    """The query text breaks the syntax limits; the message says how."""


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    phrase: bool = False
    excluded: bool = False
    is_or: bool = False


def parse_query(text: str | None) -> ParsedQuery:
    """Parse search text into groups of alternatives plus exclusions."""
    text = _clean(text or "")
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidQuery(f"query is {len(text)} characters long; at most {MAX_QUERY_CHARS} are allowed")
    if not text.strip():
        return ParsedQuery()
    tokens = [t for t in _tokenize(text) if t.is_or or _searchable(t.text)]
    groups, excluded = _group(tokens)
    count = sum(len(g) for g in groups) + len(excluded)
    if count > MAX_TERMS:
        raise InvalidQuery(f"query has {count} terms; at most {MAX_TERMS} are allowed")
    if not groups and excluded:
        raise InvalidQuery("query has only exclusions; add at least one word or phrase to search for")
    if not groups:
        raise InvalidQuery("query has no words to search for (only punctuation or operators)")
    return ParsedQuery(groups=tuple(tuple(g) for g in groups), excluded=tuple(excluded))


def _clean(text: str) -> str:
    """Control characters (including NUL) become spaces; lone surrogates
    (possible from JSON ``\\ud800``) become U+FFFD so the text encodes."""
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return "".join(" " if (ord(ch) < 32 or ord(ch) == 127) else ch for ch in text)


def _searchable(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _tokenize(text: str) -> Iterator[_Token]:
    """Split into words, phrases, exclusions and OR keywords."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        excluded = ch == "-" and i + 1 < n and not text[i + 1].isspace()
        if excluded:
            i += 1
        if text[i] == '"':
            end = text.find('"', i + 1)
            end = n if end == -1 else end
            yield _Token(" ".join(text[i + 1:end].split()), phrase=True, excluded=excluded)
            i = end + 1
            continue
        end = i
        while end < n and not text[end].isspace() and text[end] != '"':
            end += 1
        word = text[i:end]
        yield _Token(word, is_or=(word == OR_KEYWORD and not excluded), excluded=excluded)
        i = end


def _group(tokens: list[_Token]) -> tuple[list[list[Term]], list[Term]]:
    """Fold ``a OR b`` into one group; an OR joins two included terms only."""
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    join_next = False
    previous_included = False
    for token in tokens:
        if token.is_or:
            join_next = previous_included
            continue
        term = Term(token.text, phrase=token.phrase)
        if token.excluded:
            excluded.append(term)
            previous_included = join_next = False
            continue
        if join_next:
            groups[-1].append(term)
        else:
            groups.append([term])
        previous_included, join_next = True, False
    return groups, excluded
