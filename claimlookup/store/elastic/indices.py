"""The index layout: the two indices a store uses, their versioned names
behind aliases, the checked-in mapping (``claimlookup/store/es-mapping.json``)
and the alias swap that makes a rebuild atomic. Also the two JSON shapes every
module of this package exchanges with the cluster (``Body``, ``Response``).

Layout: two indices per store, each a versioned concrete index behind an
alias (``{prefix}-articles`` -> ``{prefix}-articles-v1-<stamp>``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: A request body (or bulk action) this package builds.
Body = dict[str, Any]
#: A response body the cluster sent.
Response = Mapping[str, Any]

#: The mapping stays next to the store package (package data ``store/*.json``).
MAPPING_PATH = Path(__file__).resolve().parent.parent / "es-mapping.json"
KINDS = ("articles", "sentences")


@dataclass(frozen=True, slots=True)
class IndexNames:
    """The two indices (or aliases) a store reads and writes."""

    articles: str
    sentences: str

    def all(self) -> list[str]:
        return [self.articles, self.sentences]


@functools.lru_cache(maxsize=1)
def load_mapping() -> Mapping[str, Any]:
    """The checked-in settings and mappings (``es-mapping.json``)."""
    return json.loads(MAPPING_PATH.read_text(encoding="utf-8"))


def alias_names(prefix: str) -> IndexNames:
    """The aliases readers and writers use: ``{prefix}-articles`` and ``{prefix}-sentences``."""
    return IndexNames(f"{prefix}-articles", f"{prefix}-sentences")


def versioned_names(prefix: str, version: int, stamp: str) -> IndexNames:
    """Concrete index names: ``{prefix}-{kind}-v{version}-{stamp}``."""
    return IndexNames(f"{prefix}-articles-v{version}-{stamp}", f"{prefix}-sentences-v{version}-{stamp}")


def timestamp(now: datetime | None = None) -> str:
    """A sortable, index-name-safe UTC stamp (microseconds, so rebuilds never collide)."""
    return (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S%f")


def index_body(mapping: Mapping[str, Any], kind: str, alias: str | None = None, *,
               index: Mapping[str, Any] | None = None, vector_index_type: str | None = None) -> Body:
    """The create-index body for ``kind`` (articles | sentences), optionally with
    its alias, ``index`` settings added to the mapping's (shards, replicas...)
    and another ``index_options.type`` for the sentence vector."""
    settings = {**mapping["settings"], "index": {**mapping["settings"].get("index", {}), **(index or {})}}
    mappings = mapping["mappings"][kind]
    if vector_index_type and "vector" in mappings["properties"]:
        vector = mappings["properties"]["vector"]
        mappings = {**mappings, "properties": {**mappings["properties"], "vector": {
            **vector, "index_options": {**vector.get("index_options", {}), "type": vector_index_type}}}}
    body: Body = {"settings": settings, "mappings": mappings}
    if alias:
        body["aliases"] = {alias: {}}
    return body


def alias_swap_actions(new: IndexNames, aliases: IndexNames, old_indices: Sequence[str]) -> list[Body]:
    """One atomic ``update_aliases`` call: point both aliases at the new
    indices and delete the old ones (which drops their aliases with them)."""
    actions: list[Body] = [
        {"add": {"index": new.articles, "alias": aliases.articles}},
        {"add": {"index": new.sentences, "alias": aliases.sentences}},
    ]
    actions.extend({"remove_index": {"index": name}} for name in sorted(old_indices))
    return actions


def parse_alias_indices(resp: Response) -> list[str]:
    """Concrete indices named in a get-alias response."""
    return sorted(resp)
