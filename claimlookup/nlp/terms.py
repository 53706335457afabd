"""Word lists for lexical queries: ``key_terms`` and what it keeps or drops.

``key_terms`` gives the content words of a claim or query (the term regex,
spaCy's English stop list, number words and acronyms kept). It needs no
model: a regex and a stop list, microseconds per claim, so the lookup can
check a claim's length before spaCy runs.
"""

from __future__ import annotations

import re

from spacy.lang.en.stop_words import STOP_WORDS

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

