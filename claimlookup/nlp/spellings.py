"""One entity across spellings: transliterated Arabic and Russian names,
acronyms and known aliases mapped to one canonical key.

Precision first. A spelling fold (``spelling_fold``) erases the differences
that English transliterations of one Arabic or Russian name show (vowels,
``al-``/``el-``/``ez-`` articles, ``ou``/``oo``/``u``, ``ee``/``i``,
``ei``/``ay``/``ai``, apostrophes for ayn and hamza, hyphens, doubled
letters, a final ``-ah``/``-eh``), but a fold alone merges nothing: a mention
changes key only when its fold equals the fold of a name in ``ENTITY_GROUPS``,
a hand-checked table of entities with several spellings in the corpus. Any
other entity keeps the key ``entity_key`` always gave it. Acronyms map only
when written in capitals ("SOHR", "U.N."), so the French word "un" or the
Arabic name "Saa" stay themselves.

Pure Python, no spaCy; ``tests/test_entity_merges.py`` checks the table against
the gold pairs in ``tests/data/entity-merges.jsonl``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

#: Canonical key first, then spellings the fold does not reach by itself.
#: Every spelling (canonical included) is folded; its fold maps to the
#: canonical key. Spellings are written as a reporter would (hyphens, "al-").
ENTITY_GROUPS: tuple[tuple[str, ...], ...] = (
    # places
    ("khan sheikhoun", "Khan Shaykun"),
    ("maaret al numan", "Maaret al-Nouman", "Maara al-Numan", "Maaret Alnouman", "Maarat al-Numaan",
     "Ma'arrat al-Nu'man", "Maarat al-Noman"),
    ("maaret masrin", "Maarrat Masrin", "Maarat Misrin"),
    ("deir ezzor", "Deir ez-Zor", "Deir al-Zor", "Deir Ezour", "Deir el-Zour", "Deir az-Zour", "Deir al-Zour",
     "Deir Ezzor", "Dayr az-Zawr"),
    ("jisr al shughour", "Jisr al-Shaghour", "Jisr al-Shigour", "Jisr al-Shughur"),
    ("latakia", "Lattakia", "Latakiya", "Lattakiya"),
    ("hasakah", "Hasaka", "Hassakeh", "Al-Hasakah", "Hasakeh", "Hassakah", "Al-Hasakeh"),
    ("kobani", "Kobane"),
    ("manbij", "Menbij"),
    ("saraqeb", "Saraqib"),
    ("jarablus", "Jarabulus"),
    ("hmeimim", "Hmeymim", "Khmeimim", "Humaymim"),
    ("abu kamal", "Albu Kamal", "Al-Bukamal", "Boukamal", "Bukamal"),
    ("daraa", "Deraa", "Dara'a", "Deraa"),
    ("raqqa", "Raqqah", "Al-Raqqa", "Ar-Raqqah"),
    ("hama", "Hamah"),
    ("sheikh maqsoud", "Sheikh Maqsood", "Sheikh Maksoud"),
    ("azaz", "Aazaz", "A'zaz"),
    ("erbin", "Arbin"),
    ("houla", "Al-Houla", "Hula"),
    ("al hamadaniyeh", "Al-Hamadaniye", "Al-Hamadaniya"),
    ("daraya", "Darayya"),
    ("eastern ghouta", "East Ghouta"),
    # organisations
    ("syrian observatory for human rights", "Syrian Observatory", "Observatory", "Observatorys",
     "Observatory for Human Rights", "London-based Syrian Observatory for Human Rights",
     "Syrian Obervatory for Human Rights", "Syrian Observatory for Human"),
    ("hayat tahrir al sham", "Tahrir al-Sham", "Hay'at Tahrir al-Sham", "Hayat Tahreer al-Sham"),
    ("jabhat fateh al sham", "Jabhat Fatah al-Sham", "Fateh al-Sham", "Jabhat Fath al-Sham"),
    ("al nusra front", "Nusra Front", "Al-Nusra", "Jabhat al-Nusra", "Nusra", "Al-Nusrah Front"),
    ("al qaeda", "Al-Qaida", "Qaeda", "Al Qa'ida", "Qaida"),
    ("kurdish peoples protection units", "People's Protection Units"),
    ("national defence forces", "National Defense Forces"),
    ("united nations security council", "UN Security Council", "U.N. Security Council"),
    # people
    ("bashar al assad", "Bashar Assad", "Bashar al-Asad"),
    ("rami abdel rahman", "Rami Abdulrahman", "Rami Abdul Rahman", "Rami Abdel-Rahman"),
    ("sergei rudskoi", "Sergei Rudskoy", "Sergey Rudskoy", "Sergey Rudskoi"),
    ("sergei lavrov", "Sergey Lavrov"),
    ("sergei shoigu", "Sergey Shoigu", "Sergei Shoygu"),
    ("dmitry peskov", "Dmitri Peskov"),
    ("walid al muallem", "Walid Muallem", "Walid al-Moallem", "Walid al-Moualem", "Walid Moualem"),
)

#: Acronyms, matched only when the mention is written in capitals (dots
#: dropped: "U.N." is "UN"). Long forms are keys of the corpus.
ACRONYMS: dict[str, str] = {
    "SOHR": "syrian observatory for human rights", "UN": "united nations", "SAA": "syrian arab army",
    "HTS": "hayat tahrir al sham", "SDF": "syrian democratic forces", "FSA": "free syrian army",
    "YPG": "kurdish peoples protection units", "SANA": "syrian arab news agency",
    "SARC": "syrian arab red crescent", "SNHR": "syrian network for human rights", "HRW": "human rights watch",
    "NDF": "national defence forces", "PYD": "democratic union party", "PKK": "kurdistan workers party",
    "ICRC": "international committee of the red cross", "UNSC": "united nations security council",
}

#: Names whose fold collides with a group's but that name someone else: a
#: mention containing one keeps its own key. As'ad / Asaad (with an ayn) is
#: not al-Asad.
KEEP_APART = re.compile(r"\bas(?:a|'|\s)ad\b")

_MARKS = re.compile(r"[\u02b0-\u02ff]")  # modifier letters: ʿ ʾ ʼ (ayn, hamza)
_INNER_APOSTROPHE = re.compile(r"(?<=[^\W\d_])'(?=[^\W\d_])")
_HYPHEN_ARTICLE = re.compile(r"\b(?:a[dlnrstz]|e[dlnrstz]|ash|esh|adh|ath)-(?=\w)")
_ARTICLES = frozenset({"al", "el", "ez", "az", "ad", "ed", "ash", "esh", "ar", "er", "adh", "ath"})
_LEADING_THE = re.compile(r"^(?:the\s+)+")
_NON_LETTER = re.compile(r"[^\w\s]+|_")
_VOWEL_RULES = (
    (re.compile(r"ou|oo"), "u"), (re.compile(r"ee"), "i"),
    (re.compile(r"[ae][iy](?![aeiou])|ei"), "ai"),  # Sheikh, Shaykh, Shaikh; not "ay" before a vowel (Hayat)
    (re.compile(r"(?<=[a-z])[ae]h$"), "a"),  # final -ah / -eh: Hamah, Raqqah, Hasakeh
    (re.compile(r"(?<=[a-z])e(?=t$)"), "a"),  # final -et: Maaret
    (re.compile(r"e"), "a"), (re.compile(r"o"), "u"),
    (re.compile(r"([a-z])\1+"), r"\1"),  # doubled letters, after the vowel rules (Maarrat)
)


def spelling_fold(text: str) -> str:
    """The name with transliteration differences erased: "Ma'arrat al-Nu'man",
    "Maaret al-Numan" and "Maarat al-Nouman" all give "marat numan". Only a
    lookup key: never shown, never stored."""
    fold = unicodedata.normalize("NFKD", text.translate(_QUOTES).lower())
    fold = "".join(c for c in fold if not unicodedata.combining(c))
    fold = _INNER_APOSTROPHE.sub("", _MARKS.sub("", re.sub(r"'s\b", "", fold)))
    fold = _HYPHEN_ARTICLE.sub("", fold)
    words = _NON_LETTER.sub(" ", fold).split()
    words = [w for i, w in enumerate(words) if not (w in _ARTICLES and i + 1 < len(words))]
    fold = _LEADING_THE.sub("", " ".join(words))
    words = []
    for word in fold.split():
        for pattern, replacement in _VOWEL_RULES:
            word = pattern.sub(replacement, word)
        words.append(word)
    return " ".join(words)


_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})


def _canonical_by_fold() -> dict[str, str]:
    table: dict[str, str] = {}
    for canonical, *spellings in ENTITY_GROUPS:
        for spelling in (canonical, *spellings):
            fold = spelling_fold(spelling)
            if table.setdefault(fold, canonical) != canonical:
                raise ValueError(f"{spelling!r} folds like another group's name ({table[fold]!r})")
    return table


_BY_FOLD = _canonical_by_fold()

#: Changes whenever the table, the acronyms or the fold rules change: a store
#: whose entity keys were written under another version re-keys them.
ENTITY_KEYS_VERSION = hashlib.sha256(
    repr((ENTITY_GROUPS, sorted(ACRONYMS.items()), KEEP_APART.pattern,
          [(p.pattern, r) for p, r in _VOWEL_RULES])).encode()).hexdigest()[:16]


def canonical_key(key: str, text: str | None = None) -> str:
    """The canonical key of an entity whose normalised key is ``key`` (and,
    when known, whose mention is written ``text``), or ``key`` itself when it
    has no known variants."""
    if KEEP_APART.search(key if text is None else text.translate(_QUOTES).lower()):
        return key
    if text is not None:
        acronym = text.replace(".", "").strip()
        if acronym in ACRONYMS:
            return ACRONYMS[acronym]
    elif key.upper() in ACRONYMS:
        return ACRONYMS[key.upper()]
    return _BY_FOLD.get(spelling_fold(text if text is not None else key), key)


def spellings_of(key: str) -> list[str]:
    """The spellings the table lists for a canonical key (its acronyms
    included), in table order; [] for a key without listed variants."""
    for canonical, *spellings in ENTITY_GROUPS:
        if canonical == key:
            return [*spellings, *(a for a, long in ACRONYMS.items() if long == key)]
    return [a for a, long in ACRONYMS.items() if long == key]
