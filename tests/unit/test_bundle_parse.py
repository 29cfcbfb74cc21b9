"""A bundle's text is read strictly: I-JSON (no duplicate names, no NaN) and only its format's keys."""

from __future__ import annotations

import json

import pytest

from ledger.bundle_parse import BUNDLE_FORMAT, BundleError, parse_bundle_text
from tests import independent_verifier

MINIMAL = {
    "format": BUNDLE_FORMAT, "ledger_id": "l", "product_id": "p", "checkpoint": "", "key_events": [], "events": [],
    "heads": {},
}  # fmt: skip


def refusal(text: str) -> str:
    with pytest.raises(BundleError) as refused:
        parse_bundle_text(text)
    assert independent_verifier.verify(text, None), "the independent verifier accepted it"
    return refused.value.rule


def test_a_well_formed_bundle_text_reads_back_as_its_object() -> None:
    assert parse_bundle_text(json.dumps(MINIMAL)) == MINIMAL


def test_a_duplicated_member_name_is_refused_wherever_it_is() -> None:
    assert refusal(json.dumps(MINIMAL)[:-1] + ', "product_id": "other"}') == "duplicate_key"
    assert refusal(json.dumps(MINIMAL).replace('"heads": {}', '"heads": {"a": 1, "a": 2}')) == "duplicate_key"


def test_nan_and_infinity_are_not_i_json() -> None:
    assert refusal(json.dumps({**MINIMAL, "events": [float("nan")]})) == "not_i_json"


def test_an_unknown_top_level_key_of_a_known_version_is_refused() -> None:
    assert refusal(json.dumps({**MINIMAL, "position": 3})) == "unknown_key"


def test_an_older_or_unknown_format_version_is_refused() -> None:
    assert refusal(json.dumps({**MINIMAL, "format": "custody-ledger/bundle/v1"})) == "unknown_format"
    assert refusal("[]") == "unreadable_bundle"
