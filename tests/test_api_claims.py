"""Claim lookup and scan (issue 3) on the seeded store: real spaCy, real
embedder, real fusion weights."""

from __future__ import annotations

import pytest

MARKET_CLAIM = "Russian jets struck a market in Maaret al-Numan, killing 20 people"
DENIAL_TEXT = ("Russia denied that its jets struck a market in Idlib. "
               "The White Helmets said 20 people were killed.")


def lookup(client, **body):
    response = client.post("/v1/claims/lookup", json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_lookup_finds_the_market_strike_report(client) -> None:
    result = lookup(client, text=MARKET_CLAIM)
    assert result["claim"]["text"] == MARKET_CLAIM
    assert (20.0, "killed") in {(q["value"], q["event"]) for q in result["claim"]["quantities"]}
    best = result["reports"][0]
    assert best["article_id"] == "seed:000"
    scores = [r["score"] for r in result["reports"]]
    assert all(0 <= s <= 1 for s in scores) and best["score"] >= 0.5
    assert best["stance"] in {"supports", "refutes", "discusses"}
    sentence = best["sentences"][0]
    assert "<mark>" in sentence["highlighted"]
    assert sentence["stance"] in {"supports", "refutes", "discusses"}
    assert sentence["frame"] in {"asserts", "attributes", "denies", "unclear"}
    agreements = {(q["value"], q["agreement"]) for s in best["sentences"] for q in s["quantities"]}
    assert (20.0, "same") in agreements and (27.0, "different") in agreements
    assert "evidence" not in sentence and "evidence" not in best  # only with explain: left out, not null
    summary = result["summary"]
    assert summary["reports"] == len([r for r in result["reports"] if r["score"] >= 0.5]) >= 1
    assert set(summary["stances"]) == {"supports", "refutes", "discusses"}
    assert sum(summary["stances"].values()) == summary["reports"]
    killed = next(row for row in summary["figures"] if row["event"] == "killed")
    assert {v["value"] for v in killed["values"]} >= {20.0}


def test_get_lookup_is_the_same_as_post(client) -> None:
    posted = lookup(client, text=MARKET_CLAIM, limit=3)
    got = client.get("/v1/claims/lookup", query_string={"text": MARKET_CLAIM, "limit": 3})
    assert got.status_code == 200 and got.get_json() == posted


def test_limit_min_score_and_explain(client) -> None:
    one = lookup(client, text=MARKET_CLAIM, limit=1, explain=True)
    assert len(one["reports"]) == 1
    evidence = one["reports"][0]["sentences"][0]["evidence"]
    assert {"features", "contributions", "probabilities"} == set(evidence) and "cosine" in evidence["features"]
    assert set(evidence["probabilities"]) == {"unrelated", "discusses", "supports", "refutes"}
    report = one["reports"][0]["evidence"]
    assert {"features", "contributions", "probabilities", "ranking"} == set(report)
    strict = lookup(client, text=MARKET_CLAIM, min_score=0.99)
    assert all(r["score"] >= 0.99 for r in strict["reports"])


def test_filters_and_exclusion(client) -> None:
    assert "seed:000" not in {r["article_id"] for r in
                              lookup(client, text=MARKET_CLAIM, exclude_article="seed:000")["reports"]}
    only_trt = lookup(client, text="Air strikes killed White Helmets rescue workers in Syria", source=["trt"])
    assert {r["source"] for r in only_trt["reports"]} <= {"trt"} and only_trt["reports"]
    dated = lookup(client, text="Air strikes killed White Helmets rescue workers in Syria",
                   **{"from": "2017-05-01", "to": "2017-12-31"})
    assert all("2017-05-01" <= r["published"] <= "2017-12-31" for r in dated["reports"])


@pytest.mark.parametrize("text", ["Idlib", "the White Helmets", "   ", "!!! ???"])
def test_too_short_to_be_a_claim_is_422(client, text) -> None:
    response = client.post("/v1/claims/lookup", json={"text": text})
    assert response.status_code == 422
    assert "text" in response.get_json()["errors"]
    assert client.get("/v1/claims/lookup", query_string={"text": text}).status_code == 422


@pytest.mark.parametrize("body, field", [
    ({}, "text"),
    ({"text": MARKET_CLAIM, "limit": 0}, "limit"),
    ({"text": MARKET_CLAIM, "limit": 51}, "limit"),
    ({"text": MARKET_CLAIM, "limit": 2.5}, "limit"),
    ({"text": MARKET_CLAIM, "min_score": 1.5}, "min_score"),
    ({"text": MARKET_CLAIM, "source": "trt"}, "source"),
    ({"text": MARKET_CLAIM, "from": "2018-01-01", "to": "2017-01-01"}, "from"),
    ({"text": MARKET_CLAIM, "explain": "maybe"}, "explain"),
    ({"text": MARKET_CLAIM, "lang": "en"}, "lang"),
    ({"text": "x" * 2001}, "text"),
])
def test_lookup_validation(client, body, field) -> None:
    response = client.post("/v1/claims/lookup", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_a_claim_in_another_language_is_a_422_that_says_so(client) -> None:
    response = client.post("/v1/claims/lookup", json={
        "text": "Un avion russe a bombardé le marché de Maaret al-Numan et tué vingt personnes"})
    problem = response.get_json()
    assert response.status_code == 422 and problem["detail"] == "The text is not in English."
    assert "French, not English" in problem["errors"]["text"][0]


def test_scan_text(client) -> None:
    response = client.post("/v1/claims/scan", json={"text": DENIAL_TEXT, "limit": 2})
    assert response.status_code == 200
    sentences = response.get_json()["sentences"]
    assert [s["position"] for s in sentences] == sorted(s["position"] for s in sentences)
    assert {s["reason"] for s in sentences} <= {"figure", "reporting verb", "actors"}
    denial = next(s for s in sentences if s["text"].startswith("Russia denied"))
    assert denial["reports"] and len(denial["reports"]) <= 2
    assert all(r["score"] >= 0.5 for s in sentences for r in s["reports"])


def test_scan_article_never_reports_itself(client) -> None:
    response = client.post("/v1/claims/scan", json={"article_id": "seed:000", "limit": 5, "min_score": 0})
    sentences = response.get_json()["sentences"]
    assert sentences
    assert all(r["article_id"] != "seed:000" for s in sentences for r in s["reports"])
    assert any(r["article_id"] == "seed:001" for s in sentences for r in s["reports"])


def test_article_reports_is_the_scan_of_a_stored_article(client) -> None:
    scanned = client.post("/v1/claims/scan", json={"article_id": "seed:001"}).get_json()
    reports = client.get("/v1/articles/seed:001/reports")
    assert reports.status_code == 200 and reports.get_json() == scanned
    assert client.get("/v1/articles/seed:001/reports", query_string={"limit": 1, "min_score": 0.9}).status_code == 200


def test_text_without_check_worthy_sentences(client) -> None:
    response = client.post("/v1/claims/scan", json={"text": "Hello there. Nice weather."})
    assert response.status_code == 200 and response.get_json() == {
        "sentences": [], "truncated": False, "unchecked": 0,
        "skipped": [{"position": 1, "text": "Hello there.", "reason": "too short", "rule": None},
                    {"position": 2, "text": "Nice weather.", "reason": "too short", "rule": None}]}


def test_scan_of_a_page_says_what_it_skipped_and_the_context_it_used(client) -> None:
    """The extension's page as shown: furniture is skipped as boilerplate
    (with the rule), the rest with their reason; a toll that names no place
    is looked up with the page's place."""
    page = ("Home\nRussian jets strike market in Idlib\nShare\n"
            "Russia denied that its jets struck a market in the city of Idlib on Monday.\n"
            "The White Helmets said 20 people were killed.\nIt was market day.\n"
            "Tags: Syria, Idlib, White Helmets, Russia\nPowered by WordPress | Designed by ThemeGrill\n")
    body = client.post("/v1/claims/scan", json={"text": page, "url": "https://example.org/idlib"}).get_json()
    skipped = {s["text"]: (s["reason"], s["rule"]) for s in body["skipped"]}
    assert skipped == {"Home": ("boilerplate", "kicker"), "Share": ("boilerplate", "ui-label"),
                       "Russian jets strike market in Idlib": ("too short", None),  # actors in 6 words
                       "It was market day.": ("too short", None),
                       "Tags: Syria, Idlib, White Helmets, Russia": ("boilerplate", "tag-list"),
                       "Powered by WordPress | Designed by ThemeGrill": ("boilerplate", "footer")}
    looked_up = {s["text"]: s["context"] for s in body["sentences"]}
    assert looked_up["The White Helmets said 20 people were killed."] == ["Idlib"]
    assert looked_up["Russia denied that its jets struck a market in the city of Idlib on Monday."] == []
    positions = sorted([s["position"] for s in body["sentences"]] + [s["position"] for s in body["skipped"]])
    assert positions == list(range(1, 9))


@pytest.mark.parametrize("body", [{}, {"text": DENIAL_TEXT, "article_id": "seed:000"}, {"article_id": ""},
                                  {"text": DENIAL_TEXT, "limit": 0}, {"text": "x" * 100_001}])
def test_scan_validation(client, body) -> None:
    assert client.post("/v1/claims/scan", json=body).status_code == 422


def test_scan_unknown_article_is_404(client) -> None:
    assert client.post("/v1/claims/scan", json={"article_id": "nope"}).status_code == 404
    assert client.get("/v1/articles/nope/reports").status_code == 404


def test_lookups_are_reads(make_app) -> None:
    from apicontract import READ_KEY

    client = make_app(API_KEY=None, READ_API_KEY=READ_KEY).test_client()
    assert client.post("/v1/claims/lookup", json={"text": MARKET_CLAIM}).status_code == 401
    ok = client.post("/v1/claims/lookup", json={"text": MARKET_CLAIM}, headers={"X-API-Key": READ_KEY})
    assert ok.status_code == 200
