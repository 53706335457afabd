"""Store contract, the claim lookup end to end: every store must give the same
reports with the same scores."""

from __future__ import annotations

import numpy as np

from claimlookup import lookup, nlp
from claimlookup.model import EntityMention, Filters
from claimlookup.store import Store

from .base import ContractBase
from .fixtures import MAARET, MARKET_AXIS, MARKET_BBC, MARKET_REUTERS, RUSSIAN, killed, unit


class LookupContract(ContractBase):
    """The whole claim lookup on this store ranks the same reports with the
    same scores as on every other store. Needs the candidate methods and
    ``get_article``."""

    def test_lookup_ranks_the_same_reports_on_every_store(self, loaded: Store) -> None:
        """The whole lookup after the claim's analysis (candidates from this
        store, features, both scoring stages, grouping, annotations): every
        adapter must give the same reports in the same order with the same
        scores, since the stores only propose candidates and return sentences.
        The claim is the fixture's own facts (no spaCy, no embedder): the
        Reuters market report's words, figure and entities, and a vector along
        the axis both market reports share."""
        text = "Russian jets struck a vegetable market in Maaret al-Numan, killing 20 people"
        entities = [EntityMention(name, label, key, text.index(name), text.index(name) + len(name))
                    for name, label, key in (RUSSIAN, MAARET)]
        claim = lookup._prepared(text, [], entities, [killed(20, "20 people")], nlp.key_terms(text),
                                 unit((MARKET_AXIS, 1.0))[None, :])
        candidates = lookup.score(lookup.candidate_sets(loaded, [claim], Filters())[0])
        reports = lookup.reports_for(candidates, limit=5)
        ids = [r.article_id for r in reports]
        assert ids[:2] == [MARKET_REUTERS, MARKET_BBC], [(r.article_id, r.score) for r in reports]
        reuters, bbc = reports[0], reports[1]
        assert reuters.score > 0.5 > max((r.score for r in reports[2:]), default=0.0)
        assert reuters.missing_entities == [] and bbc.missing_entities == []
        same = [(qa.quantity.value, qa.agreement.value) for s in reuters.sentences for qa in s.quantities]
        assert (20.0, "same") in same
        other = [(qa.quantity.value, qa.agreement.value) for s in bbc.sentences for qa in s.quantities]
        assert (23.0, "different") in other
        # Everything the lookup computed comes from the store's answers: the same
        # candidate set scores identically when computed again.
        again = lookup.score(lookup.candidate_sets(loaded, [claim], Filters())[0])
        np.testing.assert_allclose(again.article_scores, candidates.article_scores)
