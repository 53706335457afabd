"""Constants defined once: the copies that cannot import them (the OpenAPI
contract, the Elasticsearch mapping) must say the same."""

from __future__ import annotations

import json

import pytest
import yaml
from marshmallow import ValidationError

from api import SPEC_PATH
from api.catalog import EntityArgs
from claimlookup.nlp import ENTITY_LABELS
from claimlookup.store.base import MAX_RESULT_WINDOW
from claimlookup.store.elastic import MAPPING_PATH


def test_the_elasticsearch_result_window_is_the_store_window() -> None:
    mapping = json.loads(MAPPING_PATH.read_text(encoding="utf-8"))
    assert mapping["settings"]["index"]["max_result_window"] == MAX_RESULT_WINDOW


def test_the_contract_lists_the_entity_labels_the_nlp_emits() -> None:
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    [parameter] = [p for p in spec["paths"]["/v1/entities"]["get"]["parameters"] if p["name"] == "type"]
    assert set(parameter["schema"]["enum"]) == ENTITY_LABELS
    assert len(parameter["schema"]["enum"]) == len(ENTITY_LABELS)


@pytest.mark.parametrize("label", sorted(ENTITY_LABELS))
def test_the_api_accepts_every_label_the_nlp_emits(label: str) -> None:
    assert EntityArgs().load({"type": label})["type"] == label


@pytest.mark.parametrize("label", ["DATE", "CARDINAL", "WORK_OF_ART", "person"])
def test_the_api_refuses_labels_the_nlp_never_emits(label: str) -> None:
    with pytest.raises(ValidationError):
        EntityArgs().load({"type": label})
