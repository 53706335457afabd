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

from collections.abc import Callable, Iterator, Sequence
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


# --- one entity across spellings -------------------------------------------------------

#: Longest run of typed words tried as one entity name ("Syrian Observatory for Human Rights").
MAX_NAME_WORDS = 6
#: At most this many other spellings are added for one name.
MAX_SPELLINGS = 8
_LEADING_THE = ("the ", "The ", "THE ")


def with_spellings(query: ParsedQuery, spellings: Callable[[Sequence[str]], dict[str, list[str]]]
                   ) -> ParsedQuery:
    """``query`` with every entity name in it matching the entity's other
    spellings too: "Khan Sheikhoun" also finds "Khan Shaykhun" and "Khan
    Sheikhun", "SOHR" the Syrian Observatory for Human Rights.

    A name is a quoted phrase, or a run of up to MAX_NAME_WORDS typed words
    (each its own group, no ``OR``) whose entity key (``nlp.entity_key``:
    transliteration-aware, acronyms in capitals, aliases) the store knows
    under other spellings (``spellings``: ``Store.entity_spellings``). One
    word alone counts only when typed with a capital ("Kobani", "UN"): a
    lower-case "us" stays the word. Longest names first, left to right; a
    name becomes one group of alternatives (the typed words as a phrase and
    each spelling as a phrase); a name in an ``OR`` group gets its spellings
    added to that group. Excluded phrases and capitalised words exclude every
    spelling. No name found: ``query`` itself."""
    from claimlookup.nlp.entities import entity_key

    def key(text: str) -> str:
        return entity_key(text, "GPE")

    spans = _name_spans(query.groups)
    excluded_names = [t for t in query.excluded if t.phrase or _capitalised(t.text)]
    alternatives_named = [t for g in query.groups if len(g) > 1 for t in g if t.phrase or _capitalised(t.text)]
    keys = {key(text) for _, _, text in spans} | {key(t.text) for t in (*excluded_names, *alternatives_named)}
    if not keys:
        return query
    known = spellings(sorted(keys))

    def others(text: str) -> list[str]:
        typed = _bare(text).casefold()
        found = [_bare(s) for s in known.get(key(text), [])]
        return list(dict.fromkeys(s for s in found if s.casefold() != typed))[:MAX_SPELLINGS]

    groups: list[tuple[Term, ...]] = []
    taken: set[int] = set()
    chosen: dict[int, tuple[int, list[str], str]] = {}  # start -> (end, spellings, typed)
    for start, end, text in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):  # longest first
        if taken & set(range(start, end)):
            continue
        alternatives = others(text)
        if alternatives:
            chosen[start] = (end, alternatives, text)
            taken |= set(range(start, end))
    i = 0
    while i < len(query.groups):
        if i in chosen:
            end, alternatives, text = chosen[i]
            typed = query.groups[i] if end == i + 1 else (Term(text, phrase=True),)
            groups.append((*typed, *(Term(s, phrase=True) for s in alternatives)))
            i = end
        elif len(query.groups[i]) > 1:  # an OR group: each name in it with its spellings
            group = query.groups[i]
            added = [Term(o, phrase=True) for t in group if t in alternatives_named for o in others(t.text)]
            groups.append(tuple(dict.fromkeys((*group, *added))))
            i += 1
        else:
            groups.append(query.groups[i])
            i += 1
    excluded = list(query.excluded)
    for term in excluded_names:
        excluded += [Term(s, phrase=True) for s in others(term.text)]
    expanded = ParsedQuery(groups=tuple(groups), excluded=tuple(dict.fromkeys(excluded)))
    return query if expanded == query else expanded


def _capitalised(word: str) -> bool:
    return word[:1].isupper()


def _bare(name: str) -> str:
    """A spelling without a leading "the" (a phrase needs no article)."""
    return name[4:] if name.startswith(_LEADING_THE) else name


def _name_spans(groups: Sequence[tuple[Term, ...]]) -> list[tuple[int, int, str]]:
    """(first group, end group, text) of every possible name: each group that
    is one phrase, and each run of single-word groups up to MAX_NAME_WORDS
    long (one word only if capitalised)."""
    spans = [(i, i + 1, g[0].text) for i, g in enumerate(groups) if len(g) == 1 and g[0].phrase]
    plain = [len(g) == 1 and not g[0].phrase for g in groups]
    for start in range(len(groups)):
        for end in range(start + 1, min(start + MAX_NAME_WORDS, len(groups)) + 1):
            if not plain[end - 1]:
                break
            words = [groups[j][0].text for j in range(start, end)]
            if end - start > 1 or _capitalised(words[0]):
                spans.append((start, end, " ".join(words)))
    return spans
