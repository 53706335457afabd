"""The store contract: the behaviour ``claimlookup.store.base.Store`` documents,
written once. An adapter's test module subclasses ``StoreContract`` and
supplies a ``store`` fixture: an empty, set-up store that is closed afterwards.

Everything here goes through the protocol only, so the same tests run against
SQLite and Elasticsearch. Corpus facts live in ``fixtures.py``.

The tests are grouped by area, one mixin per module, so that a new adapter can
adopt the contract piece by piece (each mixin says which ``Store`` methods
it needs) and subclass ``StoreContract`` once it has them all:

==============================  ==============================================
``LifecycleContract``           setup, ping, close
``WritesContract``              write outcomes, content hashes, get_article
``SearchContract``              search syntax, levels, snippets, filters,
                                sort, paging, facets
``CatalogueContract``           entities, sources
``CandidatesContract``          lexical and vector candidates, get_sentences
``LookupContract``              the whole claim lookup ranks alike
``RebuildContract``             rebuild()
``ConsistencyContract``         every role sees each write and delete
==============================  ==============================================
"""

from __future__ import annotations

from .base import ContractBase
from .candidates import CandidatesContract
from .catalogue import CatalogueContract
from .consistency import ConsistencyContract
from .lifecycle import LifecycleContract
from .lookup import LookupContract
from .rebuild import RebuildContract
from .search import SearchContract
from .writes import WritesContract

__all__ = [
    "CandidatesContract",
    "CatalogueContract",
    "ConsistencyContract",
    "ContractBase",
    "LifecycleContract",
    "LookupContract",
    "RebuildContract",
    "SearchContract",
    "StoreContract",
    "WritesContract",
]


class StoreContract(LifecycleContract, WritesContract, SearchContract, CatalogueContract, CandidatesContract,
                    LookupContract, RebuildContract, ConsistencyContract):
    """The whole contract. Subclass and provide ``store`` (empty, set up)."""
