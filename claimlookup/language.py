"""Is a text English? A cheap guard for claims, not a language identifier.

The models (spaCy ``en_core_web_sm``, the MiniLM embedder and the relation
model) are English; a French claim is not refused by them but misread: "Un
avion russe a bombardé ..." names "Un" as the United Nations and finds
nothing. So a claim is refused (API 422) when it is clearly in another
language, by two signs that need no model:

- **script**: more than half of its letters are outside the Latin script
  (Arabic, Cyrillic, Greek, Hebrew, CJK, Devanagari, ...);
- **function words**: at least ``MIN_FOREIGN_WORDS`` of its words are common
  function words of one of French, Spanish, Portuguese, Italian, German or
  Dutch, and more of them than of English function words. The lists below
  hold only words that are not also English words ("die", "war", "was",
  "in", "a", "on", "per", "do" are left out; a hyphenated name is one word,
  so "Kim Jong-Un" has no "un"), so names and borrowings in an
  English claim ("de Mistura", "Los Angeles") stay under the bar.

Measured on the tests' cases (tests/test_language.py); a claim with no
function words at all ("Russian jets bombed Idlib market") reads as English.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Fewest foreign function words for a text to read as that language.
MIN_FOREIGN_WORDS = 2
#: Share of letters outside the Latin script above which a text is not English.
MAX_NON_LATIN_SHARE = 0.5

_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "French": frozenset("""de se le la les des du un une et est sont dans pour qui que sur avec au aux par ont pas ne
        il elle ils elles ce cette ces selon été leur leurs nous vous mais ou où plus très entre aussi
        après avant contre sans sous chez lors""".split()),
    "Spanish": frozenset("""un de se contra el los las del y una por para con que fue según han es está
        están pero como más muy entre sin sobre también tras hasta desde sus ha hay""".split()),
    "Portuguese": frozenset("""um de se os da das dos em não uma foram é são pelo pela pelos pelas segundo mais
        também foi entre sem sobre até desde seus suas""".split()),
    "Italian": frozenset("""un il lo gli della delle dei degli di è non che una sono stato stata secondo
        anche nel nella nei alle dal dalla tra senza sulla""".split()),
    "German": frozenset("""der das und ist nicht ein eine von mit dem auf im zu wurde sind des sich auch
        nach bei einer eines wurden oder aber laut über gegen""".split()),
    "Dutch": frozenset("""het een van en niet zijn werd werden met voor op bij naar volgens ook maar
        tegen zij ze deze""".split()),
}
#: English function words, for the comparison (a few dozen suffice).
_ENGLISH = frozenset("""the a an of to and in on at by for with from that this these those is are was were
    be been has have had it its he she they their his her not but or as said says after before against
    into about over under who which what when where while would will could should""".split())
#: A word: letters, with inner hyphens and apostrophes ("Jong-Un" is one word, not "un").
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    english: bool
    language: str | None  # the other language or script, when not English
    reason: str


def _script(ch: str) -> str:
    """The script of a letter from its Unicode name ("LATIN SMALL LETTER A")."""
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else ""


_SCRIPT_NAMES = {"ARABIC": "Arabic", "CYRILLIC": "Cyrillic (e.g. Russian)", "GREEK": "Greek",
                 "HEBREW": "Hebrew", "CJK": "Chinese or Japanese", "HIRAGANA": "Japanese",
                 "KATAKANA": "Japanese", "HANGUL": "Korean", "DEVANAGARI": "Hindi or another Indian language",
                 "THAI": "Thai", "PERSIAN": "Persian"}


def guess(text: str) -> LanguageGuess:
    """Whether ``text`` reads as English, by script and function words."""
    letters = [ch for ch in text if ch.isalpha()]
    if letters:
        scripts: dict[str, int] = {}
        for ch in letters:
            script = _script(ch)
            scripts[script] = scripts.get(script, 0) + 1
        other = {s: n for s, n in scripts.items() if s != "LATIN"}
        if sum(other.values()) > MAX_NON_LATIN_SHARE * len(letters):
            top = max(other, key=lambda s: other[s])
            name = _SCRIPT_NAMES.get(top, top.title() + " script")
            return LanguageGuess(False, name, f"most of its letters are in {name} script, not Latin")
    words = [w.lower() for w in _WORD.findall(text)]
    english = sum(w in _ENGLISH for w in words)
    counts = {lang: sum(w in vocab for w in words) for lang, vocab in _FUNCTION_WORDS.items()}
    lang = max(counts, key=lambda k: counts[k])
    if counts[lang] >= MIN_FOREIGN_WORDS and counts[lang] > english:
        return LanguageGuess(False, lang, f"{counts[lang]} of its words are {lang} function words "
                                          f"and {english} English ones")
    return LanguageGuess(True, None, "")
