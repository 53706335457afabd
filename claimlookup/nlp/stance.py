"""Frame (stance) and speaker of a sentence, from denial and attribution cues.

``sentence_stance`` reads one sentence (a ``SentenceView``) and says how it
frames what it says (``Frame``: asserts, attributes, denies, unclear) and
who is speaking or denying, from word rules: denial verbs, nouns and phrases,
negated actions, reporting verbs ("said", "according to"), hedges. Runs
inside the pipeline's last component; docs/nlp.md describes the rules and
their accuracy.
"""

from __future__ import annotations

from collections.abc import Iterable

from spacy.lang.en.stop_words import STOP_WORDS

from claimlookup.model import Frame
from claimlookup.nlp.entities import ENTITY_LABELS, FOLD_QUOTES
from claimlookup.nlp.facts import SentenceView, glued
from claimlookup.nlp.figures import EVENTS
from claimlookup.nlp.places import place_in

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
#: "claimed the lives of 20", "claiming the lives of 8"
_NOT_REPORTING = {"claimed": frozenset({"the", "lives"}), "claiming": frozenset({"the", "lives"})}
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

#: Head nouns of a speaker without a name: people and organisations by their
#: role ("local sources", "a monitoring group", "residents"), never places or
#: other nouns ("the city", "people", "information", "held area").
_SOURCE_NOUNS = frozenset(
    "source sources official officials spokesman spokeswoman spokesperson spokesmen minister ministers ministry "
    "ministries army military government regime authorities authority administration agency agencies media "
    "television tv channel station radio newspaper outlet outlets network reporter reporters correspondent "
    "correspondents journalist journalists photographer photographers monitor monitors group groups observatory "
    "watchdog organisation organization organisations organizations charity ngo committee committees council "
    "councils coalition opposition rebels rebel fighters militants militant activists activist residents resident "
    "witness witnesses doctor doctors medic medics nurse nurses paramedics rescuers workers worker volunteers "
    "volunteer survivors survivor man woman men women father mother brother sister son daughter relative "
    "relatives teacher villagers locals commander commanders officer officers soldier soldiers general colonel "
    "governor president premier leader leaders chief head director envoy ambassador diplomat diplomats secretary "
    "member members lawmaker lawmakers analyst analysts expert experts investigators inspectors team mission "
    "police command forces alliance front brigade brigades faction factions militia militias party movement "
    "embassy office center centre defence defense helmets crescent cross unit units staff service services "
    "directorate department statesman manager sheikh imam cleric collective powers states countries nations "
    "allies community critics observers eyewitness eyewitnesses responders organisers organizers personnel teams "
    "corps representative representatives website websites arm evacuee evacuees refugee refugees neurologist "
    "surgeon physician pharmacist lawyer engineer student students farmer driver pope pontiff broadcaster "
    "vendor vet".split())
#: Common nouns that never speak, even capitalised at the start of a sentence.
_NOT_SPEAKERS = frozenset(
    "people city town village area areas province region district neighbourhood neighborhood country countryside "
    "ground information conflict war attack attacks strike strikes airstrikes bombing explosion site scene camp "
    "border crossing base airport street road school video time governorate governorates".split())
#: Nouns of documents: a speaker only when qualified ("media reports", not "the report").
_DOCUMENT_NOUNS = frozenset({"report", "reports"})
#: Words of tag lists scraped with the text ("Tags Idlib Russia Syria ..."): never in a speaker.
_TAG_WORDS = frozenset({"tags"})
#: Words before a phrase that make it a modifier of the noun before them:
#: "a medical source in Aleppo", "residents contacted in the city".
_MODIFIER_WORDS = frozenset({"in", "at", "inside", "near", "from", "on", "outside", "across", "around",
                             "throughout", "within"})
#: How far back a preposition is looked for past the phrase's own words ("in the rebel-held area").
_MODIFIER_WINDOW = 5
#: How far back a relative pronoun is looked for ("The Observatory which
#: relies on a network of sources inside Syria for its information said").
_RELATIVE_WINDOW = 24
#: Tokens of an entity read to look it up in the gazetteer.
_LONGEST_NAME = 12
#: Phrases tried, one leading to the next, before a cue is said to name nobody.
_SPEAKER_TRIES = 4

_Range = tuple[int, int] | None  # tokens [i, j) of a speaker phrase


def sentence_stance(view: SentenceView) -> tuple[Frame, str | None]:
    """(stance, speaker) of one sentence; the speaker as written, or None."""
    denial = _denial(view)
    if denial is not None:
        return Frame.DENIES, _speaker_text(view, denial[0])
    hedged = (view.words and view.words[-1] == "?") or _has_phrase(view, _HEDGES)
    report = _attribution(view)
    if report is not None:
        # "The monitor said it was unclear who ...": the reported claim is a hedge.
        stance = Frame.UNCLEAR if hedged else Frame.ATTRIBUTES
        return stance, _speaker_text(view, report[0])
    if hedged:
        return Frame.UNCLEAR, None
    if any(w in _SOURCELESS for w in view.words):
        return Frame.ATTRIBUTES, None
    return Frame.ASSERTS, None


def _denial(view: SentenceView) -> tuple[_Range] | None:
    """(denier,) if the sentence denies something, None if it has no denial cue."""
    for i, w in enumerate(view.words):
        if view.is_named(i):
            continue
        if (w in _DENIAL_VERBS and view.word(i + 1) not in _NOT_DENIED) or (
                w in _CLAIM_DENIAL_VERBS and _near_claim_word(view, i)):
            return (_as_speaker(view, _speaker_of(view, i, invertible=False)),)
        if w in _DENIAL_NOUNS:
            return (_as_speaker(view, _denial_noun_speaker(view, i)),)
    if _has_phrase(view, _DENIAL_PHRASES):
        report = _attribution(view)
        return (report[0] if report else None,)
    if _negated_action(view):
        report = _attribution(view)
        return report  # a negated action denies only when someone is quoted
    return None


def _near_claim_word(view: SentenceView, i: int) -> bool:
    return any(view.word(k) in _CLAIM_WORDS for k in range(i - 3, i + 5) if k != i)


def _denial_noun_speaker(view: SentenceView, i: int) -> _Range:
    """"denials from Moscow", "Russia's denial"."""
    if view.word(i + 1) in ("from", "by"):
        return _phrase_after(view, i + 2)
    if view.word(i - 1) in ("'s", "'"):
        return _phrase_before(view, i - 2)
    return None


def _negated_action(view: SentenceView) -> bool:
    for i, w in enumerate(view.words):
        if w in _NEGATIONS:
            k = i + 1
            while view.word(k) in _NEGATION_AUX:
                k += 1
            if view.word(k) in _NEGATED_ACTIONS:
                return True
    return False


def _has_phrase(view: SentenceView, phrases: dict[str, list[tuple[str, ...]]]) -> bool:
    """Whether a listed phrase occurs (not starting inside a date: "21 May have killed")."""
    words = view.words
    for i, w in enumerate(words):
        if view.ent[i] in _NON_NAME_LABELS:
            continue
        for phrase in phrases.get(w, ()):
            if tuple(words[i:i + len(phrase)]) == phrase:
                return True
    return False


def _attribution(view: SentenceView) -> tuple[_Range] | None:
    """(speaker,) of the first reporting cue that names one, (None,) if the
    cues name nobody, None if there is no reporting cue."""
    found = False
    for i, w in enumerate(view.words):
        if view.is_named(i):
            continue
        if w == "according" and view.word(i + 1) == "to":
            speaker = _as_speaker(view, _phrase_after(view, i + 2))
        elif w in ("quoting", "citing"):
            speaker = _as_speaker(view, _phrase_after(view, i + 1))
        elif _is_report_verb(view, i):
            speaker = _as_speaker(view, _speaker_of(view, i, invertible=w in _INVERTIBLE))
        else:
            continue
        found = True
        if speaker:
            return (speaker,)
    return (None,) if found else None


def _is_report_verb(view: SentenceView, i: int) -> bool:
    w = view.words[i]
    if w in _NOT_REPORTING and view.word(i + 1) in _NOT_REPORTING[w]:
        return False
    if w in _REPORT_VERBS:
        return view.word(i - 1) not in _ADJECTIVE_AFTER
    if w in _AMBIGUOUS_REPORT_VERBS:
        if w == "states" and view.word(i - 1) == "united":
            return False  # "Tags strike Syria United States Homs"
        if not view.word(i + 1)[:1].isalnum():
            return False  # last word: a noun ("... Local reports.")
        k = i - 1
        return view.is_named(k) or view.word(k) in _PRONOUNS or (
            k > 0 and view.tokens[k].text[:1].isupper() and view.words[k] not in _DETERMINERS)
    return False


def _speaker_of(view: SentenceView, v: int, invertible: bool) -> _Range:
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
    if invertible and (before is None or not (_has_name(view, before) and _is_speaker(view, before))):
        # Unpunctuated inversion (FA-KES): "killed 1102 people said the Observatory", "within a few hundred
        # metres of Tabaqa said observatory head Rami Abdel Rahman".
        after = _phrase_after(view, v + 1)
        if after and _has_name(view, after) and _ends_inversion(view, v, after) and _names_someone(view, after) and (
                view.word(v + 1) in _DETERMINERS or _is_name(view, v + 1) or _person_or_role(view, after)):
            return after
    return before


def _ends_inversion(view: SentenceView, v: int, after: tuple[int, int]) -> bool:
    """The inverted subject ``after`` verb v ends where an inverted subject
    does: the clause ends there, or an appositive begins after a name or a
    subject with its determiner ("said Jama Nayef a vet from Fuaa", "said the
    Observatory a British-based war monitoring group"; not "said Russian jets
    struck the towns")."""
    i, j = after
    if _ends_clause(view, j):
        return True
    return view.word(j) in _DETERMINERS and (view.word(v + 1) in _DETERMINERS or any(
        view.ent[k] in ("PERSON", "ORG") for k in range(i, j)))


def _person_or_role(view: SentenceView, span: tuple[int, int]) -> bool:
    """A person's name or a role noun as head: "said observatory head Rami
    Abdel Rahman" may start in lower case, "said destroying IS structures" not."""
    i, j = span
    return view.words[_head(view, span)] in _SOURCE_NOUNS or any(view.ent[k] == "PERSON" for k in range(i, j))


def _names_someone(view: SentenceView, span: tuple[int, int]) -> bool:
    """Stricter than ``_is_speaker``, for a subject read after its verb:
    a person, an organisation, an acronym or a role noun, not just a
    capitalised word (headlines capitalise every word)."""
    i, j = span
    return _is_speaker(view, span) and (
        view.words[_head(view, span)] in _SOURCE_NOUNS
        or any(view.ent[k] in ("PERSON", "ORG") or _is_acronym(view, k) for k in range(i, j)))


def _ends_clause(view: SentenceView, k: int) -> bool:
    """Token k can follow an inverted subject: "said the Observatory." / ",
    adding" / "on Sunday"; not "said Russia had warned"."""
    w = view.word(k)
    return (not w or not w[0].isalnum() or w in _REPORT_VERBS or w == "on" or w in _RELATIVES
            or view.ent[k] in ("DATE", "TIME"))


def _appositive_subject(view: SentenceView, comma: int) -> _Range:
    """"Abdurrazak Jubeiro, a civil defense official in Idlib, told" -> the
    name before the appositive; "Syria's news agency, SANA, reported" -> SANA."""
    k = comma - 1
    while k >= 0 and view.words[k] != "," and comma - k < 14:
        k -= 1
    if k >= 0 and view.words[k] == "," and (view.word(k + 1) in _DETERMINERS or view.word(k + 1) in _RELATIVES):
        return _phrase_before(view, k - 1)
    return _phrase_before(view, comma - 1)


def _is_name(view: SentenceView, k: int) -> bool:
    return view.is_named(k) or (0 <= k < view.n and view.tokens[k].text[:1].isupper()
                                and view.words[k] not in _TAG_WORDS)


def _is_acronym(view: SentenceView, k: int) -> bool:
    """"WHO", "NNA": all capitals, named or not (NER misses some after quotes)."""
    text = view.tokens[k].text
    return len(text) > 1 and text.isupper() and text.isalpha()


def _has_name(view: SentenceView, span: _Range) -> bool:
    """A named entity or a capitalised word other than the sentence's first."""
    return span is not None and any(view.is_named(k) or (k > 0 and _is_name(view, k)) for k in range(*span))


def _hyphen_glued(view: SentenceView, k: int) -> bool:
    return glued(view, k - 1, "-") or glued(view, k + 1, "-")


def _is_phrase_word(view: SentenceView, k: int) -> bool:
    w, label = view.words[k], view.ent[k]
    if label in ENTITY_LABELS or _is_acronym(view, k):
        return True
    if label in _NON_NAME_LABELS:
        return False
    if w in _PHRASE_GLUE:
        return True
    if w in _TAG_WORDS:
        return False
    if w in _PHRASE_STOP_WORDS or w in _CLAUSE_ADVERBS or w in _REPORT_VERBS or w in _DENIAL_VERBS or w in EVENTS:
        return False
    return w.replace("-", "").replace("'", "").isalpha()


def _phrase_before(view: SentenceView, end: int) -> _Range:
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
        if _listed_place(view, k):
            k = _entity_end(view, k) - 1  # "Tags Idlib Russia Syria Anti-government activists": the list ends here
            break
        k -= 1
    start = _drop_lowercase_lead(view, k + 1, end + 1)
    if not any(_is_name(view, m) or _is_acronym(view, m) for m in range(start, end + 1)):
        start = max(start, end - 2)  # no name: the head and two words before it ("local sources")
    return _trim(view, start, end + 1)


def _listed_place(view: SentenceView, k: int) -> bool:
    """Token k starts a place at the end of a list of names with no word
    between them: a tag list ("Tags Idlib Russia Syria Anti-government
    activists say") or three names or more; not "France Britain say"."""
    if not (view.ent[k] in _PLACE_LABELS and view.tokens[k].ent_iob_ == "B" and view.is_named(k - 1)):
        return False
    names, m = 1, k - 1
    while m >= 0 and view.is_named(m) and view.tokens[m].whitespace_ and k - m < 24:
        names += view.tokens[m].ent_iob_ == "B"
        m -= 1
    return names >= 3 or view.word(m) in _TAG_WORDS


def _entity_end(view: SentenceView, k: int) -> int:
    """Index after the named entity that starts at token k (at most
    ``_LONGEST_NAME`` tokens read: no place name is longer)."""
    j = k + 1
    while j < view.n and view.tokens[j].ent_iob_ == "I" and j - k < _LONGEST_NAME:
        j += 1
    return j


def _is_participle(view: SentenceView, k: int) -> bool:
    """A lower-case "-ed" word not hyphen-joined: a verb ending the subject
    ("demining started ... local sources said"), unlike "Western-backed"."""
    text = view.tokens[k].text
    return text.islower() and text.endswith("ed") and not _hyphen_glued(view, k) and not view.is_named(k)


def _drop_lowercase_lead(view: SentenceView, i: int, j: int) -> int:
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


def _scare_quote_start(view: SentenceView, k: int) -> int:
    """Index of the opening quote of a one- or two-word quote closing at k
    ("the White Helmets “aid” group"), else -1."""
    for size in (1, 2):
        q = k - size - 1
        if q > 0 and view.words[q] in _QUOTE_CHARS and all(
                view.words[m].isalpha() for m in range(q + 1, k)) and _is_phrase_word(view, q - 1):
            return q
    return -1


def _phrase_after(view: SentenceView, start: int) -> _Range:
    """The noun phrase starting at token ``start``, read rightwards; "a
    statement by X" gives X; a determiner after the first word starts an
    appositive and ends the phrase ("said Hisham Marwah the SNC's ...").

    "a statement by" restarts the phrase after "by" in a loop, not by
    recursion: "the statement by the statement by ..." must not overflow the
    stack, and each token is read once."""
    k = start
    while k < view.n and k - start < 14:
        w = view.words[k]
        if w in _DETERMINERS:
            if k > start and view.words[k - 1] not in ("of", "for"):
                break
        elif w in ("by", "from") and k > start and view.words[k - 1] in _STATEMENT_WORDS:
            start = k = k + 1  # "a statement by X": the phrase is X
            continue
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


def _new_nationality(view: SentenceView, k: int) -> bool:
    """Token k starts a NORP entity right after a different named entity."""
    return (view.ent[k] == "NORP" and view.tokens[k].ent_iob_ == "B" and view.is_named(k - 1)
            and view.ent[k - 1] != "NORP")


def _trim(view: SentenceView, i: int, j: int) -> _Range:
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


def _speaker_text(view: SentenceView, span: _Range) -> str | None:
    """The speaker as written, curly quotes folded, whitespace collapsed."""
    if span is None:
        return None
    start, end = view.char_span(*span)
    text = view.text[start:end]
    return " ".join(text.translate(FOLD_QUOTES).split())


# --- who may speak --------------------------------------------------------------------


def _as_speaker(view: SentenceView, span: _Range) -> _Range:
    """``span`` if it names a person or an organisation; else the phrase it
    modifies ("A medical source in Aleppo said" -> "medical source"; "The
    Observatory which relies on ... for its information said" ->
    "Observatory") or, after it, the phrase it is of ("a report in
    al-Monitor"); None when none of them does. Tag lists, places (but a
    country or a capital, which speak for their governments: "Damascus
    denied") and nouns that are no source ("people", "the city", "held area")
    never speak."""
    for _ in range(_SPEAKER_TRIES):
        if span is None or _is_speaker(view, span):
            return span
        span = _modified_phrase(view, span)
    return None


def _is_speaker(view: SentenceView, span: tuple[int, int]) -> bool:
    """The phrase names a person or an organisation, judged by its head (last
    word): a place there speaks only if it is a country or a capital; a
    role noun ("monitor", "sources") or a name speaks; a place noun, a bare
    document noun or another common noun does not."""
    i, j = span
    head = _head(view, span)
    if any(view.words[k] in _TAG_WORDS for k in range(i, j)):
        return False
    if view.is_named(head) and view.ent[head] in _PLACE_LABELS:
        k = head
        while k > i and view.tokens[k].ent_iob_ == "I":
            k -= 1
        if k > i and view.words[k - 1] in _SOURCE_NOUNS:
            return True  # "Lebanese TV channel Al-Mayadin": a place name given to an organisation
        # "human rights in Syria has previously said": where, not who
        return view.word(i - 1) not in _MODIFIER_WORDS and _place_speaks(view, k)
    word = view.words[head]
    if word in _SOURCE_NOUNS or (word in _DOCUMENT_NOUNS and j - i > 1):
        return True
    if word in _NOT_SPEAKERS or word in _DOCUMENT_NOUNS:
        return False
    if any(view.ent[k] in ("PERSON", "ORG") or _is_acronym(view, k) for k in range(i, j)):
        return True
    return view.ent[head] == "NORP" or view.tokens[head].text[:1].isupper()


def _head(view: SentenceView, span: tuple[int, int]) -> int:
    """The phrase's head: its last word, or the last before "of"/"for"
    ("director for the Middle East", "resident of the Baramkeh neighbourhood")."""
    i, j = span
    for k in range(i + 1, j):
        if view.words[k] in ("of", "for"):
            return k - 1
    return j - 1


def _place_speaks(view: SentenceView, k: int) -> bool:
    """A country or a capital speaks for its government ("Damascus denied");
    a town, a region or a base of the gazetteer does not, nor a region the
    model found."""
    start, end = view.char_span(k, _entity_end(view, k))
    place = place_in(view.text[start:end])
    if place is not None:
        return place.speaks
    return view.ent[k] != "LOC"


def _modified_phrase(view: SentenceView, span: tuple[int, int]) -> _Range:
    """The phrase a rejected speaker phrase belongs to: its part after its
    last place (FA-KES lost the comma between them), the person it stands
    in apposition to ("Doctor Ibrahim al-Assad a neurologist"), the noun a
    relative clause ending at it describes ("the monitor which relies on ...
    information"), the noun it follows as a modifier (after "in"/"at"/... or
    a participle: "residents contacted in the city"), or the name after it
    ("a report in al-Monitor")."""
    i, j = span
    after_place = _after_last_place(view, span)
    if after_place is not None and _is_speaker(view, after_place):
        return after_place  # commas lost: "in the strategic town of Khan Touman rebels said"
    k = i - 1
    while k >= 0 and (view.words[k] in _DETERMINERS or view.words[k] in ("'s", "'", "its", "their", "his", "her")):
        k -= 1
    if k < i - 1 and view.words[k + 1] in _DETERMINERS and view.is_named(k) and view.ent[k] == "PERSON":
        return _phrase_before(view, k)  # "Doctor Ibrahim al-Assad a neurologist in Saraqib said"
    candidates = [c for c in (_relative_antecedent(view, i), _modified_noun(view, i)) if c is not None]
    for good in (_names_someone, _is_speaker):  # a name first: "the Observatory which relies on a network
        for candidate in candidates:           # of sources in the country said", not "network of sources"
            if good(view, candidate):
                return candidate
    if candidates:
        return candidates[0]  # not a speaker yet: the next try reads on from it
    if view.word(j) in ("in", "by", "from", "of"):
        return _phrase_after(view, j + 1)
    return None


def _relative_antecedent(view: SentenceView, i: int) -> _Range:
    """The phrase before a "which"/"who" shortly before token i."""
    for r in range(i - 1, max(i - _RELATIVE_WINDOW, 0) - 1, -1):
        if view.words[r] in ("which", "who") and view.tokens[r].text.islower():
            before = r - 1
            while before >= 0 and view.words[before] in _DASHES:
                before -= 1
            return _phrase_before(view, before) if before >= 0 else None
    return None


def _modified_noun(view: SentenceView, i: int) -> _Range:
    """The phrase before the preposition or participle tying the phrase at
    token i to it ("residents contacted in the city")."""
    k = _modifier_before(view, i) - 1
    while k >= 0 and _is_modifier_participle(view, k):
        k -= 1
    return _phrase_before(view, k) if k >= 0 else None


def _modifier_before(view: SentenceView, i: int) -> int:
    """Index of the preposition or participle that ties the phrase starting
    at token i to a noun before it, looking past the phrase's own
    determiner and adjectives ("workers in the rebel-held area"), else -1."""
    for k in range(i - 1, max(i - _MODIFIER_WINDOW, 0) - 1, -1):
        w = view.words[k]
        if w in _MODIFIER_WORDS or _is_modifier_participle(view, k):
            return k
        if not (w in _DETERMINERS or w in ("'s", "'", "-", "its", "their", "his", "her") or (
                view.tokens[k].text.islower() and w.isalpha() and w not in _REPORT_VERBS)):
            return -1
    return -1


def _after_last_place(view: SentenceView, span: tuple[int, int]) -> _Range:
    """The words of the phrase after its last place, if any follow it."""
    i, j = span
    last = max((k for k in range(i, j) if view.ent[k] in _PLACE_LABELS), default=None)
    if last is None or last == j - 1:
        return None
    return _trim(view, last + 1, j)


def _is_modifier_participle(view: SentenceView, k: int) -> bool:
    """"contacted", "based", "living", "monitoring": a lower-case participle
    that ties the phrase after it to the noun before it."""
    text = view.tokens[k].text
    return text.islower() and (text.endswith("ing") or text.endswith("ed")) and len(text) > 4 and (
        view.words[k] not in _REPORT_VERBS)
