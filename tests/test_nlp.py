"""claimlookup.nlp on real text: the seed articles and FA-KES.

Tables give a sentence (cited: seed file, or FA-KES unit_id) and what the
analysis must find in it. Tests marked ``slow`` load the real spaCy model.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from claimlookup import nlp
from claimlookup.model import Article, Frame, Sentence

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
FAKES_CSV = ROOT / "seeds" / "fa-kes" / "FA-KES-Dataset.csv"
GOLD = Path(__file__).parent / "data" / "stance_gold.jsonl"


def seed_article(path: Path) -> Article:
    """Title = first non-empty line, body = the rest (as the indexer reads a .txt)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    first = next(i for i, line in enumerate(lines) if line.strip())
    return Article(id=path.stem, title=lines[first].strip(), body="\n".join(lines[first + 1:]))


def fakes_articles(limit: int) -> list[Article]:
    with FAKES_CSV.open(encoding="utf-8", newline="") as f:
        rows = [row for _, row in zip(range(limit), csv.DictReader(f), strict=False)]  # the first `limit`
    return [Article(id=row["unit_id"], title=row["article_title"], body=row["article_content"]) for row in rows]


def only_sentence(text: str) -> Sentence:
    sentences = nlp.analyse_text(text)
    assert len(sentences) == 1, [s.text for s in sentences]
    return sentences[0]


# --- entity keys (no model) ------------------------------------------------------------

@pytest.mark.parametrize(("text", "label", "key"), [
    ("the Syrian Observatory for Human Rights", "ORG", "syrian observatory for human rights"),
    ("Syrian Observatory for Human Rights", "ORG", "syrian observatory for human rights"),
    ("The so-called Syrian Observatory for Human Rights", "ORG", "syrian observatory for human rights"),
    ("SOHR", "ORG", "syrian observatory for human rights"),
    ("Russia’s", "GPE", "russia"),
    ("Russian Federation", "GPE", "russia"),
    ("U.S.", "GPE", "united states"),
    ("US", "GPE", "united states"),
    ("the United States", "GPE", "united states"),
    ("Britain", "GPE", "united kingdom"),
    ("UK", "GPE", "united kingdom"),
    ("Daesh", "ORG", "islamic state"),
    ("al-Nusra Front", "ORG", "al nusra front"),
    ("“White Helmets”", "ORG", "white helmets"),
    ("Kurdistan Workers' Party", "ORG", "kurdistan workers party"),
    ("  Bashar   al-Assad ", "PERSON", "bashar al assad"),
    ("Thessaloniki", "GPE", "thessaloniki"),  # "the" is stripped only as a word
    ("America", "PERSON", "america"),  # aliases only for places and organisations
    ("Syrian", "NORP", "syrian"),
])
def test_entity_key(text: str, label: str, key: str) -> None:
    assert nlp.entity_key(text, label) == key


# --- key terms (no model) --------------------------------------------------------------

@pytest.mark.parametrize(("text", "terms"), [
    ("Russian jets struck a vegetable market in Maaret al-Numan, killing 20",
     ["russian", "jets", "struck", "vegetable", "market", "maaret", "al", "numan", "killing", "20"]),
    ("The US and the UN said two dozen people died", ["us", "un", "said", "two", "dozen", "people", "died"]),
    ("Russia’s Ministry of Defense", ["russia", "ministry", "defense"]),
    ("Idlib idlib IDLIB", ["idlib"]),
    ("1,000 people and 2.5 million", ["1,000", "people", "2.5", "million"]),
    ("“fake news”, it said.", ["fake", "news", "said"]),
    ("", []),
])
def test_key_terms(text: str, terms: list[str]) -> None:
    assert nlp.key_terms(text) == terms


# --- the model -----------------------------------------------------------------------

@pytest.mark.slow
def test_pipeline_is_cached_and_minimal() -> None:
    model = nlp.get_nlp()
    assert nlp.get_nlp() is model
    assert model.pipe_names == ["senter", "claimlookup_paragraphs", "ner", "claimlookup_places", "claimlookup_facts"]
    assert not set(nlp.EXCLUDED_PIPES) & set(model.component_names)


@pytest.mark.slow
def test_pipeline_multiplies_with_numpy_on_one_blas_thread() -> None:
    """thinc's blis falls back to slow generic kernels on CPUs it does not
    know: the models run their matrix products with numpy instead, on
    ``CLAIMLOOKUP_BLAS_THREADS`` (default 1) OpenBLAS threads per process."""
    from threadpoolctl import threadpool_info

    from claimlookup.nlp.pipeline import limit_blas_threads

    model = nlp.get_nlp()
    for name in ("senter", "ner"):
        ops = model.get_pipe(name).model.ops
        assert type(ops).__name__ == "NumpyOps" and ops.use_blis is False
    from claimlookup.settings import Settings

    limit = Settings.from_env().blas_threads  # 1 unless the environment says otherwise
    blas = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    assert blas and (limit == 0 or set(blas) == {limit})
    with pytest.raises(ValueError, match="CLAIMLOOKUP_BLAS_THREADS"):
        limit_blas_threads(-1)


@pytest.mark.slow
def test_workers_send_back_facts_not_tokens() -> None:
    """``analyse_articles`` asks the pipeline for facts-only Docs: a worker
    process ships an empty Doc with the facts, not every token."""
    model = nlp.get_nlp()
    text = "Rescuers said an airstrike on a market killed 20 people. Russia denied it."
    [full] = model.pipe([text])
    [facts_only] = model.pipe([text], component_cfg={"claimlookup_facts": {"facts_only": True}})
    assert len(full) > 0 and len(facts_only) == 0
    assert facts_only.user_data["claimlookup.facts"] == full.user_data["claimlookup.facts"]
    assert len(full.user_data["claimlookup.facts"]) == 2 and facts_only.user_data["claimlookup.chars"] == len(text)


@pytest.mark.slow
def test_facts_of_another_text_are_refused() -> None:
    """Titles and bodies are paired by order; a Doc dropped by spaCy (an error
    handler that ignores errors) would shift every later pairing, so the
    reader checks each Doc's length against the text it expects."""
    from claimlookup.nlp.pipeline import _facts_of

    [doc] = nlp.get_nlp().pipe(["Russia denied it."], component_cfg={"claimlookup_facts": {"facts_only": True}})
    assert len(_facts_of(doc, "Russia denied it.")) == 1
    with pytest.raises(RuntimeError, match="another text"):
        _facts_of(doc, "Rescuers said twenty people died.")
    with pytest.raises(RuntimeError):
        _facts_of(None, "Russia denied it.")


@pytest.mark.slow
def test_msgpack_hooks_are_not_searched_on_every_call() -> None:
    """srsly's registries stop re-reading every package's entry points on each
    (un)pack once the pipeline is loaded; the hooks they had still apply."""
    import numpy
    import srsly
    import srsly.msgpack

    nlp.get_nlp()
    for registry in (srsly.msgpack.msgpack_encoders, srsly.msgpack.msgpack_decoders):
        assert registry.entry_points is False and "numpy" in registry.get_all()
    array = numpy.arange(6, dtype=numpy.float32).reshape(2, 3)
    assert numpy.array_equal(srsly.msgpack_loads(srsly.msgpack_dumps({"a": array}))["a"], array)


def test_msgpack_hooks_from_entry_points_keep_the_search() -> None:
    """Where a package provides a hook as an entry point, the search stays
    on: its place among the hooks is catalogue's to decide."""
    import catalogue

    from claimlookup.nlp.pipeline import skip_msgpack_hook_search

    class Provided(catalogue.Registry):
        def get_entry_points(self) -> dict:
            return {"from_a_package": lambda obj, chain=None: obj}

    plain = catalogue.Registry(("claimlookup_test", "plain"), entry_points=True)
    provided = Provided(("claimlookup_test", "provided"), entry_points=True)
    skip_msgpack_hook_search([plain, provided])
    assert plain.entry_points is False
    assert provided.entry_points is True and "from_a_package" in provided.get_all()


def test_spacy_profiling_hooks_are_seen_and_the_callers_profiler_left_alone() -> None:
    """``spacy_profiled`` asks spaCy's compiled code whether it reports to a
    profiler: spaCy 3.8's wheels do below Python 3.12 and not from 3.12 on
    (what docs/operations.md, "Python", and tools/pick-python rest on). A
    profiler the caller runs stays set, sees the caller's calls and none of
    the probe's."""
    import sys

    from claimlookup.nlp.pipeline import spacy_profiled

    assert spacy_profiled() is (sys.version_info < (3, 12))
    calls: list[str] = []

    def mine(frame, event, arg) -> None:
        if event == "call":
            calls.append(frame.f_code.co_name)

    def after_the_probe() -> None:
        pass

    sys.setprofile(mine)
    try:
        answer = spacy_profiled()
        assert sys.getprofile() is mine
        after_the_probe()
    finally:
        sys.setprofile(None)
    assert answer is (sys.version_info < (3, 12))
    assert "after_the_probe" in calls and "probe" not in calls and "__getitem__" not in calls


# --- sentences and offsets -------------------------------------------------------------

def check_offsets(article: Article) -> None:
    assert [s.position for s in article.sentences] == list(range(len(article.sentences)))
    title, *body = article.sentences
    assert title.is_title and article.title[title.start:title.end] == title.text
    for sentence in article.sentences:
        assert sentence.text and sentence.text == sentence.text.strip()
        assert sentence.vector is None
        for e in sentence.entities:
            assert sentence.text[e.start:e.end] == e.text and e.label in nlp.ENTITY_LABELS and e.key
        for q in sentence.quantities:
            assert sentence.text[q.start:q.end] == q.text
    for sentence in body:
        assert article.body[sentence.start:sentence.end] == sentence.text


@pytest.mark.slow
def test_seed_articles_offsets_and_order() -> None:
    articles = [seed_article(p) for p in SEEDS]
    analysed = list(nlp.analyse_articles(articles))
    assert [a.id for a in analysed] == [p.stem for p in SEEDS]
    for article in analysed:
        check_offsets(article)
    seed000 = analysed[0]
    assert seed000.sentences[0].text == "Russia dismisses claims of striking Syrian city in Idlib province"
    assert seed000.sentences[1].text.startswith("Russia has strongly denied reports")
    # Line breaks end sentences: boilerplate lines stay separate sentences.
    assert "Related Posts" in [s.text for s in seed000.sentences]


@pytest.mark.slow
def test_fakes_offsets_and_same_result_with_two_processes() -> None:
    articles = fakes_articles(12)
    one = [(s.text, s.stance, s.speaker, s.quantities, s.entities)
           for a in nlp.analyse_articles(fakes_articles(12)) for s in a.sentences]
    two_articles = list(nlp.analyse_articles(articles, n_process=2, batch_size=4))
    assert [a.id for a in two_articles] == [a.id for a in fakes_articles(12)]
    for article in two_articles:
        check_offsets(article)
    two = [(s.text, s.stance, s.speaker, s.quantities, s.entities) for a in two_articles for s in a.sentences]
    assert one == two


@pytest.mark.slow
def test_analyse_articles_is_lazy() -> None:
    pulled = 0

    def source() -> Iterator[Article]:
        nonlocal pulled
        for article in fakes_articles(40):
            pulled += 1
            yield article

    first = next(nlp.analyse_articles(source(), batch_size=4))
    assert first.sentences
    assert pulled < 40


@pytest.mark.slow
def test_line_breaks_and_empty_parts() -> None:
    [article] = nlp.analyse_articles([Article(id="x", title="", body="Related Posts\nRussia denied it.\n\n")])
    assert [(s.position, s.text) for s in article.sentences] == [(1, "Related Posts"), (2, "Russia denied it.")]
    [article] = nlp.analyse_articles([Article(id="y", title="Syria: 27 killed", body="")])
    assert [(s.position, s.text) for s in article.sentences] == [(0, "Syria: 27 killed")]
    assert [(q.value, q.event) for q in article.sentences[0].quantities] == [(27, "killed")]


@pytest.mark.slow
def test_entities_are_named_things_with_keys() -> None:
    sentence = only_sentence("The so-called Syrian Observatory for Human Rights also blamed the Russian jets "
                             "for the strike on Monday and raised the death toll to 27.")
    assert ("Syrian Observatory for Human Rights", "ORG", "syrian observatory for human rights") in [
        (e.text, e.label, e.key) for e in sentence.entities]
    assert {e.label for e in sentence.entities} <= nlp.ENTITY_LABELS  # no DATE "Monday", no CARDINAL "27"


# --- quantities ------------------------------------------------------------------------

S000_HELMETS = ("Earlier in the day, the Western-backed White Helmets “aid” group said that a Russian airstrike in the "
                "densely-populated city had killed 20 people and wounds some 50 more.")
S000_SOHR = ("The so-called Syrian Observatory for Human Rights also blamed the Russian jets for the strike and raised "
             "the death toll to 27 and the wounded to 45 people in the “wholesale vegetable market, where the attack "
             "took place.")
S000_RUSSIA = ("Russia has strongly denied reports that its warplanes conducted deadly airstrikes that killed around "
               "two dozen people in a militant-held city in Syria’s northwestern province of Idlib.")
S000_FAKE = ("“The statements of anonymous representatives of the White Helmets organization financed by Britain and "
             "the US about an alleged strike by Russian planes on a market in Maaret al-Numan (the province of Idlib) "
             "are a fake news story,” said a statement by Russia’s Ministry of Defense on Monday.")
S000_MISSIONS = ("“The Russian air force was not carrying out any missions in this part of Syria,” further said the "
                 "Russian defense ministry’s statement.")
S001_FEDERATION = ("Russian Federation has angrily denied its planes had conducted air strikes overnight against the "
                   "Syrian rebel-held city of Idlib, which the Syrian Observatory for Human Rights said had killed 23 "
                   "people.")
S004_MONITOR = ("At least 45 foreign-backed militants have been killed in a missile attack in Syria’s embattled "
                "province of Idlib, says a UK-based monitor.")

QUANTITY_CASES = [
    # seeds
    (S000_HELMETS, [(20, "people", "killed", "exact"), (50, "people", "wounded", "approx")]),
    (S000_SOHR, [(27, "people", "killed", "exact"), (45, "people", "wounded", "exact")]),
    (S000_RUSSIA, [(24, "people", "killed", "approx")]),
    (S001_FEDERATION, [(23, "people", "killed", "exact")]),
    (S004_MONITOR, [(45, "militants", "killed", "at_least")]),
    ("An estimated 130 civilians have died in the shelling since February, he said.",  # seed 001
     [(130, "civilians", "killed", "approx")]),
    ("The UN’s humanitarian chief said on Friday around 592,700 people were living in besieged areas.",  # seed 001
     [(592700, "people", "", "approx")]),
    ("Meanwhile, dozens of people staged a demonstration in Syria’s northwestern province of Aleppo on Thursday.",
     [(24, "people", "", "vague")]),  # seed 002
    ("The first such attack came in April 2017, when US President Donald Trump ordered US Navy warships in the "
     "Mediterranean to fire a total of 59 Tomahawk cruise missiles at a Syrian airbase.",  # seed 003
     [(59, "missiles", "", "exact")]),
    # FA-KES
    ('"Some cases appear to show additional signs consistent with exposure to organophosphorus chemicals a category '
     'of chemicals that includes nerve agents" WHO said in a statement putting the death toll at at least 70.',
     [(70, "people", "killed", "at_least")]),  # 1914947530
    ("A bomb blast killed six people and injured 32 in the Salah al-Din district of Aleppo Syrian state television "
     "reported on Wednesday without giving further details.",  # 1914947534
     [(6, "people", "killed", "exact"), (32, "people", "wounded", "exact")]),
    ("Sun 10 Jul 2016 29 Syria Rebels Dead in Fighting for Key Aleppo Road.",  # 1914947535
     [(29, "rebels", "killed", "exact")]),
    ("More than 230000 people have been killed in Syria since the conflict began in March 2011.",  # 1914947537
     [(230000, "people", "killed", "at_least")]),
    ("The heavy fighting claimed the lives of 129 loyalists and 116 rebels including an Al-Nusra commander "
     "according to an Observatory toll.",  # 1914947538
     [(129, "loyalists", "killed", "exact"), (116, "rebels", "killed", "exact")]),
    ('The Observatory "has documented the killing of 5812 civilians including 1733 children 969 women and 3110 men '
     'in barrel bombings and (other) air raids" over the past year.',  # 1914947538
     [(5812, "civilians", "killed", "exact"), (1733, "children", "killed", "exact"),
      (969, "women", "killed", "exact"), (3110, "men", "killed", "exact")]),  # parts share the whole's event
    ("An explosion inside a bus killed six people and injured another ten in down town Damascus according to "
     "preliminary reports on Sunday.",  # 1914947539
     [(6, "people", "killed", "exact"), (10, "people", "wounded", "exact")]),
    ("Syrias conflict has killed more than 230000 people and wounded at least a million according to the UN.",
     [(230000, "people", "killed", "at_least"), (1_000_000, "people", "wounded", "at_least")]),  # 1915433684
    # 1965495384 title: "- Homs" is a dash, not a hyphen, so Homs is not counted. NER tags "Syria Kills Five"
    # as an ORG in this title-case line; the gazetteer splits Syria off and "Five" counts again.
    ("US Missile Strike on Syria Kills Five Injures Seven - Homs Governor",
     [(5, "people", "killed", "exact"), (7, "people", "wounded", "exact")]),
    ("Unverified reports estimated up to 33 people may have been killed in the strike.",  # 1965495382
     [(33, "people", "killed", "at_most")]),
    ('"At least 27 children were confirmed killed in the attack in Idlib northwest of Syria.',  # 1965495387
     [(27, "children", "killed", "at_least")]),
    # number words and qualifiers
    ("Twenty-five people were killed.", [(25, "people", "killed", "exact")]),
    ("Two hundred and fifty civilians fled.", [(250, "civilians", "displaced", "exact")]),
    ("A dozen soldiers were injured.", [(12, "soldiers", "wounded", "approx")]),
    ("Dozens were killed.", [(24, "people", "killed", "vague")]),
    ("Hundreds of thousands of refugees fled the city.", [(200000, "refugees", "displaced", "vague")]),
    ("Nearly 30 people were killed.", [(30, "people", "killed", "at_most")]),
    ("Up to 15 children were hospitalised.", [(15, "children", "hospitalized", "at_most")]),
    ("Around 20 people died.", [(20, "people", "killed", "approx")]),
    ("More than 100 rebels were killed.", [(100, "rebels", "killed", "at_least")]),
    ("The toll rose to 31.", [(31, "people", "killed", "exact")]),
    ("An airstrike hit the market, killing 20.", [(20, "people", "killed", "exact")]),
    ("Police arrested 12 protesters.", [(12, "protesters", "arrested", "exact")]),
    ("More than 520 US airstrikes since 21 May have killed between 229 and 425 civilians overall.",  # 1919191741
     [(520, "airstrikes", "", "at_least"), (229, "civilians", "killed", "at_least"),
      (425, "civilians", "killed", "at_most")]),
    ("Half a million people fled.", [(500000, "people", "displaced", "exact")]),
    ("Albuseis pointed out that nearly 200 000 civilians trapped in Deir Ezzor have been suffering a double siege.",
     [(200000, "civilians", "", "at_most")]),  # FA-KES 1926479155 (space-grouped thousands)
    ("Syrian opposition groups have accused President Bashar al-Assads forces of launching massive chemical attacks "
     "near Damascus on August 21 and killing as many as 1300 people.",  # FA-KES 1926479157
     [(1300, "people", "killed", "at_most")]),
    ("Five citizens were killed and four others were injured in terrorist attacks with explosive device and shells "
     "in Aleppo Hama Damascus and its countryside on Friday.",  # FA-KES 1926479156
     [(5, "citizens", "killed", "exact"), (4, "citizens", "wounded", "exact")]),
    # ranges: both ends, with the noun and event of the whole
    ("The strikes killed 20 to 30 people.",
     [(20, "people", "killed", "at_least"), (30, "people", "killed", "at_most")]),
    ("Between 20 and 30 civilians were killed.",
     [(20, "civilians", "killed", "at_least"), (30, "civilians", "killed", "at_most")]),
    ("Fighting from 2011 to 2015 killed 300 people.", [(300, "people", "killed", "exact")]),
]

NOT_QUANTITY_CASES = [
    # seeds: years, dates, distances, model names, ordinals
    "Russia started an aerial bombardment campaign against militants in Syria on a request from Syria’s elected "
    "government\xa0in September 2015.",
    "On April 14, 2018, the United States, Britain, and France carried out a string of airstrikes against Syria over "
    "a suspected chemical weapons attack on the city of Douma, located about 10 kilometers northeast of the capital "
    "Damascus.",
    "The undated photo shows a Russian Sukhoi Su-35 bomber landing at the Hmeimim military base in Latakia province, "
    "Syria.",
    "South Front Late on January 15, pro-government forces, led by the 25th Special Mission Forces",
    # FA-KES: percentages, money, resolutions, times, distances, ordinals
    "Observatory chief Rami Abdul Rahman said the Syrian Democratic Forces [SDF] now held 70 percent of the town.",
    "The deal worth around $1 billion aims to fund imports of goods and commodities as well as other projects.",
    'Addressing the council Liu said Resolution 2286 passed in May by members to protect civilians and medical '
    'services they need to survive has "plainly failed to take any effect on the ground".',
    "It reported that at around 600 pm on March 25 the Latamneh hospital was targeted by a bomb dropped by a "
    "helicopter which hit the entrance of the building.",
    "Rebel groups in Jayrud 60 kilometres from Damascus include the Saudi-backed Jaish al-Islam the hardline Ahrar "
    "al-Sham and al-Qaeda affiliate al-Nusra Front.",
    "The raids come as forces from the regimes army and Hezbollah are engaged in their 11th day of heavy fighting "
    "with rebel forces in the area for control of the strategic town.",
    "The war began in 2011 and one of the towns fell within 24 hours.",
    # a singular counted noun used as an adjective (FA-KES 1926479165)
    "the Russian air force targeted at least 243 vital civilian facilities between September 30 2015 and March 15 "
    "2016.",
]


@pytest.mark.slow
@pytest.mark.parametrize(("text", "expected"), QUANTITY_CASES)
def test_quantities(text: str, expected: list[tuple]) -> None:
    got = [(q.value, q.counts, q.event, q.qualifier) for s in nlp.analyse_text(text) for q in s.quantities]
    assert got == expected


@pytest.mark.slow
@pytest.mark.parametrize("text", NOT_QUANTITY_CASES)
def test_not_quantities(text: str) -> None:
    assert [q.text for s in nlp.analyse_text(text) for q in s.quantities] == []


@pytest.mark.slow
def test_quantity_text_covers_qualifier_and_noun() -> None:
    sentence = only_sentence(S004_MONITOR)
    [quantity] = sentence.quantities
    assert quantity.text == "At least 45 foreign-backed militants"
    assert (quantity.start, quantity.end) == (0, len(quantity.text))


# --- stance and speaker ----------------------------------------------------------------

STANCE_CASES = [
    (S000_HELMETS, Frame.ATTRIBUTES, 'Western-backed White Helmets "aid" group'),
    (S000_SOHR, Frame.ATTRIBUTES, "Syrian Observatory for Human Rights"),
    (S000_FAKE, Frame.DENIES, "Russia's Ministry of Defense"),
    (S000_MISSIONS, Frame.DENIES, "Russian defense ministry"),
    (S000_RUSSIA, Frame.DENIES, "Russia"),
    (S001_FEDERATION, Frame.DENIES, "Russian Federation"),
    (S004_MONITOR, Frame.ATTRIBUTES, "UK-based monitor"),
    ("The Russian aviation has not delivered any airstrikes in the Syrian Idlib province, Russian Defense Ministry "
     "spokesman Major General Igor Konashenkov said on Tuesday.",  # seed 001
     Frame.DENIES, "Russian Defense Ministry spokesman Major General Igor Konashenkov"),
    ("According to a statement by the so-called Syrian Observatory for Human Rights, the missiles hit a training "
     "camp near Idlib city.",  # seed 004, shortened
     Frame.ATTRIBUTES, "Syrian Observatory for Human Rights"),
    ("Abdurrazak Jubeiro, a civil defense official in Idlib, told an Agency that the airstrikes hit several "
     "targets in the city.",  # seed 001, shortened
     Frame.ATTRIBUTES, "Abdurrazak Jubeiro"),
    ("Washington and its allies blamed Damascus for the Douma attack, an allegation strongly rejected by the Syrian "
     "government.",  # seed 002
     Frame.DENIES, "Syrian government"),
    ("Syria’s official news agency, SANA, reported that residents of al-Ziyarah town rejected the deployment of "
     "Turkish troops.",  # seed 002, shortened: "rejected the deployment" is no denial of a claim
     Frame.ATTRIBUTES, "SANA"),
    ("It was not yet clear who had been behind the attack, or whether the missiles were launched from fighter jets "
     "or positions on the ground.",  # seed 004
     Frame.UNCLEAR, None),
    ("Idlib is a final flash point and the last bastion for foreign-backed militants.",  # seed 000
     Frame.ASSERTS, None),
    ("The self-styled volunteer rescue group has been repeatedly accused of acting as the media arm for Takfiri "
     "terrorist groups.",  # seed 000, shortened: accused by nobody named
     Frame.ATTRIBUTES, None),
    # FA-KES: no commas before inverted or trailing attributions
    ('"Some cases appear to show additional signs consistent with exposure to organophosphorus chemicals a category '
     'of chemicals that includes nerve agents" WHO said in a statement putting the death toll at at least 70.',
     Frame.ATTRIBUTES, "WHO"),  # 1914947530
    ("Meanwhile rebel fire on regime-held areas killed 1102 people said the Observatory adding that 234 of them "
     "were children.", Frame.ATTRIBUTES, "Observatory"),  # 1914947538
    ("The blast heard Saturday evening in the area of Burj Rouss Qsaa in the Syrian Capital Damascus was due to a "
     "rocket bomb and not a car explosion NNA correspondent reported.",
     Frame.ATTRIBUTES, "NNA correspondent"),  # 1914947540
    ("The heavy fighting claimed the lives of 129 loyalists and 116 rebels including an Al-Nusra commander "
     "according to an Observatory toll.", Frame.ATTRIBUTES, "Observatory"),  # 1914947538
    ("Belgian defence ministry spokeswoman Laurence Mortier denied the countrys air force was active in the area at "
     "the time.", Frame.DENIES, "Belgian defence ministry spokeswoman Laurence Mortier"),  # 1923102896
    ("On May 12 a five-truck aid convoy waiting on Darayas outskirts was denied permission to enter in a dramatic "
     "11th-hour rejection.", Frame.ASSERTS, None),  # 1924058085: "denied permission" denies no claim
    ("The Britain-based group said it was unclear if the raids on Aleppos Marjeh district were carried out by "
     "aircraft belonging to the Syrian government or its ally Russia.",
     Frame.UNCLEAR, "Britain-based group"),  # 1923102842
    ("Retaliation to downing of Russia helicopter?", Frame.UNCLEAR, None),  # 1919191754
    ('"Planes of the Russian air force have not carried out any strikes near Khan Shaykhun of Idlib province" said a '
     'statement by the Russias defence ministry.', Frame.DENIES, "Russias defence ministry"),  # 1919191759
    ("This cannot be used as a maneuver to divert us said Fabius whose country has been a strong backer of action.",
     Frame.ATTRIBUTES, "Fabius"),  # 1926479125, shortened: "cannot be used" is no negated action
    ("A senior Kurdish commander however denied Syrian government bombings of the Turkey-backed fighters.",
     Frame.DENIES, "Kurdish commander"),  # 1924058064, shortened
    ("More than 520 US airstrikes since 21 May have killed between 229 and 425 civilians overall.",
     Frame.ASSERTS, None),  # 1919191741: the month "May" is no hedge
    ("Noha was also heading into the unknown.", Frame.ASSERTS, None),  # 1918150027
    ("Unconfirmed reports over the use of chlorine gas on rebel-held areas in eastern Aleppo emerged after the "
     "offensive on the city began in late June.", Frame.UNCLEAR, None),  # 1923102847
]


@pytest.mark.slow
@pytest.mark.parametrize(("text", "stance", "speaker"), STANCE_CASES)
def test_stance_and_speaker(text: str, stance: Frame, speaker: str | None) -> None:
    sentence = only_sentence(text)
    assert (sentence.stance, sentence.speaker) == (stance, speaker)


@pytest.mark.slow
def test_speaker_without_commas_stays_short() -> None:
    # FA-KES 1962495663 lost its commas: the subject run is cut at the verb "started" and, holding no name,
    # to its last three words ("positions local sources"; the exact head would need a parser).
    sentence = only_sentence("The SDF fighters started demining of the newly-liberated positions local sources said.")
    assert sentence.stance is Frame.ATTRIBUTES
    assert sentence.speaker is not None and sentence.speaker.endswith("local sources")
    assert len(sentence.speaker.split()) <= 3


@pytest.mark.slow
def test_stance_gold_accuracy() -> None:
    """Regression floor on the hand-labelled set (docs/nlp.md has the table)."""
    gold = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines()]
    assert len(gold) >= 30 and all(g["source"] and g["split"] in ("dev", "heldout") for g in gold)
    for split, floor in (("dev", 0.95), ("heldout", 0.8)):
        items = [g for g in gold if g["split"] == split]
        right = 0
        for item in items:
            sentence = max(nlp.analyse_text(item["text"]), key=lambda s: len(s.text))
            right += sentence.stance.value == item["stance"]
        assert right / len(items) >= floor, (split, right, len(items))


# --- robustness ------------------------------------------------------------------------

EDGE_TEXTS = ["", "   \n\n ", "?", "said", "According to", "20", "killed 20", "Russia denied", "“”", "one civilian",
              "half a", "between 20 and", "20 to", "the death toll to", "U.S.", "’s", "- 5 -", "denials from",
              "reports", "by", "Dozens of", "two dozen", "a hundred and", "200 000", "0", "1,000,000 people died"]


@pytest.mark.slow
@pytest.mark.parametrize("text", EDGE_TEXTS)
def test_edge_texts_do_not_break_the_rules(text: str) -> None:
    for sentence in nlp.analyse_text(text):
        assert text[sentence.start:sentence.end] == sentence.text
        for q in sentence.quantities:
            assert sentence.text[q.start:q.end] == q.text


# --- claims ----------------------------------------------------------------------------

@pytest.mark.slow
def test_analyse_claim() -> None:
    claim = nlp.analyse_claim("Russian jets struck a vegetable market in Maaret al-Numan in Idlib, killing 20. "
                              "Russia denied the strike on Idlib.")
    assert [s.position for s in claim.sentences] == [1, 2]
    keys = [e.key for e in claim.entities]
    assert len(keys) == len(set(keys)) and "idlib" in keys
    assert [(q.value, q.counts, q.event) for q in claim.quantities] == [(20, "people", "killed")]
    assert claim.sentences[1].stance is Frame.DENIES and claim.sentences[1].speaker == "Russia"
    assert claim.key_terms[:4] == ["russian", "jets", "struck", "vegetable"]
