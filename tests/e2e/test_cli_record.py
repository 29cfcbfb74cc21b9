"""`custody record`: one signed step stored whole, or refused whole with the field named (exit 2).

These tests share one scratch ledger per backend (`scratch_ledger`) and assert
only relative changes: what one command added, or that it added nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import Custody

NURSE_PASSWORD = "nurse-demo-pass\n"


def _history(custody: Custody, product: str) -> list[dict[str, Any]]:
    events = custody.run_json("show", product)["events"]
    assert isinstance(events, list)
    return events


def _annotate(custody: Custody, product: str, *extra: str, stdin: str = NURSE_PASSWORD, expect: int = 0) -> Any:
    return custody.run(
        "record",
        "AnnotationAdded",
        product,
        "--user",
        "nurse",
        "--password-stdin",
        "--payload",
        json.dumps({"text": "bag label photographed"}),
        *extra,
        stdin=stdin,
        expect=expect,
    )


def test_a_nurse_records_an_annotation_with_password_stdin_and_the_history_grows_by_one(
    scratch_ledger: Custody,
) -> None:
    product = scratch_ledger.demo["products"][0]
    before = _history(scratch_ledger, product)

    result = _annotate(scratch_ledger, product, "--meaning", "authored")

    after = _history(scratch_ledger, product)
    assert after[: len(before)] == before
    assert len(after) == len(before) + 1
    added = after[-1]["body"]
    assert (added["type"], added["meaning"], added["actor"]["user_id"]) == ("AnnotationAdded", "authored", "nurse")
    assert added["payload"] == {"text": "bag label photographed"}
    assert added["prev_hash"] == before[-1]["hash"]
    assert result.stdout.startswith(f"recorded v{len(after)} ")
    assert "nurse-demo-pass" not in result.stdout + result.stderr
    assert scratch_ledger.run_json("verify")["intact"] is True


def test_record_json_prints_the_stored_envelopes_as_a_list_and_accepts_the_coi(scratch_ledger: Custody) -> None:
    product = scratch_ledger.demo["products"][1]
    coi = scratch_ledger.run_json("show", product)["state"]["coi"]

    result = _annotate(scratch_ledger, coi, "--meaning", "authored", "--json")

    envelopes = json.loads(result.stdout)
    assert isinstance(envelopes, list) and len(envelopes) == 1
    envelope = envelopes[0]
    assert set(envelope) == {"body", "hash", "signature"}
    assert envelope["body"]["aggregate_id"] == product
    assert envelope["body"]["type"] == "AnnotationAdded"
    assert _history(scratch_ledger, product)[-1] == envelope


REFUSALS = [
    pytest.param(
        ["AnnotationAdded", "--meaning", "authored"],
        "wrong-password\n",
        None,
        "wrong password",
        id="a wrong password",
    ),
    pytest.param(["AnnotationAdded"], NURSE_PASSWORD, "meaning", "rule: meaning_required", id="no meaning"),
    pytest.param(
        ["AnnotationAdded", "--meaning", "recorded"],
        NURSE_PASSWORD,
        "meaning",
        "rule: meaning_not_allowed",
        id="a meaning that does not fit the event type",
    ),
    pytest.param(
        ["AnnotationAdded", "--meaning", "authored", "--occurred-at", "2999-01-01T00:00:00+00:00"],
        NURSE_PASSWORD,
        "occurred_at",
        "in the future",
        id="occurred-at in the future",
    ),
    pytest.param(
        ["AnnotationAdded", "--meaning", "authored", "--occurred-at", "yesterday"],
        NURSE_PASSWORD,
        "occurred_at",
        "ISO 8601",
        id="occurred-at that is not ISO 8601",
    ),
    pytest.param(
        ["NoSuchEvent", "--meaning", "authored"],
        NURSE_PASSWORD,
        "type",
        "unknown event type 'NoSuchEvent'",
        id="an unknown event type",
    ),
    pytest.param(
        ["AnnotationAdded", "--meaning", "authored", "--payload", "{not json"],
        NURSE_PASSWORD,
        "payload",
        "not valid JSON",
        id="a payload that is not JSON",
    ),
    pytest.param(
        ["AnnotationAdded", "--meaning", "authored", "--payload", "{}"],
        NURSE_PASSWORD,
        "payload.text",
        "payload.text is required",
        id="a payload missing a required field",
    ),
    pytest.param(
        ["AnnotationAdded", "--meaning", "authored"],
        "",
        None,
        "standard input is empty",
        id="password-stdin with nothing on standard input",
    ),
]


@pytest.mark.parametrize(("args", "stdin", "field", "says"), REFUSALS)
def test_record_refuses_with_exit_2_naming_the_problem_and_stores_nothing(
    scratch_ledger: Custody, args: list[str], stdin: str, field: str | None, says: str
) -> None:
    event_type, *options = args
    product = scratch_ledger.demo["products"][0]
    if "--payload" not in options:
        options += ["--payload", json.dumps({"text": "refused note"})]
    rows = scratch_ledger.stored_rows()

    result = scratch_ledger.run(
        "record", event_type, product, "--user", "nurse", "--password-stdin", *options, stdin=stdin, expect=2
    )

    assert result.stderr.startswith("custody: error: "), result.stderr
    assert says in result.stderr
    if field is not None:
        assert f"[field: {field};" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert scratch_ledger.stored_rows() == rows


def test_record_refusal_with_json_prints_the_field_and_rule_as_json(scratch_ledger: Custody) -> None:
    product = scratch_ledger.demo["products"][0]
    rows = scratch_ledger.stored_rows()

    refusal = scratch_ledger.run_json(
        "record", "AnnotationAdded", product, "--user", "nurse", "--password-stdin", stdin=NURSE_PASSWORD, expect=2
    )

    assert (refusal["field"], refusal["rule"]) == ("meaning", "meaning_required")
    assert scratch_ledger.stored_rows() == rows


def test_record_without_a_password_source_and_no_terminal_exits_2_saying_how_to_give_one(
    scratch_ledger: Custody,
) -> None:
    product = scratch_ledger.demo["products"][0]
    rows = scratch_ledger.stored_rows()

    result = scratch_ledger.run(
        "record", "AnnotationAdded", product, "--user", "nurse", "--meaning", "authored", expect=2
    )

    assert "--password-stdin" in result.stderr
    assert scratch_ledger.stored_rows() == rows


def test_record_takes_the_password_from_custody_password(scratch_ledger: Custody) -> None:
    product = scratch_ledger.demo["products"][0]
    rows = scratch_ledger.stored_rows()

    scratch_ledger.run(
        "record",
        "AnnotationAdded",
        product,
        "--user",
        "nurse",
        "--meaning",
        "authored",
        "--payload",
        '{"text": "from the environment"}',
        CUSTODY_PASSWORD="nurse-demo-pass",
    )

    assert scratch_ledger.stored_rows() == rows + 1
