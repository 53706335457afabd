"""Boilerplate stripping: every real paragraph of every seed is kept, every
piece of page furniture is gone, and each rule works on made-up lines.

``tests/data/seed_articles.json`` lists, per seed, the title, the article's
real paragraphs and the boilerplate lines, written by reading the seeds.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from claimlookup.clean import boilerplate_rule, clean_article, is_sentence, normalise_space

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
EXPECTED = json.loads((Path(__file__).parent / "data" / "seed_articles.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_keeps_title_and_every_real_paragraph(name: str) -> None:
    cleaned = clean_article((SEEDS / name).read_text(encoding="utf-8"))
    assert cleaned.title == EXPECTED[name]["title"]
    assert cleaned.body.split("\n\n") == EXPECTED[name]["paragraphs"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_boilerplate_is_gone(name: str) -> None:
    cleaned = clean_article((SEEDS / name).read_text(encoding="utf-8"))
    for line in EXPECTED[name]["boilerplate"]:
        assert line not in cleaned.body
        assert line != cleaned.title
    assert sorted(d.text for d in cleaned.dropped) == sorted(EXPECTED[name]["boilerplate"])


def test_every_seed_is_covered() -> None:
    assert sorted(p.name for p in SEEDS.glob("*.txt")) == sorted(EXPECTED)


def test_single_paragraph_bodies_are_untouched() -> None:
    """FA-KES bodies are one long line each: no rule may cut into them."""
    with (SEEDS / "fa-kes" / "FA-KES-Dataset.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            cleaned = clean_article(row["article_content"], title=row["article_title"])
            assert cleaned.body == normalise_space(row["article_content"]), row["unit_id"]
            assert cleaned.title == normalise_space(row["article_title"])


@pytest.mark.parametrize(("line", "rule"), [
    ("Share", "ui-label"),
    ("SHARE THIS ARTICLE", "ui-label"),
    ("Share this story:", "ui-label"),
    ("ADVERTISEMENT", "ui-label"),
    ("- Advertisement -", "ui-label"),
    ("Sponsored content", "ui-label"),
    ("Powered by Ghost | Theme by Someone", "footer"),
    ("Designed by Acme Web Studio", "footer"),
    ("Copyright 2021 The Daily Example", "footer"),
    ("\u00a9 2019 Example Media. All rights reserved", "footer"),
    ("Example News can also be accessed at the following alternate addresses:", "address-notice"),
    ("Our mirror sites:", "address-notice"),
    ("www.example.org", "bare-domain"),
    ("https://example.com/news/1234", "bare-domain"),
    ("example.co.uk", "bare-domain"),
    ("AdBlock Detected", "adblock"),
    ("We noticed you are using an ad blocker", "adblock"),
    ("Please disable your ad-blocker to continue", "adblock"),
    ("Hits: 1,024", "hit-counter"),
    ("Views 77", "hit-counter"),
    ("532 views", "hit-counter"),
    ("Leave a comment", "comment-prompt"),
    ("Comments are closed.", "comment-prompt"),
    ("12 Comments", "comment-prompt"),
    ("Your email address will not be published.", "comment-prompt"),
    ("Home / World / Middle East", "breadcrumb"),
    ("News \u00a0/\u00a0 Syria", "breadcrumb"),
    ("World \u203a Asia", "breadcrumb"),
    ("Source:", "link-stub"),
    ("Source Link from", "link-stub"),
    ("Read more at:", "link-stub"),
    ("Originally published at", "link-stub"),
    ("Continue reading", "link-stub"),
    ("Back to top", "back-to-top"),
    ("Scroll to top button", "back-to-top"),
    ("Skip to main content", "back-to-top"),
    ("Rescuers search the rubble in Aleppo on Monday. (Photo by Reuters)", "photo-caption"),
    ("A market in Idlib after the strike (Photo: AFP)", "photo-caption"),
    ("Smoke rises over the city. (AFP)", "photo-caption"),
    ("Photo: A destroyed hospital in Idlib", "photo-caption"),
    ("Tags: Syria, Quneitra, Daesh, Free Syrian Army", "tag-list"),
    ("Keywords: Syria, Deir Ezzor, ISIL", "tag-list"),
    ("TAGS", "tag-list"),
    ("Reporting by Khaled Yacoub Oweis; Amman newsroom; Editing by Eric Walsh", "credit"),
    ("Additional reporting by Jane Doe in Beirut", "credit"),
    ("We use cookies to give you the best experience on our website.", "notice"),
    ("By continuing to browse the site you are agreeing to our use of cookies.", "notice"),
    ("This site uses cookies. Manage your preferences", "notice"),
    ("Sign up to our newsletter for the latest news, delivered to your inbox every morning.", "notice"),
])
def test_line_rule(line: str, rule: str) -> None:
    assert boilerplate_rule(line) == rule


@pytest.mark.parametrize("line", [
    "The plant is powered by coal and designed by a Russian firm.",
    "Russia said the strike was a fake, the ministry said in a statement.",
    "He said:",
    "Syria / Iraq border crossing reopens after two years of closure, officials say.",
    "Russia denies strike | Reuters",
    "The source said the convoy was hit twice.",
    "About 36 hits were recorded on the city, the monitor said.",
    "Readers left a reply to the minister's letter, the paper reported.",
    "3.5",
    "U.S.",
    "The ad campaign blocked roads in Damascus.",
    "Share prices fell in Damascus after the strike.",
    "The photo shows the market before the strike.",
    "Tags on the bodies showed they were from Aleppo.",
    "The tags: a hint that the convoy came from Turkey.",
    "Reporting by local media said 12 people were killed.",
    "The cookies were sold at the market, he said.",
    "Subscribers to the channel saw the footage first.",
])
def test_prose_is_not_boilerplate(line: str) -> None:
    assert boilerplate_rule(line) is None


def test_long_lines_are_never_boilerplate() -> None:
    assert boilerplate_rule("Hits: 3 " + "and more words " * 20) is None  # > MAX_FURNITURE_WORDS
    assert boilerplate_rule("The strike " + "word " * 85 + "(Photo by AFP)") is None  # > MAX_CAPTION_WORDS


def test_link_list_heading_takes_its_teasers_up_to_the_next_sentence() -> None:
    text = ("A headline\n\nThe first paragraph says something.\n\nRelated Posts\n"
            "Another story about a thing\n\nA teaser cut off in the middle of\n\n"
            "A real closing paragraph after the list.\n")
    cleaned = clean_article(text)
    assert cleaned.body.split("\n\n") == ["The first paragraph says something.",
                                          "A real closing paragraph after the list."]
    assert [d.rule for d in cleaned.dropped] == ["link-list"] * 3


@pytest.mark.parametrize("heading", ["Related Articles", "You may also like:", "READ MORE", "Most read", "See also",
                                     "More from Reuters", "More from Middle East"])
def test_link_list_headings(heading: str) -> None:
    cleaned = clean_article(f"Title\n\nBody sentence one.\n\n{heading}\n\nOther headline\n")
    assert cleaned.body == "Body sentence one."


def test_a_tags_label_takes_the_list_after_it() -> None:
    cleaned = clean_article("Title\n\nBody sentence one.\n\nTags\n\nSyria, Idlib, White Helmets\n\n"
                            "The last paragraph of the body.\n")
    assert cleaned.body == "Body sentence one.\n\nThe last paragraph of the body."
    assert [d.rule for d in cleaned.dropped] == ["tag-list", "tag-list"]


def test_kicker_before_headline_is_dropped() -> None:
    cleaned = clean_article("World News\n\nRussia denies the strike\n\nRussia denied it on Monday.\n")
    assert cleaned.title == "Russia denies the strike"
    assert cleaned.dropped[0].rule == "kicker"


def test_short_title_before_a_sentence_is_not_a_kicker() -> None:
    cleaned = clean_article("Idlib Ceasefire Collapses\n\nThe truce collapsed on Monday.\n\nMore fighting followed.\n")
    assert cleaned.title == "Idlib Ceasefire Collapses"
    assert cleaned.body == "The truce collapsed on Monday.\n\nMore fighting followed."


def test_tail_headlines_after_last_sentence_are_dropped() -> None:
    cleaned = clean_article("Title\n\nOne.\n\nMid-article subhead\n\nTwo sentences here.\n\n"
                            "Other story headline\n\nApp Store Roku\n")
    assert cleaned.body == "One.\n\nMid-article subhead\n\nTwo sentences here."
    assert [d.rule for d in cleaned.dropped] == ["tail", "tail"]


def test_first_body_paragraph_always_stays() -> None:
    cleaned = clean_article("A title\n\nA body that was cut off in the middle of\n")
    assert cleaned.body == "A body that was cut off in the middle of"


def test_explicit_title_keeps_first_line_in_body() -> None:
    cleaned = clean_article("Share\n\nFirst line of the body.\n\nSecond.", title="  The  title ")
    assert cleaned.title == "The title"
    assert cleaned.body == "First line of the body.\n\nSecond."


def test_whitespace_is_normalised_and_line_numbers_reported() -> None:
    cleaned = clean_article("Title\r\n\r\nA\u00a0 body\tline.\r\nAdvertisement\r\n")
    assert cleaned.body == "A body line."
    assert (cleaned.dropped[0].line, cleaned.dropped[0].rule) == (4, "ui-label")


def test_only_boilerplate_gives_empty_body() -> None:
    cleaned = clean_article("Share\n\nAdvertisement\n")
    assert (cleaned.title, cleaned.body) == ("", "")


@pytest.mark.parametrize(("line", "expected"), [
    ("He left.", True), ("Really?", True), ("\u201cNo.\u201d", True), ("(As he said.)", True),
    ("Wait\u2026", True), ("A headline", False), ("Ends with colon:", False),
])
def test_is_sentence(line: str, expected: bool) -> None:
    assert is_sentence(line) is expected
