"""Payload checking: every malformed field is refused by name and rule; accepted ones come back JSON-safe."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import pytest

from domain.errors import InvalidIdentifier, InvalidInput
from domain.payloads import (
    NON_EMPTY,
    Bounds,
    CoiText,
    DinText,
    IdText,
    Length,
    PositiveNumber,
    Timestamp,
    parse_payload,
    parse_time,
    payload_to_json,
)


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Item:
    name: str
    ok: bool


@dataclass(frozen=True)
class Sample:
    label: str
    volume_ml: PositiveNumber
    grade: Annotated[int, Bounds(low=1, high=5)]
    colour: Colour
    at: Timestamp
    items: Annotated[list[Item], NON_EMPTY]
    tags: Annotated[list[str], Length(0, 2)]
    extra: dict[str, Any]
    coi: CoiText | None = None
    din: DinText | None = None
    ref: IdText | None = None
    note: str | None = None


def valid(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "label": " bag 1 ",
        "volume_ml": 12,
        "grade": 2,
        "colour": "red",
        "at": "2026-01-05T08:00:00Z",
        "items": [{"name": "sterility", "ok": True}],
        "tags": ["a"],
        "extra": {"k": [1, "x", None]},
    }
    data.update(changes)
    return data


def refused(data: object, field: str, rule: str, message: str, error: type[InvalidInput] = InvalidInput) -> None:
    with pytest.raises(error) as caught:
        parse_payload(Sample, data)
    assert type(caught.value) is error
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert message in caught.value.message


def test_a_valid_payload_is_normalised_and_survives_json() -> None:
    sample = parse_payload(
        Sample,
        valid(coi="chA99992600001a", din="=G12349865432177", ref="6F9619FF-8B86-D011-B42D-00CF4FC964FF"),
    )
    assert sample.label == "bag 1"
    assert sample.volume_ml == 12.0 and isinstance(sample.volume_ml, float)
    assert sample.colour is Colour.RED
    assert sample.items == [Item("sterility", True)]
    as_json = payload_to_json(sample)
    assert json.loads(json.dumps(as_json)) == as_json
    assert as_json["at"] == "2026-01-05T08:00:00+00:00"
    assert as_json["coi"] == "CHA99992600001A"
    assert as_json["din"] == "G123498654321"
    assert as_json["ref"] == "6f9619ff-8b86-d011-b42d-00cf4fc964ff"
    assert as_json["colour"] == "red"
    assert "note" not in as_json


def test_the_json_form_parses_back_to_the_same_payload() -> None:
    sample = parse_payload(Sample, valid(note="n"))
    assert parse_payload(Sample, payload_to_json(sample)) == sample


def test_a_payload_must_be_an_object() -> None:
    refused(["label"], "payload", "wrong_type", "must be an object")


def test_a_missing_field_is_named() -> None:
    data = valid()
    del data["label"]
    refused(data, "payload.label", "required", "payload.label is required")


def test_a_null_required_field_counts_as_missing() -> None:
    refused(valid(label=None), "payload.label", "required", "is required")


def test_an_unknown_field_is_refused_with_the_known_ones() -> None:
    refused(valid(colour_code="r"), "payload.colour_code", "unknown_field", "known fields: label")


def test_blank_text_is_refused() -> None:
    refused(valid(label="   "), "payload.label", "empty_text", "must not be empty")


def test_text_must_be_text() -> None:
    refused(valid(label=3), "payload.label", "wrong_type", "must be text, got int")


def test_a_number_must_be_a_number_not_a_boolean() -> None:
    refused(valid(volume_ml=True), "payload.volume_ml", "wrong_type", "must be a number")


def test_a_volume_must_be_positive() -> None:
    refused(valid(volume_ml=0), "payload.volume_ml", "out_of_range", "must be greater than 0")


def test_a_grade_must_be_a_whole_number_within_bounds() -> None:
    refused(valid(grade=2.5), "payload.grade", "wrong_type", "must be a whole number")
    refused(valid(grade=6), "payload.grade", "out_of_range", "must be at most 5")


def test_an_enum_value_must_be_one_of_the_allowed() -> None:
    refused(valid(colour="green"), "payload.colour", "invalid_choice", "is not one of red, blue")


def test_a_time_needs_an_offset() -> None:
    refused(valid(at="2026-01-05T08:00:00"), "payload.at", "timezone_required", "no time zone offset")


def test_a_time_must_be_iso_8601() -> None:
    refused(valid(at="yesterday"), "payload.at", "invalid_datetime", "not an ISO 8601")


def test_nested_fields_are_named_with_their_position() -> None:
    refused(valid(items=[{"name": "x", "ok": "yes"}]), "payload.items[0].ok", "wrong_type", "true or false")


def test_list_lengths_are_enforced() -> None:
    refused(valid(items=[]), "payload.items", "too_few_items", "at least 1")
    refused(valid(tags=["a", "b", "c"]), "payload.tags", "too_many_items", "at most 2")
    refused(valid(tags="a"), "payload.tags", "wrong_type", "must be a list")


def test_free_mappings_must_stay_json_safe() -> None:
    refused(valid(extra={"k": {1, 2}}), "payload.extra.k", "wrong_type", "got set")


def test_identifiers_are_checked_with_their_check_character() -> None:
    refused(valid(din="G1234986543210"), "payload.din", "check_character", "expected H", InvalidIdentifier)
    refused(valid(coi="XX"), "payload.coi", "coi_format", "payload.coi", InvalidIdentifier)


def test_ids_must_be_uuids() -> None:
    refused(valid(ref="not-a-uuid"), "payload.ref", "invalid_id", "is not an id")


def test_parse_time_refuses_naive_times() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_time("2026-01-05T08:00:00", field="payload.x")
    assert caught.value.rule == "timezone_required"
