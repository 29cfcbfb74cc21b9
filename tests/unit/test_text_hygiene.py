"""What a signed record may hold in its words: refused texts name their field and their rule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.errors import InvalidInput
from domain.payloads import parse_payload, parse_time
from domain.product_events import ManufacturingStarted
from domain.product_exception_events import AnnotationAdded, EventCorrected
from domain.text import first_bad_text


def refusal(cls: type[Any], payload: dict[str, Any]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_payload(cls, payload)
    return caught.value


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("label\x00photographed", "control_character"),
        ("\x1b[2Jcleared", "control_character"),
        ("bell\x07", "control_character"),
        ("next\x85line", "control_character"),
        ("COI \u202eKCAB", "control_character"),
        ("half a pair \ud800", "invalid_unicode"),
        ("cafe\u0301", "text_not_nfc"),
    ],
)
def test_a_note_with_an_invisible_or_unstorable_character_is_refused_naming_the_field(text: str, rule: str) -> None:
    error = refusal(AnnotationAdded, {"text": text})
    assert (error.field, error.rule) == ("payload.text", rule)


def test_free_text_keeps_its_line_breaks_and_tabs_and_reads_browser_line_endings_as_lf() -> None:
    note = parse_payload(AnnotationAdded, {"text": "bag intact\r\nseal 4411\tchecked"})
    assert note.text == "bag intact\nseal 4411\tchecked"


def test_a_one_line_field_refuses_a_line_break_inside_it() -> None:
    error = refusal(ManufacturingStarted, {"lot": "LOT-1\nLOT-2", "site": "Manufacturer A"})
    assert (error.field, error.rule) == ("payload.lot", "control_character")


def test_a_scanner_s_trailing_enter_is_not_part_of_a_one_line_field() -> None:
    assert parse_payload(ManufacturingStarted, {"lot": "LOT-1\n", "site": "Manufacturer A"}).lot == "LOT-1"


def test_composed_accents_are_accepted_as_typed() -> None:
    assert parse_payload(AnnotationAdded, {"text": "café décongelé"}).text == "café décongelé"


def test_texts_longer_than_their_field_allows_are_refused() -> None:
    assert parse_payload(AnnotationAdded, {"text": "x" * 4000}).text == "x" * 4000
    assert refusal(AnnotationAdded, {"text": "x" * 4001}).rule == "text_too_long"
    assert parse_payload(ManufacturingStarted, {"lot": "L" * 500, "site": "A"}).lot == "L" * 500
    error = refusal(ManufacturingStarted, {"lot": "L" * 501, "site": "A"})
    assert (error.field, error.rule) == ("payload.lot", "text_too_long")


def test_free_form_fields_are_checked_inside_keys_and_values_and_depth() -> None:
    base = {"corrects_version": 2, "reason": "typo"}
    value = refusal(EventCorrected, {**base, "corrections": {"volume": {"unit": "m\x00l"}}})
    assert (value.field, value.rule) == ("payload.corrections.volume.unit", "control_character")
    key = refusal(EventCorrected, {**base, "corrections": {"vol\x00ume": 1}})
    assert key.rule == "control_character" and key.field is not None and key.field.startswith("payload.corrections")
    nested: Any = 1
    for _ in range(12):
        nested = {"a": nested}
    deep = refusal(EventCorrected, {**base, "corrections": nested})
    assert deep.rule == "too_deep"
    shallow: Any = 1
    for _ in range(5):
        shallow = {"a": shallow}
    assert parse_payload(EventCorrected, {**base, "corrections": shallow}).corrections == shallow


def test_a_time_that_leaves_the_calendar_once_in_utc_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_time("0001-01-01T00:00:00+14:00", field="payload.started_at")
    assert (caught.value.field, caught.value.rule) == ("payload.started_at", "out_of_range")
    with pytest.raises(InvalidInput):
        parse_time("9999-12-31T23:59:59-01:00")
    assert parse_time("0001-01-01T00:00:00Z") == datetime(1, 1, 1, tzinfo=UTC)


def test_a_whole_body_names_the_first_bad_text_wherever_it_is() -> None:
    body = {"type": "AnnotationAdded", "payload": {"list": ["ok", "bad\ud83d"]}}
    assert first_bad_text(body, "body") == (
        "body.payload.list[1]",
        "invalid_unicode",
        "holds a lone surrogate U+D83D, which is not a character",
    )
    assert first_bad_text({"payload": {"text": "line one\nline two"}}, "body") is None
