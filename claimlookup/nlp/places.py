"""Places as places: the region's gazetteer, applied after the statistical NER.

The small English model tags many Syrian places as people or nationalities
("Maaret al-Numan" PERSON, "Aleppo" NORP, "Shayrat" LAW) and glues neighbours
onto them ("Khan Sheikhun Idlib", "Maaret al-Numan Tags"). The component
``claimlookup_places`` runs right after ``ner`` and makes every name of the
gazetteer (``claimlookup/data/places.tsv``: Syria and its neighbours, written
by hand from public knowledge and from FA-KES' own ``location`` column and
spellings) a GPE, LOC or FAC entity, whatever the model said.

Matching is transliteration-aware: each token is folded word by word with
``spellings.spelling_fold`` (vowels, ``ou``/``u``, ``ee``/``i``, doubled
letters...), articles (``al-``, ``el-``, ``ez-``...) and hyphens are skipped,
so "Khan Shaykhun", "Khan-Shaikhoun" and "Khan Sheikhoun" are one name; a
trailing possessive written without its apostrophe ("Aleppos", "Syrias") is
read too. The first word must be capitalised. Where the fold would reach
another name, an entry is matched ``exact`` (Mayadin, not the TV station
al-Mayadeen). How a match meets the model's entities is ``_resolve``'s
docstring; docs/nlp.md has the rules and the measured accuracy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from claimlookup import caches
from claimlookup.nlp.spellings import ENTITY_GROUPS, spelling_fold

PLACES_FILE = Path(__file__).resolve().parents[1] / "data" / "places.tsv"
PIPE = "claimlookup_places"  # the component's name in the pipeline

#: The entity label of each kind of place in places.tsv.
LABEL_OF_KIND = {
    **dict.fromkeys(("country", "capital", "territory", "governorate", "city", "town", "village", "district",
                     "camp"), "GPE"),
    **dict.fromkeys(("region", "mountain", "river", "plain", "valley", "lake"), "LOC"),
    **dict.fromkeys(("airbase", "airport", "crossing", "road", "dam", "prison", "base", "site"), "FAC"),
}
#: Kinds whose name may speak for a government ("Damascus denied", "Turkey said").
SPEAKING_KINDS = frozenset({"country", "capital"})
PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})

#: Transliterated Arabic articles: skipped inside a name ("Maaret al-Numan").
#: Not "an", "as", "at": English words.
ARTICLES = frozenset({"al", "el", "ez", "az", "ad", "ed", "ash", "esh", "ar", "er", "adh", "ath"})
#: Words joined to a name without a space that do not end the name.
_JOINERS = frozenset({"-", "'", "’", "'s", "’s"})
#: Words that, after a place, name a facility at it: "Hama military airport".
_FACILITY_WORDS = {("airbase",): 1, ("airport",): 1, ("airfield",): 1, ("air", "base"): 2,
                   ("military", "airport"): 2, ("crossing",): 1, ("border", "crossing"): 2,
                   ("dam",): 1, ("prison",): 1}
#: Articles and joiners skipped between two words of a name ("Deir-ez-Zor": 3).
_MAX_SKIPPED = 3
_WIDE_KINDS = frozenset({"country", "territory"})
_FACILITY_FIRST = frozenset(words[0] for words in _FACILITY_WORDS)
#: Possessives without apostrophe that are other words: "Hamas" is not Hama's.
_NOT_POSSESSIVE = frozenset({"hamas"})


@dataclass(frozen=True, slots=True)
class Place:
    """A gazetteer entry: its name, kind and entity label, and how it matches."""

    name: str
    kind: str
    exact: frozenset[str]  # lower-case spellings an exact entry accepts; empty: any with the fold
    needs_article: bool  # only right after "al-" ("al-Bab")
    alone: bool  # never split out of a longer entity of the model's

    @property
    def label(self) -> str:
        return LABEL_OF_KIND[self.kind]

    @property
    def speaks(self) -> bool:
        return self.kind in SPEAKING_KINDS


@dataclass(frozen=True, slots=True)
class PlaceMatch:
    start: int  # token indices [start, end) in the Doc
    end: int
    place: Place
    label: str
    possessive: bool = False  # written "Aleppos": Aleppo's


class Gazetteer:
    """Places by the folded words of their spellings (``word_key``)."""

    def __init__(self, places: dict[tuple[str, ...], Place]) -> None:
        self.places = places
        self.first_words = frozenset(key[0] for key in places)
        self.longest = max(len(key) for key in places)

    def lookup(self, words: tuple[str, ...]) -> Place | None:
        return self.places.get(words)


@caches.lru(caches.PLACE_WORD)
def word_key(text: str) -> str:
    """One token's part of a place key: its spelling fold, "" for an article
    or punctuation (skipped inside a name)."""
    word = "".join(spelling_fold(text).split())  # one token: "T-4" -> "t4"
    return "" if word in ARTICLES else word


def name_key(words: list[str]) -> tuple[str, ...]:
    """The key of a name given as its tokens' texts."""
    return tuple(w for w in map(word_key, words) if w)


@caches.lru(caches.NAME_TOKENIZER)
def _tokenizer() -> Callable[[str], Doc]:
    """spaCy's English tokenizer (the model's own rules), for the names."""
    return spacy.blank("en").tokenizer


def tokenize(text: str) -> list[str]:
    return [t.text for t in _tokenizer()(text)]


@caches.lru(caches.GAZETTEER)
def load_gazetteer(path: Path = PLACES_FILE) -> Gazetteer:
    """Read places.tsv; raise ValueError when two places share a key."""
    places: dict[tuple[str, ...], Place] = {}
    groups = [(group, frozenset(map(spelling_fold, group))) for group in ENTITY_GROUPS]
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        name, kind, match, *rest = line.split("\t")
        spellings = [name, *(s for s in (rest[0].split("|") if rest and rest[0] else []))]
        spellings += _group_spellings(spellings, groups)
        flags = set(match.split(","))
        if kind not in LABEL_OF_KIND or not flags <= {"fold", "exact", "article", "alone"}:
            raise ValueError(f"{path.name}:{number}: unknown kind or match: {kind!r} {match!r}")
        exact = frozenset(_surface(tokenize(s)) for s in spellings) if "exact" in flags else frozenset()
        place = Place(name, kind, exact, "article" in flags, "alone" in flags)
        for spelling in spellings:
            key = name_key(tokenize(spelling))
            if not key:
                raise ValueError(f"{path.name}:{number}: {spelling!r} has no word")
            if places.setdefault(key, place) != place:
                raise ValueError(f"{path.name}:{number}: {spelling!r} folds like {places[key].name!r}")
    return Gazetteer(places)


def _group_spellings(spellings: list[str], groups: list[tuple[tuple[str, ...], frozenset[str]]]) -> list[str]:
    """The spellings ``spellings.ENTITY_GROUPS`` lists for the same name;
    ``groups`` pairs each group with its spellings' folds (computed once per
    load: folding every group's names again for every line of places.tsv was
    2.8 of the 3.7 CPU seconds loading the pipeline took on the Zen 1 VM)."""
    folds = {spelling_fold(s) for s in spellings}
    return [s for group, group_folds in groups if not folds.isdisjoint(group_folds)
            for s in group[1:] if s not in spellings]


def _surface(words: list[str]) -> str:
    """Lower-case text of a name's words, articles and joiners dropped."""
    return " ".join(w.lower() for w in words if word_key(w))


# --- finding places in a Doc ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Words:
    """What matching reads of each token, read once per Doc (a spaCy Token
    is built on every access)."""

    texts: list[str]
    lowers: list[str]
    spaced: list[bool]  # whitespace after the token
    keys: list[str]  # word_key, "" for a space token

    @classmethod
    def of(cls, doc: Doc) -> _Words:
        texts = [t.text for t in doc]
        return cls(texts, [t.lower() for t in texts], [bool(t.whitespace_) for t in doc],
                   [word_key(t.text) if not t.is_space else "" for t in doc])


def find_places(doc: Doc, gazetteer: Gazetteer) -> list[PlaceMatch]:
    """The gazetteer's names in the Doc, longest first, left to right, not overlapping."""
    words = _Words.of(doc)
    found: list[PlaceMatch] = []
    i = 0
    while i < len(words.keys):
        key = words.keys[i]
        match = _match_at(words, i, gazetteer) if key in gazetteer.first_words or (
            _possessive_stem(key) in gazetteer.first_words) else None
        if match is None:
            i += 1
            continue
        found.append(match)
        i = match.end
    return found


def _match_at(words: _Words, i: int, gazetteer: Gazetteer) -> PlaceMatch | None:
    if not words.texts[i][:1].isupper():
        return None
    content = list(_name_tokens(words, i, gazetteer.longest))
    for size in range(len(content), 0, -1):
        key = tuple(words.keys[k] for k in content[:size])
        end = content[size - 1] + 1
        place = gazetteer.lookup(key)
        possessive = place is None and bool(_possessive_stem(key[-1]))
        if possessive:
            place = gazetteer.lookup((*key[:-1], _possessive_stem(key[-1])))
            if place is not None and place.exact:
                place = None
        if place is None or not _accepts(words, place, i, end):
            continue
        start = _with_article(words, i)
        return _with_facility(words, PlaceMatch(start, end, place, place.label, possessive))
    return None


def _name_tokens(words: _Words, i: int, longest: int) -> Iterator[int]:
    """Indices of the name words from token i: articles and joiners are
    skipped (at most ``_MAX_SKIPPED`` in a row), any other punctuation or a
    line break ends the name."""
    count = skipped = 0
    for k in range(i, len(words.keys)):
        if words.keys[k]:
            yield k
            count, skipped = count + 1, 0
            if count == longest:
                return
        elif words.lowers[k] not in ARTICLES and words.texts[k] not in _JOINERS or skipped == _MAX_SKIPPED:
            return
        else:
            skipped += 1


def _possessive_stem(key: str) -> str:
    """"alepus" (Aleppos) -> "alepu"; "" when the word is no such possessive
    (short words are left alone: "Wars", "Rais")."""
    return key[:-1] if len(key) > 4 and key.endswith("s") and key not in _NOT_POSSESSIVE else ""


def _accepts(words: _Words, place: Place, start: int, end: int) -> bool:
    if place.exact and _surface(words.texts[start:end]) not in place.exact:
        return False
    return not place.needs_article or _with_article(words, start) < start


def _with_article(words: _Words, i: int) -> int:
    """Start of the name with an article right before it ("al-Bab", "Al Bab")."""
    if i >= 2 and words.texts[i - 1] == "-" and words.lowers[i - 2] in ARTICLES and not words.spaced[i - 2]:
        return i - 2
    if i >= 1 and words.lowers[i - 1] in ARTICLES and words.spaced[i - 1]:
        return i - 1
    return i


def _with_facility(words: _Words, match: PlaceMatch) -> PlaceMatch:
    """"Hama military airport", "Kilis crossing": the facility, a FAC (not
    after a country: "the Turkey border crossing")."""
    if match.place.kind in _WIDE_KINDS or match.end >= len(words.lowers) or (
            words.lowers[match.end] not in _FACILITY_FIRST):
        return match
    for following, size in _FACILITY_WORDS.items():
        if tuple(words.lowers[match.end:match.end + size]) == following:
            return PlaceMatch(match.start, match.end + size, match.place, "FAC", match.possessive)
    return match


# --- the model's entities and the gazetteer's places ------------------------------------

#: Words that, glued to a place inside one of the model's entities, still
#: name that place ("Homs province", "Eastern Ghouta", "the Castello Road").
_PLACE_WORDS = frozenset(
    "province governorate city town village countryside district neighbourhood neighborhood suburb suburbs "
    "region area camp eastern western northern southern east west north south northeast northwest southeast "
    "southwest north-east north-west south-east south-west northeastern northwestern southeastern southwestern "
    "central old new rural greater upper lower the al el".split())
#: Kind words that make the place a region ("Raqqa countryside" is a LOC).
_KIND_LABELS = {"countryside": "LOC", "region": "LOC", "area": "LOC"}
#: Words of clutter the model glues onto names: tag lists, weekdays, months, page labels.
CLUTTER = frozenset(
    "tags tag topics keywords related photo photos video videos print tweet views urgent breaking update live "
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june july "
    "august september october november december jan feb mar apr jun jul aug sep sept oct nov dec".split())
#: Last words of organisations named after a place ("Aleppo Police Command",
#: "Idlib Media Center", "Jordan Times"): the model's entity stays whole.
_ORG_HEADS = frozenset(
    "command center centre council directorate university network committee committees brigade brigades front "
    "army forces police agency office company group media news radio tv times union battalion division regiment "
    "movement commission authority department ministry court club coordination revolutionaries revolutionary "
    "governor operations room channel post press daily today tribune review monitor observatory "
    "foundation institute association organisation organization society bank league party hospital".split())
#: Words inside an organisation's name that tie a place to it ("Islamic State of Iraq").
_NAME_CONNECTORS = frozenset({"of", "for"})
#: Capitalised words that begin longer place names around a known place
#: ("Bab Tadmor", "Masaken Barzeh"): the model's entity is one place.
_NAME_PREFIXES = frozenset(
    "bab tal tell khan deir kafr kafar ain ayn ras jabal jebel wadi burj masaken jisr maaret qasr beit hay harat "
    "souq suq mazraat tallet jubb qalaat dahiyet mount".split())


def _resolve(doc: Doc, matches: list[PlaceMatch]) -> list[Span]:
    """The Doc's entities with the gazetteer's places in them.

    - A place the model missed becomes an entity.
    - The model's entity that is exactly a place takes the place's label.
    - The model's entity that holds one place and only place words ("Homs
      province", "East Aleppo", "the Castello Road", "Bab Tadmor") keeps its
      span and takes the place's label ("countryside", "region" and "area"
      make it a LOC).
    - The model's organisation, facility or event named after a place stays
      whole and keeps its label: an organisation word follows the place
      ("Aleppo Police Command", "Qamishli National Hospital"), the place sits
      inside the name ("Operation Euphrates Shield"), or an "of"/"for" before
      it ties it to the name ("Islamic State of Iraq and the Levant"); never
      after a place written as a possessive ("Syrias Muslim Brotherhood").
    - Any other entity that holds places is split: each place becomes its own
      entity ("Khan Sheikhun Idlib"), and what is left keeps the model's label
      when the model's label was not a place and it still has a capitalised
      word that is not clutter ("Khan-Shaikhoun Rudskoi": Rudskoi stays a
      PERSON; "Maaret al-Numan Tags": Tags is dropped).
    - A place marked ``alone`` never splits a longer entity ("Jordan Dakamseh").

    Linear in the Doc: each token is looked at a bounded number of times.
    """
    match_at: list[int] = [-1] * len(doc)
    for n, match in enumerate(matches):
        for k in range(match.start, match.end):
            match_at[k] = n
    used = [False] * len(matches)
    spans: list[Span] = []
    for ent in doc.ents:
        inside = sorted({match_at[k] for k in range(ent.start, ent.end) if match_at[k] >= 0})
        spans += _resolve_entity(doc, ent, [matches[n] for n in inside], match_at) if inside else [ent]
        for n in inside:
            used[n] = True
    covered = bytearray(len(doc))
    for span in spans:
        covered[span.start:span.end] = b"\x01" * len(span)
    for n, match in enumerate(matches):
        if not used[n] and not any(covered[match.start:match.end]):
            spans.append(Span(doc, match.start, match.end, label=match.label))
    return _without_overlaps(spans)


def _without_overlaps(spans: list[Span]) -> list[Span]:
    """Spans by start; a span overlapping the one before is dropped (a place
    claimed by two of the model's entities is kept once)."""
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
    return kept


def _resolve_entity(doc: Doc, ent: Span, inside: list[PlaceMatch], match_at: list[int]) -> list[Span]:
    crosses = inside[0].start < ent.start or inside[-1].end > ent.end
    extra = [k for k in range(ent.start, ent.end) if match_at[k] < 0]
    if not crosses and len(inside) == 1 and all(_is_place_word(doc[k], k < inside[0].start) for k in extra):
        end = ent.end
        while end > inside[0].end and (doc[end - 1].is_punct or doc[end - 1].lower_ == "the"):
            end -= 1  # "Aleppo The", "Golan Heights -"
        return [Span(doc, ent.start, end, label=_kind_label(doc, extra, inside[0].label))]
    if not crosses and (_names_organisation(doc, ent, inside, extra) or any(m.place.alone for m in inside)):
        return [ent]  # the place is part of this longer name
    pieces = [Span(doc, m.start, m.end, label=m.label) for m in inside]
    if ent.label_ not in PLACE_LABELS:  # what a place-typed entity holds besides places is clutter
        pieces += [Span(doc, i, j, label=ent.label_) for i, j in _leftovers(doc, extra)]
    return pieces


def _is_place_word(token: Token, before_place: bool) -> bool:
    return token.lower_ in _PLACE_WORDS or token.is_punct or (
        before_place and token.lower_ in _NAME_PREFIXES and token.text[:1].isupper())


def _kind_label(doc: Doc, extra: list[int], label: str) -> str:
    for k in extra:
        if doc[k].lower_ in _KIND_LABELS:
            return _KIND_LABELS[doc[k].lower_]
    return label


def _names_organisation(doc: Doc, ent: Span, inside: list[PlaceMatch], extra: list[int]) -> bool:
    """The entity is a longer name with the place in it: an organisation
    named after it ("Aleppo Police Command", "Qamishli National Hospital"),
    a name around it ("Operation Euphrates Shield") or tied to it by an "of"
    before it ("Islamic State of Iraq and the Levant"; not "Hassakeh the
    Syrian Observatory for Human Rights"). Never after a possessive place
    ("Syrias Muslim Brotherhood" is Syria's)."""
    if any(m.possessive for m in inside):
        return False
    first = min(m.start for m in inside)
    if any(doc[k].lower_ in _NAME_CONNECTORS for k in extra if k < first):
        return ent.label_ in ("ORG", "FAC", "EVENT", "GPE", "LOC")
    if ent.label_ not in ("ORG", "FAC", "EVENT"):
        return False
    last = max(m.end for m in inside)
    if last < ent.end and doc[last].lower_ in ("the", "a", "an"):
        return False  # a new phrase: "Hassakeh the Syrian Observatory for Human Rights"
    if any(doc[k].lower_ in _ORG_HEADS and doc[k].text[:1].isupper() for k in extra if k >= last):
        return True  # capitalised: part of the name ("Qardaha hospital" is a hospital in Qardaha)
    named = [k for k in extra if doc[k].text[:1].isupper() and doc[k].lower_ not in CLUTTER]
    return bool(named) and named[0] < first and named[-1] >= last


def _leftovers(doc: Doc, extra: list[int]) -> Iterator[tuple[int, int]]:
    """Runs of the entity's tokens outside its places, trimmed of function
    words and punctuation, that still hold a capitalised word, not clutter."""
    runs: list[list[int]] = []
    for k in extra:
        if runs and runs[-1][-1] == k - 1:
            runs[-1].append(k)
        else:
            runs.append([k])
    for run in runs:
        keep = [k for k in run if not (doc[k].is_punct or doc[k].lower_ in CLUTTER)]
        while keep and (doc[keep[0]].is_stop or doc[keep[0]].lower_ in ARTICLES):
            keep.pop(0)
        while keep and (doc[keep[-1]].is_stop or doc[keep[-1]].lower_ in ARTICLES):
            keep.pop()
        if keep and keep == list(range(keep[0], keep[-1] + 1)) and any(doc[k].text[:1].isupper() for k in keep):
            yield keep[0], keep[-1] + 1


class PlaceRuler:
    """The ``claimlookup_places`` component (see the module docstring)."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer

    def __call__(self, doc: Doc) -> Doc:
        matches = find_places(doc, self.gazetteer)
        if matches:
            doc.ents = _resolve(doc, matches)
        return doc


@Language.factory(PIPE)
def make_place_ruler(nlp: Language, name: str) -> PlaceRuler:
    return PlaceRuler(load_gazetteer())


@caches.lru(caches.PLACE_IN)
def place_in(text: str) -> Place | None:
    """The first of the gazetteer's places named in ``text`` ("Deir Ezzor
    Governorate" -> Deir ez-Zor), else None."""
    matches = find_places(_tokenizer()(text), load_gazetteer())
    return matches[0].place if matches else None


def place_named(text: str) -> Place | None:
    """The gazetteer's place when ``text`` is that place's name and nothing
    more ("Aleppo", "the town of"-less "Khan Shaykhun", "Aleppos", "Homs
    province"), else None ("Aleppo Police Command", "medical source")."""
    doc = _tokenizer()(text)
    matches = find_places(doc, load_gazetteer())
    if len(matches) != 1:
        return None
    match = matches[0]
    rest = [t for t in (*doc[:match.start], *doc[match.end:]) if not _is_place_word(t, False)]
    return None if rest else match.place
