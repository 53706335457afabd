"""Documents and their ids: what a write sends to Elasticsearch, in batches.

The article document is the commit marker: its ``content_hash`` names the
committed *generation*. Sentence documents carry their article's content hash
in their ids (``{article}:{generation}:{position}``), so a write indexes the
new generation, then the article document, then deletes the other
generations by id (``stale_sentence_actions``). What a failed write leaves
is deleted by id (``uncommitted_sentence_actions``); what a crash leaves is
found by the sweep's composite aggregation (``build_generations_body``) and
deleted by (article, generation) pair (``build_generations_cleanup_body``);
``build_cleanup_body`` serves ``ElasticStore.remove_leftovers``. Details:
``docs/store-elastic.md``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np

from claimlookup.model import Article, Sentence
from claimlookup.store.common import LEAD_CHARS, require_sentences
from claimlookup.store.elastic.indices import Body

WRITE_BATCH = 100  # articles per batch: one mget, three bulk phases, one refresh
SWEEP_PAGE = 1000  # (article, generation) pairs per page of the sweep's composite aggregation
# (article, generation) pairs per delete-by-query of the sweep: two leaf queries each, well under
# the 1,024 leaf clauses Elasticsearch 8+ allows a query on its smallest nodes (more with more heap)
SWEEP_DELETE_PAIRS = 250
MAX_ID_BYTES = 400  # Elasticsearch caps _id at 512 bytes; longer article ids are hashed
GENERATION_CHARS = 16


# --- ids -------------------------------------------------------------------------


def article_doc_id(article_id: str) -> str:
    """The article document's ``_id``: the article id, hashed if too long for ES."""
    if len(article_id.encode("utf-8")) <= MAX_ID_BYTES:
        return article_id
    return "sha256:" + hashlib.sha256(article_id.encode("utf-8")).hexdigest()


def generation(content_hash: str) -> str:
    return content_hash[:GENERATION_CHARS]


def sentence_id(article_id: str, content_hash: str, position: int) -> str:
    """``{article}:{generation}:{position}``: each content version gets its own ids."""
    return f"{article_doc_id(article_id)}:{generation(content_hash)}:{position}"


def sentence_ref_key(article_id: str, position: int) -> str:
    """The generation-free ``ref`` field, for restricting queries to given sentences."""
    return f"{article_id}:{position}"


# --- documents -------------------------------------------------------------------


def entity_summary(article: Article) -> list[Body]:
    """One entry per distinct entity key: its most frequent name and label."""
    names: dict[str, Counter[str]] = {}
    labels: dict[str, Counter[str]] = {}
    for mention in article.entities:
        names.setdefault(mention.key, Counter())[mention.text] += 1
        labels.setdefault(mention.key, Counter())[mention.label] += 1
    return [{"key": key, "label": labels[key].most_common(1)[0][0], "name": counts.most_common(1)[0][0]}
            for key, counts in names.items()]


def article_document(article: Article, posted: bool = False) -> Body:
    """``posted``: written through the API (``write_articles(posted=True)``),
    carried into a rebuild's new indices (``ElasticStore.rebuild``)."""
    return {
        "article_id": article.id,
        "title": article.title,
        "body": article.body,
        "lead": " ".join(article.body.split())[:2 * LEAD_CHARS],
        "source": article.source,
        "url": article.url,
        "published": article.published.isoformat() if article.published else None,
        "language": article.language,
        "content_hash": article.content_hash,
        "posted": posted,
        "positions": [s.position for s in article.sentences],
        "entities": entity_summary(article),
    }


def sentence_document(article: Article, sentence: Sentence, entity_keys: list[str], content_hash: str) -> Body:
    doc: Body = {
        "ref": sentence_ref_key(article.id, sentence.position),
        "article_id": article.id,
        "article_hash": content_hash,
        "position": sentence.position,
        "text": sentence.text,
        "start": sentence.start,
        "end": sentence.end,
        "stance": sentence.stance.value,
        "speaker": sentence.speaker,
        "entities": [{"key": e.key, "label": e.label, "name": e.text, "start": e.start, "end": e.end}
                     for e in sentence.entities],
        "quantities": [{"value": q.value, "text": q.text, "counts": q.counts, "event": q.event,
                        "qualifier": q.qualifier, "scope": q.scope, "start": q.start, "end": q.end}
                       for q in sentence.quantities],
        "article_entities": entity_keys,
        "title": article.title,
        "source": article.source,
        "url": article.url,
        "published": article.published.isoformat() if article.published else None,
    }
    if sentence.vector is not None:
        doc["vector"] = np.asarray(sentence.vector, dtype=np.float32).tolist()
    return doc


# --- bulk actions and deletes ------------------------------------------------------


def sentence_actions(article: Article, index: str) -> Iterator[Body]:
    """Bulk actions indexing the article's sentences under its new generation."""
    content_hash = article.content_hash
    keys = sorted({e.key for e in article.entities})
    for sentence in article.sentences:
        yield {"_op_type": "index", "_index": index,
               "_id": sentence_id(article.id, content_hash, sentence.position),
               "_source": sentence_document(article, sentence, keys, content_hash)}


def article_action(article: Article, index: str, posted: bool = False) -> Body:
    """The bulk action writing the article document: the commit marker."""
    return {"_op_type": "index", "_index": index, "_id": article_doc_id(article.id),
            "_source": article_document(article, posted)}


def stale_sentence_actions(article: Article, committed_hash: str, committed_positions: Sequence[int],
                           index: str) -> Iterator[Body]:
    """Bulk deletes of the sentences of the generation ``article`` replaces
    (their ids are known exactly from the old article document)."""
    if generation(committed_hash) == generation(article.content_hash):
        return
    for position in committed_positions:
        yield {"_op_type": "delete", "_index": index, "_id": sentence_id(article.id, committed_hash, position)}


def uncommitted_sentence_actions(articles: Iterable[Article], committed: Mapping[str, str],
                                 index: str) -> Iterator[Body]:
    """Bulk deletes of the sentences a failed write of ``articles`` indexed,
    for each article whose document does not name its new generation
    (``committed``: article id -> committed content hash, re-read after the
    failure). Exact ids of the new generation only: another generation (the
    committed one, a concurrent writer's) is never touched."""
    for article in articles:
        if generation(committed.get(article.id, "")) == generation(article.content_hash):
            continue  # committed after all (or by a writer of the same content): these are live sentences
        for sentence in article.sentences:
            yield {"_op_type": "delete", "_index": index,
                   "_id": sentence_id(article.id, article.content_hash, sentence.position)}


def build_generations_body(after: Mapping[str, object] | None = None, size: int = SWEEP_PAGE) -> Body:
    """One page of the sweep: every distinct (``article_id``, ``article_hash``)
    pair of the sentences index, in key order (a ``composite`` aggregation, no
    hits); ``after`` is the previous page's ``after_key``."""
    composite: Body = {"size": size, "sources": [{"article_id": {"terms": {"field": "article_id"}}},
                                                 {"article_hash": {"terms": {"field": "article_hash"}}}]}
    if after:
        composite["after"] = dict(after)
    return {"size": 0, "track_total_hits": False, "aggs": {"generations": {"composite": composite}}}


def build_generations_cleanup_body(pairs: Iterable[tuple[str, str]]) -> Body:
    """Delete-by-query body removing the sentences of exactly these
    (article id, article hash) generations."""
    clauses = [{"bool": {"filter": [{"term": {"article_id": article_id}}, {"term": {"article_hash": content_hash}}]}}
               for article_id, content_hash in pairs]
    return {"query": {"bool": {"should": clauses, "minimum_should_match": 1}}}


def build_cleanup_body(generations: Mapping[str, str]) -> Body:
    """Delete-by-query body removing every sentence of these articles whose
    generation is not the given (committed) one; ``{}`` means none to keep."""
    clauses = [{"bool": {"filter": [{"term": {"article_id": article_id}}],
                         "must_not": [{"term": {"article_hash": content_hash}}]}}
               for article_id, content_hash in generations.items()]
    return {"query": {"bool": {"should": clauses, "minimum_should_match": 1}}}


def build_delete_sentences_body(article_id: str) -> Body:
    return {"query": {"term": {"article_id": article_id}}}


def batches(articles: Iterable[Article], size: int = WRITE_BATCH) -> Iterator[list[Article]]:
    """Input order, ``size`` at a time; an id repeated within a batch starts a new
    batch, so the later version is written after the earlier one is committed.
    An article without sentences raises ValueError once the articles before it
    have been handed out."""
    batch: list[Article] = []
    ids: set[str] = set()
    for article in articles:
        if not article.sentences:
            if batch:
                yield batch
            require_sentences(article)  # raises
        if len(batch) >= size or article.id in ids:
            yield batch
            batch, ids = [], set()
        batch.append(article)
        ids.add(article.id)
    if batch:
        yield batch
