"""The row checks hand back a row's document references, as the document pass reads them, so the log is read once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from domain.events import Actor
from ledger.envelope import event_body, seal
from ledger.key_history import KeyHistory
from ledger.keys import KeyPair
from ledger.row_check import PlainRow, Reference, RowRules, check_row

AGGREGATE = uuid.UUID("0b7e3c52-5d1c-4c43-9a57-3f0f3f8e2a11")
WHEN = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
REF = {"sha256": "ab" * 32, "media_type": "application/pdf", "size_bytes": 81}
RULES = RowRules(KeyHistory(), None, "ledger", True, {"QcResultsRecorded": ("document", "annex")})


def stored(event_type: str, payload: dict[str, Any], version: int = 3) -> bytes:
    body = event_body(
        ledger_id="ledger-1",
        aggregate_id=AGGREGATE,
        aggregate_kind="product",
        version=version,
        event_type=event_type,
        payload=payload,
        occurred_at=WHEN,
        recorded_at=WHEN,
        actor=Actor(user_id="qc", name="Q. C.", role="qc"),
        meaning="reviewed",
        prev_hash=None,
        key_id="k1",
    )
    return seal(body, KeyPair.generate()).stored


def row(state: bytes, topic: str = "QcResultsRecorded", version: int = 3) -> PlainRow:
    return PlainRow(41, AGGREGATE.hex, version, topic, state)


def test_a_document_event_hands_back_each_reference_it_holds_with_the_signed_aggregate_and_version() -> None:
    checked = check_row(row(stored("QcResultsRecorded", {"document": REF, "annex": None, "tests": []})), RULES)
    assert checked.references == (Reference("0b7e3c52-5d1c-4c43-9a57-3f0f3f8e2a11", 3, "document", REF),)


def test_the_fields_are_those_of_the_signed_type_and_only_rows_stored_under_a_document_topic_are_read() -> None:
    annotated = stored("AnnotationAdded", {"document": REF})
    assert check_row(row(annotated, topic="AnnotationAdded"), RULES).references == ()
    # Stored under a document topic but signed as another type (a misplaced event): that type has no document field.
    assert check_row(row(annotated), RULES).references == ()


def test_an_edited_row_still_hands_back_its_references_and_bytes_that_are_no_envelope_none() -> None:
    edited = stored("QcResultsRecorded", {"document": REF, "annex": REF}).replace(b'"reviewed"', b'"Reviewed"')
    checked = check_row(row(edited), RULES)
    assert [failure.reason for failure in checked.failures] == ["edited_record"]
    assert checked.references == (
        Reference("0b7e3c52-5d1c-4c43-9a57-3f0f3f8e2a11", 3, "document", REF),
        Reference("0b7e3c52-5d1c-4c43-9a57-3f0f3f8e2a11", 3, "annex", REF),
    )
    for state in (b'{"body": [1, 2], "hash": "x", "signature": "y"}', b'{"body": {}}', b"not json"):
        checked = check_row(row(state), RULES)
        assert [failure.reason for failure in checked.failures] == ["undecodable_record"]
        assert checked.references == ()
