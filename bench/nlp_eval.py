"""Speed and stance figures for claimlookup.nlp (prints; asserts nothing).

    .venv/bin/python -m bench.nlp_eval pipes             # spaCy configurations, relative CPU cost
    .venv/bin/python -m bench.nlp_eval analyse 1 2       # analyse_articles, n_process=1 and 2
    .venv/bin/python -m bench.nlp_eval stance            # accuracy on tests/data/stance_gold.jsonl
    .venv/bin/python -m bench.nlp_eval ner               # entity type accuracy on tests/data/ner-types.jsonl
    .venv/bin/python -m bench.nlp_eval ner-draw          # the mentions the NER sample was drawn from
    .venv/bin/python -m bench.nlp_eval speakers          # FA-KES speakers: places, tag lists, common nouns
    .venv/bin/python -m bench.nlp_eval places            # CPU cost of the gazetteer component (claimlookup_places)

Words are whitespace-separated tokens of title + body. Each figure is the
median of three runs over the whole FA-KES corpus (804 articles), as wall
words/s and as words per CPU-second (this process plus its nlp.pipe worker
processes), which stays meaningful when other jobs share the machine.
"""

from __future__ import annotations

import csv
import json
import os
import resource
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from claimlookup import nlp
from claimlookup.model import Article
from claimlookup.nlp.places import PIPE as PLACES_PIPE
from claimlookup.nlp.places import place_named
from claimlookup.training import ner_types

ROOT = Path(__file__).resolve().parents[1]
FAKES = ROOT / "seeds" / "fa-kes" / "FA-KES-Dataset.csv"
GOLD = ROOT / "tests" / "data" / "stance_gold.jsonl"
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def fakes_articles() -> list[Article]:
    with FAKES.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [Article(id=str(i), title=r["article_title"], body=r["article_content"]) for i, r in enumerate(rows)]


def words(articles: list[Article]) -> int:
    return sum(len(a.title.split()) + len(a.body.split()) for a in articles)


def cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (nlp.pipe workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(n_words: int, run) -> str:
    """Median of RUNS: wall words/s, and words per CPU-second (robust to a
    busy machine: it is what one free core would do)."""
    walls, cpus = [], []
    for _ in range(RUNS):
        wall, cpu = time.perf_counter(), cpu_seconds()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(cpu_seconds() - cpu)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    return (f"wall {n_words / wall:7.0f} words/s ({wall:5.1f} s)  cpu {cpu:5.1f} s = {n_words / cpu:6.0f} "
            f"words/cpu-s  load {os.getloadavg()[0]:.1f}  runs {', '.join(f'{t:.1f}' for t in walls)}")


def bench_pipes(n_articles: int = 200, rounds: int = 5) -> None:
    """Relative cost of pipeline configurations: the first ``n_articles`` of
    FA-KES, configurations interleaved, ``rounds`` rounds, best CPU time each
    (the minimum is the run least disturbed by other jobs)."""
    import spacy

    articles = fakes_articles()[:n_articles]
    texts = [t for a in articles for t in (a.title, a.body)]
    n = words(articles)
    extra = ["tagger", "attribute_ruler", "lemmatizer"]
    configs = {
        "senter+ner": ["tok2vec", "parser", *extra],
        "parser+ner": ["senter", *extra],
        "tagger+senter+ner": ["parser", "attribute_ruler", "lemmatizer"],
        "tagger+parser+ner": ["senter", "attribute_ruler", "lemmatizer"],
        "senter only": ["tok2vec", "parser", "ner", *extra],
    }
    models = {}
    for name, exclude in configs.items():
        models[name] = spacy.load(nlp.MODEL, exclude=exclude)
        if "senter" in models[name].disabled:
            models[name].enable_pipe("senter")
    models["get_nlp()"] = nlp.get_nlp()
    best = {name: float("inf") for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            start = time.process_time()
            for _doc in model.pipe(texts, batch_size=64):
                pass
            best[name] = min(best[name], time.process_time() - start)
    base = best["senter+ner"]
    print(f"FA-KES first {n_articles} articles, {n} words; best CPU of {rounds} interleaved rounds; "
          f"load {os.getloadavg()[0]:.1f}")
    print("| configuration | pipes | CPU s | words/CPU-s | relative to senter+ner |")
    print("|---|---|---|---|---|")
    for name, model in models.items():
        print(f"| {name} | {'+'.join(model.pipe_names)} | {best[name]:.2f} | {n / best[name]:.0f} | "
              f"{base / best[name]:.2f} |")


def bench_analyse(processes: list[int]) -> None:
    articles = fakes_articles()
    n = words(articles)
    nlp.get_nlp()
    print(f"FA-KES: {len(articles)} articles, {n} words", flush=True)
    for n_process in processes:
        def run(n_process: int = n_process) -> None:
            for _ in nlp.analyse_articles(fakes_articles(), n_process=n_process):
                pass
        print(f"analyse_articles n_process={n_process}: {measure(n, run)}", flush=True)


def bench_stance() -> None:
    gold = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    for split in ("dev", "heldout"):
        report_split(split, [g for g in gold if g["split"] == split])


def report_split(split: str, gold: list[dict]) -> None:
    labels = ["asserts", "attributes", "denies", "unclear"]
    confusion: Counter[tuple[str, str]] = Counter()
    speaker_ok = speaker_total = 0
    for item in gold:
        sentences = nlp.analyse_text(item["text"])
        got = max(sentences, key=lambda s: len(s.text))
        confusion[(item["stance"], got.stance.value)] += 1
        if item.get("speaker"):
            speaker_total += 1
            speaker_ok += bool(got.speaker and item["speaker"].lower() in got.speaker.lower())
        if got.stance.value != item["stance"] or (item.get("speaker") and (
                not got.speaker or item["speaker"].lower() not in got.speaker.lower())):
            print(f"  miss: gold={item['stance']}/{item.get('speaker')} got={got.stance.value}/{got.speaker}"
                  f" :: {item['text'][:80]}")
    correct = sum(confusion[(g, g)] for g in labels)
    print(f"{split}: stance accuracy {correct}/{len(gold)} = {correct / len(gold):.2f}; "
          f"speaker contains the gold speaker {speaker_ok}/{speaker_total}")
    print("| gold \\ predicted | " + " | ".join(labels) + " |")
    print("|---" * (len(labels) + 1) + "|")
    for g in labels:
        print(f"| {g} | " + " | ".join(str(confusion[(g, p)]) for p in labels) + " |")


def bench_ner() -> None:
    """Type accuracy on the hand-labelled sample, per gold type and overall."""
    score = ner_types.score(ner_types.read_items())
    right = sum(p.right for p in score.predictions)
    print(f"{len(score.predictions)} labelled names: type accuracy {right}/{len(score.predictions)} = "
          f"{score.accuracy:.3f}; type and span exact {score.exact:.3f}")
    for name, types in (("places (GPE LOC FAC)", ("GPE", "LOC", "FAC")), ("PERSON", ("PERSON",)),
                        ("ORG", ("ORG",)), ("NORP", ("NORP",)), ("other", ("PRODUCT", "EVENT", "LAW")),
                        ("NONE", (ner_types.NONE,))):
        ok, total = score.accuracy_of(types)
        print(f"| {name} | {ok}/{total} |")
    confusion = score.confusion()
    print("wrong (gold -> predicted: count):",
          ", ".join(f"{g} -> {p}: {n}" for (g, p), n in sorted(confusion.items()) if g != p))


def bench_ner_draw() -> None:
    """The sample's draw (see claimlookup.training.ner_types): at the commit
    the sample was drawn from (ffd7e98) it lists the labelled items' mentions."""
    for article, position, text, label in ner_types.draw(fakes_articles()):
        print(f"{article.id}\t{position}\t{label}\t{text}")


def bench_places(n_articles: int = 200, rounds: int = 3) -> None:
    """What the gazetteer component costs: the pipeline with and without it
    (interleaved rounds, best CPU time of each), and the component alone on
    the same Docs after ``ner`` (best of ``rounds``)."""
    model = nlp.get_nlp()
    articles = fakes_articles()[:n_articles]
    texts = [t for a in articles for t in (a.title, a.body)]
    n = words(articles)
    best = {"with": float("inf"), "without": float("inf")}
    for _ in range(rounds):
        for name, disabled in (("with", []), ("without", [PLACES_PIPE])):
            with model.select_pipes(disable=disabled):
                start = time.process_time()
                for _doc in model.pipe(texts, batch_size=64):
                    pass
                best[name] = min(best[name], time.process_time() - start)
    with model.select_pipes(disable=[PLACES_PIPE, "claimlookup_facts"]):
        docs = list(model.pipe(texts, batch_size=64))
    ruler = model.get_pipe(PLACES_PIPE)
    alone = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for doc in docs:
            ruler(doc)
        alone = min(alone, time.process_time() - start)
    print(f"FA-KES first {n_articles} articles, {n} words; best CPU of {rounds} rounds; "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"| get_nlp() without {PLACES_PIPE} | {best['without']:.2f} s | {n / best['without']:.0f} words/CPU-s |")
    print(f"| get_nlp() | {best['with']:.2f} s | {n / best['with']:.0f} words/CPU-s |")
    print(f"| {PLACES_PIPE} alone | {alone:.2f} s | {100 * alone / best['with']:.1f} % of get_nlp() |")


#: Last words of a speaker that name no person or organisation.
COMMON_NOUNS = frozenset(
    "people area areas city town village province region country countryside ground information conflict war "
    "attack strike strikes time scene site held governorate".split())


def bench_speakers() -> None:
    """How many FA-KES sentences name a speaker, and how many of those
    speakers are one place of the gazetteer that is no country or capital
    ("Aleppo", "Idlib province"), hold a tag list ("Tags ...") or end in a
    common noun ("held area", "people", "the city")."""
    counts: Counter[str] = Counter()
    for article in nlp.analyse_articles(fakes_articles()):
        for sentence in article.sentences:
            counts["sentences"] += 1
            speaker = sentence.speaker
            if not speaker:
                continue
            counts["with a speaker"] += 1
            place = place_named(speaker)
            counts["a place (town, region, base)"] += place is not None and not place.speaks
            counts["a country or capital"] += place is not None and place.speaks
            counts["a tag list"] += "Tags" in speaker.split()
            counts["a common noun"] += speaker.split()[-1].lower() in COMMON_NOUNS
    for name, n in counts.items():
        print(f"| {name} | {n} |")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "analyse"
    if command == "pipes":
        bench_pipes()
    elif command == "analyse":
        bench_analyse([int(a) for a in sys.argv[2:]] or [1, 2])
    elif command == "stance":
        bench_stance()
    elif command == "ner":
        bench_ner()
    elif command == "ner-draw":
        bench_ner_draw()
    elif command == "speakers":
        bench_speakers()
    elif command == "places":
        bench_places()
    else:
        sys.exit(__doc__)
