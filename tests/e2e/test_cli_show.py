"""`custody show`: a product by UUID or COI, its state and signed history; clear refusals otherwise."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from domain.identifiers import parse_coi
from tests.e2e.conftest import Custody


def _first_product(custody: Custody) -> dict[str, Any]:
    shown = custody.run_json("show", custody.demo["products"][0])
    assert isinstance(shown, dict)
    return shown


def _wrong_check_character(coi: str) -> str:
    right = parse_coi(coi).check_character
    return next(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*" if c != right)


def test_show_json_of_the_first_demo_product_is_infused_with_every_event_carrying_body_hash_and_signature(
    demo_ledger: Custody,
) -> None:
    shown = _first_product(demo_ledger)

    assert shown["id"] == demo_ledger.demo["products"][0]
    state = shown["state"]
    assert isinstance(state, dict)
    assert state["state"] == "infused"
    assert state["patient_pseudonym"] == "PSN-SLE-0001"
    events = shown["events"]
    assert isinstance(events, list) and events
    assert all(set(event) == {"body", "hash", "signature"} for event in events)
    assert [event["body"]["version"] for event in events] == list(range(1, len(events) + 1))
    assert events[0]["body"]["type"] == "ProductEnrolled"
    assert all(event["body"]["aggregate_id"] == shown["id"] for event in events)


def test_show_without_json_prints_the_state_and_one_line_per_event(demo_ledger: Custody) -> None:
    product = demo_ledger.demo["products"][0]

    result = demo_ledger.run("show", product)

    assert result.stdout.startswith(f"product {product}\n")
    assert "  state: infused" in result.stdout
    assert "ProductEnrolled" in result.stdout and "Infused" in result.stdout


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("{coi}", id="as printed"),
        pytest.param("{coi} {check}", id="eye-readable with check character"),
        pytest.param("&/{coi}", id="barcode data structure"),
    ],
)
def test_show_accepts_the_coi_instead_of_the_uuid_and_finds_the_same_product(
    demo_ledger: Custody, template: str
) -> None:
    first = _first_product(demo_ledger)
    coi = first["state"]["coi"]

    by_coi = demo_ledger.run_json("show", template.format(coi=coi, check=parse_coi(coi).check_character))

    assert by_coi["id"] == first["id"]
    assert by_coi["state"]["coi"] == coi


def test_show_of_an_unknown_id_exits_2_naming_the_product_field(demo_ledger: Custody) -> None:
    unknown = str(uuid.uuid4())

    result = demo_ledger.run("show", unknown, expect=2)
    refusal = demo_ledger.run_json("show", unknown, expect=2)

    assert unknown in result.stderr
    assert "[field: product; rule: not_found]" in result.stderr
    assert result.stdout == ""
    assert (refusal["field"], refusal["rule"]) == ("product", "not_found")


def test_show_of_a_coi_with_a_wrong_check_character_exits_2_explaining_the_check_character(
    demo_ledger: Custody,
) -> None:
    coi = _first_product(demo_ledger)["state"]["coi"]
    misread = f"{coi} {_wrong_check_character(coi)}"

    result = demo_ledger.run("show", misread, expect=2)

    assert "check character" in result.stderr
    assert "Mod 37-2" in result.stderr
    assert "[field: product;" in result.stderr


def test_show_of_a_coi_with_a_wrong_check_character_names_the_check_character_rule(demo_ledger: Custody) -> None:
    coi = _first_product(demo_ledger)["state"]["coi"]
    misread = f"{coi}{_wrong_check_character(coi)}"

    result = demo_ledger.run("show", misread, expect=2)
    refusal = demo_ledger.run_json("show", misread, expect=2)

    assert "rule: check_character]" in result.stderr, result.stderr
    assert (refusal["field"], refusal["rule"]) == ("product", "check_character")


def test_show_of_text_that_is_neither_uuid_nor_coi_exits_2_naming_the_product_field(demo_ledger: Custody) -> None:
    result = demo_ledger.run("show", "not-a-product", expect=2)

    assert "neither a UUID nor a valid COI" in result.stderr
    assert "[field: product;" in result.stderr
