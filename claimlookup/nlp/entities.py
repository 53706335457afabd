"""Entity identity: which spaCy labels are entities, and their normalised keys.

``entity_key`` turns a mention as written ("the U.S.", "Daesh's") into the key
used for matching and facets ("united states", "islamic state"): case, quotes,
punctuation, leading articles and possessives are folded, and a short alias
table maps common variants of places and organisations to one name. Pure
Python; the pipeline (``claimlookup.nlp.pipeline``) applies it to the
entities spaCy's ``ner`` finds.
"""

from __future__ import annotations

import re

from claimlookup.nlp.spellings import canonical_key

#: Entity types kept as EntityMention. Figures and dates are not entities here
#: (numbers become Quantity); WORK_OF_ART and LANGUAGE are too noisy in the small
#: model on news text to be worth a facet.
ENTITY_LABELS = frozenset({"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "LAW"})

#: Curly and typographic quotes folded to straight ones (keys and speakers).
FOLD_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "`": "'", "´": "'"})
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
    Last, for every type (NER often tags places as people), a spelling of an
    entity in ``spellings.ENTITY_GROUPS`` or an acronym in capitals gives that
    entity's canonical key ("Khan Shaykhun" -> "khan sheikhoun", "SAA" ->
    "syrian arab army"); any other key is left as it is.
    """
    key = text.translate(FOLD_QUOTES).lower().strip()
    key = _POSSESSIVE.sub("", key)
    key = key.replace("-", " ")
    key = _NON_WORD.sub(lambda m: "" if m.group() == "." else " ", key)
    key = " ".join(key.split())
    key = _LEADING.sub("", key)
    if label in _ALIAS_LABELS:
        key = _ALIASES.get(key, key)
    return canonical_key(key, text)

