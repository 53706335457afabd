"""The recording tool finds the README's search, lookup and scan examples."""

from __future__ import annotations

from tools.record_examples import examples


def test_every_kind_of_readme_example_is_recorded() -> None:
    found = examples()
    paths = {e["path"] for e in found}
    assert "/v1/search" in paths and "/v1/claims/lookup" in paths and "/v1/claims/scan" in paths
    assert any(e["method"] == "POST" and e["body"] and "text" in e["body"] for e in found)
    assert len(found) >= 8
