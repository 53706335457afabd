"""Figures: the number readers, the counted nouns and the events they count.

``sentence_figures`` reads the figures of one sentence (a ``SentenceView``)
and keeps those that count something, as ``FigureFact``s: digits ("592,700",
"2.5 million"), number words ("twenty-seven", "two dozen"), vague plurals
("dozens", "tens of thousands") and ranges ("20 to 30"), with the qualifier
before them ("at least"), the counted noun after them (``COUNTED``) and the
event they are tied to (``EVENTS``). Runs inside the pipeline's last
component; docs/nlp.md describes the rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from spacy.lang.en.stop_words import STOP_WORDS

from claimlookup.nlp.facts import FigureFact, SentenceView, glued
from claimlookup.nlp.scope import CumulativeReach

# A figure is a Quantity only when it counts something: a counted noun follows
# it ("45 militants", "dozens of civilians") or it is tied to an event word
# ("killed 20", "27 killed", "the death toll to 27"). Everything else (years,
# dates, times, money, percentages, ordinals, "Resolution 2254", "Su-35",
# "10 kilometres") is not a quantity.

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
#: Plural round numbers used as vague figures, and the value they stand for.
_VAGUE = {"dozens": 24, "scores": 40, "hundreds": 200, "thousands": 2_000, "millions": 2_000_000}
_DIGITS = re.compile(r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?")
_THOUSANDS_GROUP = re.compile(r"\d{3}")
#: A written figure is a few tokens long ("1 000 000", "two hundred and
#: fifty-three thousand"). Reading stops after this many thousands groups or
#: number words, so that a hostile run ("111 111 111 ...-year", rejected at its
#: end) costs constant work at each of its tokens, not the rest of the run.
_MAX_THOUSANDS_GROUPS = 4  # up to 999 999 999 999 999
_MAX_NUMBER_WORDS = 24

_QUALIFIERS = {  # words before a figure (longest first) -> qualifier
    ("no", "fewer", "than"): "at_least", ("no", "less", "than"): "at_least",
    ("in", "excess", "of"): "at_least", ("a", "minimum", "of"): "at_least",
    ("no", "more", "than"): "at_most", ("a", "maximum", "of"): "at_most", ("as", "many", "as"): "at_most",
    ("at", "least"): "at_least", ("more", "than"): "at_least", ("upwards", "of"): "at_least",
    ("at", "most"): "at_most", ("up", "to"): "at_most", ("fewer", "than"): "at_most",
    ("less", "than"): "at_most", ("just", "under"): "at_most", ("close", "to"): "at_most",
    ("an", "estimated"): "approx",
    ("over",): "at_least", ("nearly",): "at_most", ("almost",): "at_most",
    ("about",): "approx", ("around",): "approx", ("some",): "approx", ("approximately",): "approx",
    ("roughly",): "approx", ("estimated",): "approx", ("reportedly",): "approx",
}
_MAX_QUALIFIER = max(len(k) for k in _QUALIFIERS)
_QUALIFIER_WORDS = frozenset(w for k in _QUALIFIERS for w in k)

_EVENT_WORDS = {
    "killed": "kill kills killed killing killings dead die died dies dying death deaths toll slain slew murder "
              "murdered massacred executed perished fatalities lives",
    "wounded": "wound wounds wounded wounding injure injured injures injuring injury injuries hurt maimed",
    "displaced": "displaced displacing displace fled flee fleeing flees uprooted",
    "arrested": "arrest arrests arrested arresting detain detains detained detaining",
    "kidnapped": "kidnapped kidnapping abducted abducting",
    "missing": "missing disappeared",
    "hospitalized": "hospitalized hospitalised treated",
    "evacuated": "evacuate evacuated evacuating",
    "rescued": "rescued",
    "captured": "captured capturing",
    "released": "released freed",
    "fired": "fired launched",
    "casualties": "casualties",
}
EVENTS = {w: event for event, words in _EVENT_WORDS.items() for w in words.split()}
#: Events about people: a figure tied to one of them with no counted noun counts "people".
_HUMAN_EVENTS = frozenset(_EVENT_WORDS) - {"fired"}

_COUNTED_WORDS = {
    "people": "people persons person individuals individual",
    "civilians": "civilians civilian",
    "children": "children child kids kid",
    "women": "women woman",
    "men": "men man",
    "militants": "militants militant",
    "rebels": "rebels rebel",
    "fighters": "fighters fighter",
    "soldiers": "soldiers soldier",
    "troops": "troops",
    "terrorists": "terrorists terrorist",
    "jihadists": "jihadists jihadist",
    "insurgents": "insurgents insurgent",
    "gunmen": "gunmen gunman",
    "policemen": "policemen policeman police officers officer",
    "members": "members member",
    "loyalists": "loyalists loyalist",
    "activists": "activists activist",
    "commanders": "commanders commander",
    "leaders": "leaders leader",
    "officials": "officials official",
    "volunteers": "volunteers volunteer",
    "paramedics": "paramedics paramedic medics medic rescuers rescuer",
    "residents": "residents resident",
    "refugees": "refugees refugee",
    "migrants": "migrants migrant",
    "protesters": "protesters protester protestors demonstrators",
    "prisoners": "prisoners prisoner detainees detainee hostages hostage",
    "students": "students student",
    "workers": "workers worker",
    "journalists": "journalists journalist",
    "doctors": "doctors doctor",
    "citizens": "citizens citizen",
    "patients": "patients patient",
    "victims": "victims victim",
    "families": "families family",
    "bodies": "bodies body",
    "missiles": "missiles missile",
    "rockets": "rockets rocket",
    "shells": "shells shell mortars",
    "bombs": "bombs bomb",
    "airstrikes": "airstrikes airstrike strikes strike raids raid",
    "aircraft": "aircraft jets jet planes plane warplanes warplane helicopters helicopter drones drone",
    "tanks": "tanks tank",
    "vehicles": "vehicles vehicle",
    "buildings": "buildings building houses house homes home",
    "hospitals": "hospitals hospital",
    "schools": "schools school",
    "villages": "villages village towns town",
}
COUNTED = {w: plural for plural, words in _COUNTED_WORDS.items() for w in words.split()}
#: Counted things that are not people: they take no event that only people
#: undergo ("four airstrikes including two cluster bombs killing three
#: civilians": the bombs are not killed).
_OBJECTS = frozenset("missiles rockets shells bombs airstrikes aircraft tanks vehicles buildings hospitals schools "
                     "villages".split())
_PEOPLE_ONLY_EVENTS = frozenset(_EVENT_WORDS) - {"fired", "captured", "released", "missing"}
#: Singular counted nouns are also adjectives ("243 civilian facilities"): they
#: count only when no other content word follows them.
_SINGULAR = frozenset(w for w in COUNTED if not w.endswith("s")) - {
    "people", "men", "women", "children", "police", "aircraft", "gunmen", "policemen"}
#: Nouns that carry their own event: "20 deaths" = 20 people killed.
_EVENT_NOUNS = {"deaths": "killed", "dead": "killed", "fatalities": "killed", "injuries": "wounded",
                "casualties": "casualties", "wounded": "wounded", "injured": "wounded"}
_MORE = frozenset({"more", "others"})

#: Words between an event word and a later figure: "death toll rose to 27",
#: "killed another 10", "the wounded to 45".
_EVENT_TO_FIGURE = frozenset(
    "to at of rose risen rises rising climbed climbs reached reaches has had have stood stands now "
    "jumped increased up another further additional a an the was is".split())
#: Words between a figure (or its noun) and a later event word: "45 militants have been killed".
_FIGURE_TO_EVENT = frozenset("have has had been were was are is be being reportedly also all now already later "
                             "reported confirmed believed feared may might could would will".split())
_NOT_FIGURE_BEFORE = frozenset(
    "resolution article no no. number section chapter paragraph page flight route highway road channel "
    "item clause room block su mig tu al f $ £ € us$ usd".split())
_NOT_FIGURE_AFTER = frozenset(
    "% percent per pm am a.m. p.m. o'clock gmt bc ad dollars dollar euros euro pounds pound "
    "lira liras rubles roubles $ km kilometres kilometers miles mile metres meters years year "
    "months month weeks week days day hours hour minutes minute".split())
_FIGURE_LABELS = frozenset({"", "CARDINAL", "QUANTITY"})
#: NER often calls a bare four-digit figure a DATE ("5812 civilians"): a DATE
#: figure counts only when a counted noun follows it directly.
_DATE_LABELS = frozenset({"DATE"})
#: Verbs that move a toll named earlier in the sentence: "The death toll from
#: the blast ... reached at least 112".
_TOLL_VERBS = frozenset({"reached", "rose", "risen", "climbed", "jumped", "increased", "stood", "stands", "hit"})


@dataclass(slots=True)
class _Figure:
    value: float
    start: int  # first token of the figure (qualifier excluded)
    end: int  # one past its last token
    qualifier: str
    vague: bool = False
    date_like: bool = False  # NER says DATE, or a bare year-like number


@dataclass(slots=True)
class _Found:
    """A figure read, with where it sits and how it joins the one before."""

    fact: FigureFact
    first: int  # its first token (qualifier included)
    end: int  # one past its last token (noun included)
    partitive: bool = False  # "eight of them children": a part of the figure before
    tentative: bool = False  # counts a word outside the vocabulary and has no event yet: dropped if none comes
    head: int | None = None  # index of the figure it is part of ("72 people including nine children")
    joined: bool = False  # coordinated with the figure before it ("12 civilians, three children")


def sentence_figures(view: SentenceView) -> list[FigureFact]:
    """The figures of one sentence that count something, in order.

    After reading them one by one, the figures of an "including" group or
    a list share their event ("At least 72 people including nine children
    were killed"), and those a cumulative cue reaches are marked
    ``scope="cumulative"`` ("since 2011", "the war has killed")."""
    found: list[_Found] = []
    i = 0
    while i < view.n:
        figure = _read_figure(view, i) or _read_single_member(view, i)
        if figure is None:
            i += 1
            continue
        previous = found[-1] if found else None
        upper = _range_upper(view, figure)
        if upper is not None:
            new, after = _range(view, figure, upper, previous, _anchor_counts(found))
            i = max(upper.end, after)
        else:
            one = _quantity(view, figure, previous, _anchor_counts(found))
            new = [one] if one is not None else []
            i = max(figure.end, one.end if one else 0)
        for item in new:
            _link(view, found, item)
            found.append(item)
    _share_events(view, found)
    _mark_cumulative(view, found)
    return [f.fact for f in found if not (f.tentative and not f.fact.event)]


def _anchor_counts(found: list[_Found]) -> str:
    """What "others"/"more" count: the last figure's thing, or the whole of
    the group it belongs to ("100 people including 25 children ... and
    injured 400 others": people)."""
    if not found:
        return ""
    last = found[-1]
    counts = found[last.head].fact.counts if last.head is not None else last.fact.counts
    return "" if counts in _OBJECTS else counts  # "in four air strikes while 25 others were wounded": people


#: Words that open a group's parts: "72 people including nine children",
#: "20 people, among them eight children", "among the dead were 5 children".
_PART_MARKERS = (("including",), ("among", "them"), ("among", "whom"), ("amongst", "them"), ("among", "those"),
                 ("among", "the", "dead"), ("among", "the", "victims"), ("among", "the", "killed"))
_MARKER_TAIL = frozenset({"were", "are", "was", "is", "-", ",", "("})  # "including" ... "among them were"
#: At most this many words between a figure and "including" ("31 people were
#: killed including two medics"); a clause break ends the group.
_MAX_BEFORE_MARKER = 8
_GROUP_BREAKS = frozenset({";", ":", ".", "while", "but", "whereas"})
#: What may join two figures of a list: "12 civilians, three children and
#: two rescuers", "1733 children 969 women and 3110 men" (no commas).
_LIST_JOINTS = ((), (",",), ("and",), (",", "and"), ("as", "well", "as"), ("-",))


def _link(view: SentenceView, found: list[_Found], new: _Found) -> None:
    """How ``new`` joins the figures before it: a part of the figure before
    ("including", "of them"), the next item of a list, or neither."""
    if not found or new.joined:
        return
    previous = found[-1]
    gap = tuple(view.words[previous.end:new.first])
    if new.partitive and gap in _LIST_JOINTS:
        new.head = len(found) - 1
    elif _opens_parts(gap):
        new.head = len(found) - 1
    elif gap in _LIST_JOINTS:
        new.joined, new.head = True, previous.head


def _opens_parts(gap: tuple[str, ...]) -> bool:
    """The words between two figures end with a part marker ("including")."""
    end = len(gap)
    while end and gap[end - 1] in _MARKER_TAIL:
        end -= 1
    if end > _MAX_BEFORE_MARKER + 3:
        return False
    for marker in _PART_MARKERS:
        n = len(marker)
        if end >= n and gap[end - n:end] == marker:
            return not _GROUP_BREAKS.intersection(gap[:end - n])
    return False


def _chains(found: list[_Found]) -> list[list[int]]:
    """Runs of figures joined as parts or list items, as index lists."""
    chains: list[list[int]] = []
    for i, item in enumerate(found):
        if chains and (item.head is not None or item.joined):
            chains[-1].append(i)
        else:
            chains.append([i])
    return chains


def _share_events(view: SentenceView, found: list[_Found]) -> None:
    """A figure of a chain with no event of its own takes, in this order:
    its group's event (the whole's, else its first part's), the next event
    in the chain, the event right after the chain ("12 civilians, three
    children and two rescuers were killed"; "leaving 23 civilians - including
    nine children - dead"). One pass each way over the chain."""
    for chain in _chains(found):
        if len(chain) == 1:
            continue
        groups = _group_events(found, chain)
        following = _event_after(view, _skip_punctuation(view, found[chain[-1]].end))
        for i in reversed(chain):
            item = found[i]
            if item.fact.event:
                following = item.fact.event
                continue
            event = groups.get(item.head if item.head is not None else i, "") or following
            if event and not (item.fact.counts in _OBJECTS and event in _PEOPLE_ONLY_EVENTS):
                item.fact = replace(item.fact, event=event)


def _group_events(found: list[_Found], chain: list[int]) -> dict[int, str]:
    """Head index -> the first event among the head and its parts, for the
    groups of the chain that have parts."""
    events: dict[int, str] = {}
    heads = {head for i in chain if (head := found[i].head) is not None}
    for i in chain:
        head = found[i].head
        group = head if head is not None else i
        if group in heads and not events.get(group):
            events[group] = found[i].fact.event
    return events


def _skip_punctuation(view: SentenceView, k: int) -> int:
    while view.word(k) in ("-", ",", ")", '"'):
        k += 1
    return k


def _mark_cumulative(view: SentenceView, found: list[_Found]) -> None:
    """Mark ``scope="cumulative"`` the chains a cumulative cue reaches
    (``scope.CumulativeReach``): a group's parts share its scope."""
    if not found:
        return
    reach = CumulativeReach(view, EVENTS)
    for chain in _chains(found):
        if any(reach.reaches(found[i].first) or reach.reaches(found[i].end - 1) for i in chain):
            for i in chain:
                found[i].fact = replace(found[i].fact, scope="cumulative")


def _range_upper(view: SentenceView, lower: _Figure) -> _Figure | None:
    """The upper figure of "20 to 30", "20-30" or "between 20 and 30"."""
    joint = view.word(lower.end)
    if view.word(lower.start - 1) == "from":
        return None  # "rose from 20 to 27", "from 2011 to 2015": a change or a period
    if joint == "to" or (joint == "-" and glued(view, lower.end, "-")) or (
            joint == "and" and view.word(lower.start - 1) == "between"):
        upper = _read_figure(view, lower.end + 1, after_range_dash=joint == "-")
        if upper is not None and not upper.vague and not lower.vague and upper.value > lower.value:
            return upper
    return None


def _range(view: SentenceView, lower: _Figure, upper: _Figure, previous: _Found | None,
           anchor_counts: str) -> tuple[list[_Found], int]:
    """A range gives two quantities with the noun and event of the whole:
    "killed 20 to 30 people" -> 20 at_least and 30 at_most people killed."""
    first = lower.start - (view.word(lower.start - 1) == "between")
    found = _quantity(view, upper, previous, anchor_counts, context_start=first)
    if found is None:
        return [], upper.end
    fact = found.fact
    low_start, low_end = view.char_span(first, lower.end)
    low = FigureFact(lower.value, view.text[low_start:low_end], fact.counts, fact.event, "at_least",
                     low_start, low_end)
    high = _Found(replace(fact, qualifier="at_most"), first, found.end, joined=True)
    return [_Found(low, found.first, found.end, found.partitive), high], found.end


def _read_single_member(view: SentenceView, i: int) -> _Figure | None:
    """ "a child" in "including a child": one, as a member of a group."""
    if view.words[i] in ("a", "an") and view.word(i - 1) == "including" and (
            view.word(i + 1) in COUNTED or view.word(i + 2) in COUNTED):
        return _Figure(1.0, i, i + 1, "exact")
    return None


def _read_figure(view: SentenceView, i: int, after_range_dash: bool = False) -> _Figure | None:
    """A figure starting at token i: digits, number words, "two dozen", "dozens"."""
    if i >= view.n:
        return None
    w, label = view.words[i], view.ent[i]
    if label not in _FIGURE_LABELS and label not in _DATE_LABELS:
        return None
    if i > 0 and (view.words[i - 1] in _NOT_FIGURE_BEFORE or (glued(view, i - 1, "-") and not after_range_dash)):
        return None
    if w in _VAGUE or w == "tens":
        return _read_vague(view, i)
    if _DIGITS.fullmatch(w):
        parsed = _read_digits(view, i)
    elif w in _UNITS or w in _TENS or (w in ("a", "an") and view.word(i + 1) in _A_SCALES):
        parsed = _read_number_words(view, i)
    else:
        return None
    if parsed is None:
        return None
    value, end, qualifier = parsed
    start = i
    if view.word(i - 1) == "half" and w in ("a", "an"):
        value, start = value / 2, i - 1  # "half a million"
    if glued(view, end, "-") and view.word(end + 1) not in COUNTED and not _DIGITS.fullmatch(view.word(end + 1)):
        return None  # "24-hour", "five-year-old" (but "20-30 people" is a range)
    year_like = end == i + 1 and len(w) == 4 and w.isdigit() and 1800 <= int(w) <= 2100
    return _Figure(value, start, end, qualifier, date_like=label in _DATE_LABELS or year_like)


_A_SCALES = frozenset({"dozen", "hundred", "thousand", "million", "billion"})  # "a dozen", "a million"


def _read_vague(view: SentenceView, i: int) -> _Figure | None:
    """"dozens", "hundreds of thousands", "tens of thousands"."""
    w = view.words[i]
    if w == "tens":
        if view.word(i + 1) == "of" and view.word(i + 2) in ("thousands", "millions"):
            return _Figure(10.0 * _VAGUE[view.word(i + 2)], i, i + 3, "vague", vague=True)
        return None
    value, end = float(_VAGUE[w]), i + 1
    if view.word(end) == "of" and view.word(end + 1) in ("thousands", "millions"):
        value, end = value * _VAGUE[view.word(end + 1)] / 2, end + 2
    return _Figure(value, i, end, "vague", vague=True)


def _read_digits(view: SentenceView, i: int) -> tuple[float, int, str] | None:
    """"20", "592,700", "200 000", "2.5 million", "2 dozen"."""
    w = view.words[i]
    if w.startswith("0") and len(w) > 1 and not w.startswith("0."):
        return None
    value, end, qualifier = float(w.replace(",", "")), i + 1, "exact"
    while len(w) <= 3 and end - i <= _MAX_THOUSANDS_GROUPS and _THOUSANDS_GROUP.fullmatch(view.word(end)):
        value, end = value * 1000 + float(view.words[end]), end + 1
    scale = view.word(end)
    if scale in _SCALES or scale == "dozen":
        value, end = value * (_SCALES.get(scale) or 12), end + 1
        qualifier = "approx" if scale == "dozen" else qualifier
    return value, end, qualifier


def _read_number_words(view: SentenceView, i: int) -> tuple[float, int, str] | None:
    total, current, j, qualifier = 0, 0, i, "exact"
    if view.words[i] in ("a", "an"):
        current, j = 1, i + 1
    while j < view.n and j - i < _MAX_NUMBER_WORDS:
        w = view.words[j]
        if w in _UNITS:
            current += _UNITS[w]
        elif w in _TENS:
            current += _TENS[w]
            if view.word(j + 1) == "-" and view.word(j + 2) in _UNITS:
                current, j = current + _UNITS[view.word(j + 2)], j + 2
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w == "dozen":
            current, qualifier = max(current, 1) * 12, "approx"
        elif w in _SCALES:
            total, current = total + max(current, 1) * _SCALES[w], 0
        elif w == "and" and j > i and view.word(j - 1) in _SCALES and (
                view.word(j + 1) in _UNITS or view.word(j + 1) in _TENS):
            pass
        else:
            break
        j += 1
    if j == i or (j == i + 1 and view.words[i] in ("a", "an")):
        return None
    value = total + current
    if value == 1 and view.word(j) in ("of", "another", "side", "way", "day"):
        return None  # "one of the", "one another", "one day"
    return float(value), j, qualifier


def _qualifier_before(view: SentenceView, i: int) -> tuple[str, int]:
    """(qualifier, first token) of the words right before the figure at i."""
    for size in range(_MAX_QUALIFIER, 0, -1):
        if i - size < 0:
            continue
        words = tuple(view.words[i - size:i])
        if words in _QUALIFIERS:
            return _QUALIFIERS[words], i - size
    return "", i


def _quantity(view: SentenceView, figure: _Figure, previous: _Found | None, anchor_counts: str,
              context_start: int | None = None) -> _Found | None:
    """The figure's fact and where it sits, or None.

    ``anchor_counts`` is what "others"/"more" count (``_anchor_counts``);
    ``context_start`` is where the words before the figure are read from
    when the figure is the upper end of a range."""
    qualifier, first = _qualifier_before(view, figure.start if context_start is None else context_start)
    text_first = first if context_start is None else figure.start
    if figure.vague:
        qualifier = "vague"
    elif not qualifier:
        qualifier = figure.qualifier
    noun = _counted_noun(view, figure, anchor_counts)
    counts, event, last = noun.counts, noun.event, noun.end
    if figure.date_like and not (counts and last == figure.end + 1):
        return None
    if not event:
        event = (_own_event_after(view, last, first) or (not counts and noun.fallback and _event_after(
            view, noun.fallback_end)) or _event_before(view, first) or _coordinated_event(view, first, previous))
    tentative = False
    if not counts and noun.fallback and (event or view.word(noun.fallback_end) == "including"):
        # "600 Syrians including 136 children ... were killed": the group may give the event
        counts, last, tentative = noun.fallback, noun.fallback_end, not event
    if counts in _OBJECTS and event in _PEOPLE_ONLY_EVENTS:
        event = ""
    if not counts and noun.partitive and anchor_counts:
        counts = anchor_counts  # "110 of them under the age of 18": a part of the same thing
    if not counts:
        if event not in _HUMAN_EVENTS:
            return None
        counts = "people"
    end = max(last, figure.end)
    start_char, end_char = view.char_span(text_first, end)
    fact = FigureFact(figure.value, view.text[start_char:end_char], counts, event, qualifier, start_char, end_char)
    return _Found(fact, first, end, noun.partitive, tentative=tentative)


def _own_event_after(view: SentenceView, last: int, first: int) -> str:
    """The event after a figure's noun, past an "of"/"including" phrase;
    not one that leads to the next figure while an event precedes this one
    ("killed 220000 people wounded at least a million": killed)."""
    event, at = _event_after_at(view, last)
    if not event:
        event, at = _event_after_at(view, _phrase_end(view, last))
    if event and _leads_to_figure(view, at) and _event_before(view, first):
        return ""
    return event


def _coordinated_event(view: SentenceView, first: int, previous: _Found | None) -> str:
    """"killed 129 soldiers and 116 rebels": a figure joined by "and" or a
    comma to the figure before it shares that figure's event."""
    if previous is None or not previous.fact.event:
        return ""
    if view.word(first - 1) in ("and", ",") and previous.end == first - 1:
        return previous.fact.event
    return ""


@dataclass(slots=True)
class _Noun:
    counts: str = ""  # from the vocabulary, or "" if none
    event: str = ""  # implied by the noun ("deaths" -> killed)
    end: int = 0  # one past the noun (the figure's end if no noun)
    fallback: str = ""  # a plural word outside the vocabulary ("activists")
    fallback_end: int = 0
    partitive: bool = False  # "of them"/"of whom" after the figure


def _counted_noun(view: SentenceView, figure: _Figure, previous_counts: str) -> _Noun:
    """What the figure counts.

    Up to five modifier tokens may sit between the figure and its noun
    ("45 foreign-backed militants", "six other Ahrar al-Sham members"); "of"
    may follow a vague or round figure ("dozens of people"), and "of them"
    or "of whom" any figure ("eight of them children": ``partitive``). A
    plural word outside the vocabulary is kept as ``fallback``: it counts
    only when the figure is tied to an event ("killed 129 loyalists").
    """
    j = figure.end
    noun = _Noun(end=j)
    if view.word(j) in _NOT_FIGURE_AFTER:
        return noun
    if view.word(j) == "of" and view.word(j + 1) in ("them", "whom"):
        noun.partitive, noun.end, j = True, j + 2, j + 2 + (view.word(j + 2) in ("were", "are", "being"))
    if view.word(j) == "of" and (figure.vague or figure.value >= 100):
        j += 1
    elif view.word(j) == "of" and view.word(j + 1) == "the" and (
            view.word(j + 2) in COUNTED or view.word(j + 2) in _EVENT_NOUNS):
        j += 2  # "22 of the jihadists", "15 of the dead"
    for k in range(j, min(j + 6, view.n)):
        w = view.words[k]
        if w in COUNTED and not (w in _SINGULAR and _is_modifier(view, k + 1)):
            noun.counts, noun.end = COUNTED[w], k + 1
            return noun
        if w in _EVENT_NOUNS and k == j:
            noun.counts, noun.event, noun.end = "people", _EVENT_NOUNS[w], k + 1
            return noun
        if w in _MORE:
            if view.word(k + 1) == "than":
                break  # "2017 More than 19 civilians": a qualifier of the next figure
            if view.word(k + 1) in COUNTED:
                continue  # "three more civilians": the noun follows
            noun.counts, noun.end = previous_counts or "people", k + 1
            return noun
        if w in ("including", "among"):  # "23 including militants": the group's parts follow
            break
        if not _is_modifier(view, k):
            break
        if (not noun.fallback and len(w) > 3 and w.endswith("s") and not w.endswith("ss") and w.isalpha()
                and view.ent[k] in ("", "NORP")):  # "129 loyalists", "30 Alawites"; not "seven Homs"
            noun.fallback, noun.fallback_end = w, k + 1
    return noun


def _is_modifier(view: SentenceView, k: int) -> bool:
    if not 0 <= k < view.n:
        return False
    w = view.words[k]
    if w == "-":
        return glued(view, k, "-")  # "foreign-backed", not a dash
    if view.is_named(k):
        return True
    return w.isalpha() and w not in STOP_WORDS and w not in EVENTS and w not in _NOT_FIGURE_AFTER


def _event_after(view: SentenceView, k: int) -> str:
    """Event word right after a figure or its noun: "27 killed", "45 militants have been killed"."""
    return _event_after_at(view, k)[0]


def _event_after_at(view: SentenceView, k: int) -> tuple[str, int]:
    """``_event_after`` and the event word's token (-1 when none)."""
    for _ in range(4):
        w = view.word(k)
        if w in EVENTS and w not in ("toll", "lives"):
            return EVENTS[w], k
        if w not in _FIGURE_TO_EVENT:
            return "", -1
        k += 1
    return "", -1


def _leads_to_figure(view: SentenceView, k: int) -> bool:
    """A figure starts right after token k, its qualifier allowed in between:
    "wounded at least a million", "injuring 10 others"."""
    for j in range(k + 1, k + 1 + _MAX_QUALIFIER + 1):
        if _read_figure(view, j) is not None:
            return True
        if view.word(j) not in _QUALIFIER_WORDS:
            return False
    return False


def _phrase_end(view: SentenceView, k: int) -> int:
    """Past a short phrase after a figure's noun that an event may follow:
    "170 members of government forces had died", "100 militants including
    field commanders were killed" (k at "of" / "including"; k itself if none)."""
    if view.word(k) not in ("of", "including"):
        return k
    j = k + 1
    while j < min(k + 5, view.n) and (view.word(j) in ("a", "an", "the") or _is_modifier(view, j)):
        j += 1
    return j


def _event_before(view: SentenceView, first: int) -> str:
    """Event word shortly before a figure: "killed 20", "the death toll to 27"."""
    k = first - 1
    for _ in range(4):
        w = view.word(k)
        if w in EVENTS:
            return EVENTS[w]
        if w in _TOLL_VERBS and view.first("toll") < k:
            return "killed"
        if view.word(k - 1) == "from" and _DIGITS.fullmatch(w):
            k -= 2  # "the toll rose from 20 to 27"
            continue
        if w not in _EVENT_TO_FIGURE:
            return ""
        k -= 1
    return ""

