"""spaCy analysis of news text: sentences, entities, figures, stance and speaker.

This is the only package that imports spaCy. Its modules:

- ``pipeline``: the model (``get_nlp``), our two spaCy components and the entry
  points ``analyse_articles``, ``analyse_text`` and ``analyse_claim``;
- ``facts``: the token view the rules read (``SentenceView``) and the typed
  per-sentence facts the last component produces (``SentenceFacts``,
  ``EntityFact``, ``FigureFact``);
- ``entities``: ``ENTITY_LABELS`` and ``entity_key`` (normalised keys, aliases);
- ``spellings``: one entity across spellings (``canonical_key``, ``spellings_of``,
  the hand-checked ``ENTITY_GROUPS`` and ``ACRONYMS``);
- ``figures``: the number readers, counted nouns and events (``COUNTED``,
  ``EVENTS``), "including" groups and lists;
- ``scope``: cumulative tolls ("since 2011", "the war has killed"), read by
  ``figures``;
- ``stance``: frame (stance) and speaker from denial and attribution cues;
- ``terms``: ``key_terms`` for lexical queries (term regex, stop words).

Everything other code uses is importable from ``claimlookup.nlp`` itself.
Importing the package registers the spaCy components once (in ``pipeline``),
before ``get_nlp()`` can build the pipeline. docs/nlp.md documents every rule
and the measured speed.
"""

from __future__ import annotations

from claimlookup.nlp.entities import ENTITY_LABELS, entity_key
from claimlookup.nlp.facts import EntityFact, FigureFact, SentenceFacts
from claimlookup.nlp.figures import COUNTED, EVENTS
from claimlookup.nlp.pipeline import (
    EXCLUDED_PIPES,
    MODEL,
    ClaimAnalysis,
    analyse_articles,
    analyse_claim,
    analyse_text,
    get_nlp,
)
from claimlookup.nlp.spellings import (
    ACRONYMS,
    ENTITY_GROUPS,
    ENTITY_KEYS_VERSION,
    canonical_key,
    spelling_fold,
    spellings_of,
)
from claimlookup.nlp.terms import key_terms

__all__ = [
    "ACRONYMS",
    "ENTITY_GROUPS",
    "ENTITY_KEYS_VERSION",
    "COUNTED",
    "ENTITY_LABELS",
    "EVENTS",
    "EXCLUDED_PIPES",
    "MODEL",
    "ClaimAnalysis",
    "EntityFact",
    "FigureFact",
    "SentenceFacts",
    "analyse_articles",
    "analyse_claim",
    "analyse_text",
    "canonical_key",
    "entity_key",
    "get_nlp",
    "key_terms",
    "spelling_fold",
    "spellings_of",
]
