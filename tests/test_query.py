"""The search syntax parser, table-tested."""

from __future__ import annotations

import pytest

from claimlookup.model import ParsedQuery, Term
from claimlookup.query import MAX_QUERY_CHARS, MAX_TERMS, InvalidQuery, parse_query, with_spellings


def w(text: str) -> Term:
    return Term(text)


def p(text: str) -> Term:
    return Term(text, phrase=True)


def q(*groups: tuple[Term, ...] | Term, excluded: tuple[Term, ...] = ()) -> ParsedQuery:
    return ParsedQuery(tuple(g if isinstance(g, tuple) else (g,) for g in groups), excluded)


@pytest.mark.parametrize(("text", "expected"), [
    ("", ParsedQuery()),
    ("   \t\n", ParsedQuery()),
    (None, ParsedQuery()),
    ("sarin", q(w("sarin"))),
    ("sarin attack", q(w("sarin"), w("attack"))),
    ("  sarin   attack  ", q(w("sarin"), w("attack"))),
    ('"chemical weapons"', q(p("chemical weapons"))),
    ('"chemical   weapons" attack', q(p("chemical weapons"), w("attack"))),
    ("-russia sarin", q(w("sarin"), excluded=(w("russia"),))),
    ('sarin -"air strike"', q(w("sarin"), excluded=(p("air strike"),))),
    ("aleppo OR idlib army", q((w("aleppo"), w("idlib")), w("army"))),
    ("aleppo OR idlib OR homs", q((w("aleppo"), w("idlib"), w("homs")))),
    ('"air strike" OR bombing', q((p("air strike"), w("bombing")))),
    ("a OR b c OR d", q((w("a"), w("b")), (w("c"), w("d")))),
    # lower-case or is a word; the keyword is upper case only
    ("aleppo or idlib", q(w("aleppo"), w("or"), w("idlib"))),
    ("aleppo Or idlib", q(w("aleppo"), w("Or"), w("idlib"))),
    # dangling, doubled or misplaced OR is ignored
    ("OR aleppo", q(w("aleppo"))),
    ("aleppo OR", q(w("aleppo"))),
    ("aleppo OR OR idlib", q((w("aleppo"), w("idlib")))),
    ("-russia OR sarin", q(w("sarin"), excluded=(w("russia"),))),
    ("sarin OR -russia", q(w("sarin"), excluded=(w("russia"),))),
    ("-OR sarin", q(w("sarin"), excluded=(w("OR"),))),
    # unbalanced quotes run to the end
    ('"chemical weapons', q(p("chemical weapons"))),
    ('sarin "chemical', q(w("sarin"), p("chemical"))),
    ('sarin -"chemical weapons', q(w("sarin"), excluded=(p("chemical weapons"),))),
    ('foo"bar baz"', q(w("foo"), p("bar baz"))),
    # punctuation-only terms are dropped; words keep their punctuation
    ("* sarin : - &", q(w("sarin"))),
    ('"" sarin', q(w("sarin"))),
    ("al-Numan U.S. 20%", q(w("al-Numan"), w("U.S."), w("20%"))),
    ("NEAR( sarin AND gas", q(w("NEAR("), w("sarin"), w("AND"), w("gas"))),
    ("title:sarin", q(w("title:sarin"))),
    ("sarin*", q(w("sarin*"))),
    ("- sarin", q(w("sarin"))),
    ("--sarin gas", q(w("gas"), excluded=(w("-sarin"),))),
    # control characters are whitespace
    ("sarin\x00gas", q(w("sarin"), w("gas"))),
    ("Ma'arat al-Nu'man", q(w("Ma'arat"), w("al-Nu'man"))),
    ("Дамаск", q(w("Дамаск"))),
])
def test_parse(text: str | None, expected: ParsedQuery) -> None:
    assert parse_query(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("-russia", "only exclusions"),
    ('-russia -"air strike"', "only exclusions"),
    ("* : -", "no words"),
    ('""', "no words"),
    ("OR", "no words"),
    (" ".join(f"w{i}" for i in range(MAX_TERMS + 1)), f"at most {MAX_TERMS}"),
    (" ".join(f"-w{i}" for i in range(MAX_TERMS)) + " x", f"at most {MAX_TERMS}"),
    ("x" * (MAX_QUERY_CHARS + 1), f"at most {MAX_QUERY_CHARS}"),
])
def test_invalid(text: str, message: str) -> None:
    with pytest.raises(InvalidQuery, match=message):
        parse_query(text)


def test_limits_are_inclusive() -> None:
    assert len(parse_query(" ".join(f"w{i}" for i in range(MAX_TERMS))).groups) == MAX_TERMS
    assert parse_query("x" * MAX_QUERY_CHARS).groups == ((w("x" * MAX_QUERY_CHARS),),)


def test_invalid_query_is_a_value_error() -> None:
    assert issubclass(InvalidQuery, ValueError)


def test_lone_surrogates_are_replaced() -> None:
    parsed = parse_query("sarin \ud800gas")
    assert parsed.groups[1][0].text == "\ufffdgas"
    parsed.groups[1][0].text.encode("utf-8")


# --- one entity across spellings (with_spellings) ------------------------------------------

SPELLINGS = {"khan sheikhoun": ["Khan Sheikhoun", "Khan Shaykhun", "the Khan Sheikhun"],
             "syrian observatory for human rights": ["Syrian Observatory for Human Rights", "SOHR"],
             "united states": ["US", "United States"]}


def lookup_spellings(keys):
    return {k: SPELLINGS[k] for k in keys if k in SPELLINGS}


def phrases(group):
    return [(t.text, t.phrase) for t in group]


def test_a_typed_name_becomes_one_group_of_its_spellings() -> None:
    query = with_spellings(parse_query("sarin Khan Shaykhun attack"), lookup_spellings)
    assert [phrases(g) for g in query.groups] == [
        [("sarin", False)],
        [("Khan Shaykhun", True), ("Khan Sheikhoun", True), ("Khan Sheikhun", True)],  # "the" dropped
        [("attack", False)]]


def test_acronyms_phrases_or_groups_and_exclusions() -> None:
    assert [phrases(g) for g in with_spellings(parse_query("SOHR"), lookup_spellings).groups] == [
        [("SOHR", False), ("Syrian Observatory for Human Rights", True)]]
    either = with_spellings(parse_query('"khan sheikhoun" OR Idlib'), lookup_spellings)
    assert phrases(either.groups[0]) == [("khan sheikhoun", True), ("Idlib", False), ("Khan Shaykhun", True),
                                         ("Khan Sheikhun", True)]
    excluded = with_spellings(parse_query('sarin -"Khan Sheikhoun"'), lookup_spellings)
    assert [t.text for t in excluded.excluded] == ["Khan Sheikhoun", "Khan Shaykhun", "Khan Sheikhun"]


def test_lower_case_single_words_and_unknown_names_stay_as_typed() -> None:
    for text in ("strikes on us", "Zzyzx market", "sarin attack"):
        assert with_spellings(parse_query(text), lookup_spellings) == parse_query(text)
    asked: list[list[str]] = []
    with_spellings(parse_query("air strike"), lambda keys: asked.append(list(keys)) or {})
    assert asked == [["air strike"]]  # one store call, only the two-word run (no single lower-case words)
