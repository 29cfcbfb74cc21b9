"""`custody verify`: intact after the demo; one edited byte in the store is found and named."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from uuid import UUID

import pytest

from tests.e2e.conftest import Custody

# The first demo product's ApheresisCollected (version 2) carries "volume_ml":245 as its last payload field.
ORIGINAL = b'"volume_ml":245}'
EDITED = b'"volume_ml":345}'
EDITED_VERSION = 2


def edit_one_stored_byte(custody: Custody, aggregate_id: str, version: int, *, keep_blob: bool = True) -> int:
    """Rewrite one byte of one stored event past the database's refusal; return its log position.

    ``keep_blob=False`` uses SQLite's plain replace(), which stores the result as TEXT.
    """
    if custody.backend == "sqlite":
        replaced = "CAST(replace(state, ?, ?) AS BLOB)" if keep_blob else "replace(state, ?, ?)"
        with closing(sqlite3.connect(custody.sqlite_path)) as conn:
            conn.execute("DROP TRIGGER stored_events_refuse_update")
            key = (UUID(aggregate_id).hex, aggregate_id, version)
            row = conn.execute(
                "SELECT rowid FROM stored_events WHERE originator_id IN (?, ?) AND originator_version = ?", key
            ).fetchone()
            assert row is not None
            changed = conn.execute(
                f"UPDATE stored_events SET state = {replaced} WHERE rowid = ? AND instr(state, ?) > 0",
                (ORIGINAL, EDITED, row[0], ORIGINAL),
            ).rowcount
            conn.commit()
        assert changed == 1
        return int(row[0])
    with custody.pg() as conn:
        conn.execute("ALTER TABLE custody_events DISABLE TRIGGER USER")
        row = conn.execute(
            "UPDATE custody_events SET state = overlay(state PLACING %s FROM position(%s IN state) FOR %s) "
            "WHERE originator_id = %s AND originator_version = %s AND position(%s IN state) > 0 "
            "RETURNING notification_id",
            (EDITED, ORIGINAL, len(ORIGINAL), UUID(aggregate_id), version, ORIGINAL),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_verify_after_the_demo_exits_0_and_says_intact(demo_ledger: Custody) -> None:
    result = demo_ledger.run("verify")

    assert result.stdout.strip().endswith(": intact")
    assert "FAIL" not in result.stdout
    assert "warning" not in result.stderr


def test_verify_json_after_the_demo_is_intact_over_more_than_80_events_against_the_trust_anchor(
    demo_ledger: Custody,
) -> None:
    report = demo_ledger.run_json("verify")

    assert report["intact"] is True
    assert report["events"] > 80
    assert report["failures"] == []
    assert report["trust_anchor"] is True


def test_verify_strict_after_the_demo_is_intact(demo_ledger: Custody) -> None:
    report = demo_ledger.run_json("verify", "--strict", "--workers", "1")

    assert report["intact"] is True


def test_verify_after_one_stored_byte_is_edited_exits_1_naming_aggregate_version_position_and_reason(
    fresh_demo: Custody,
) -> None:
    product = fresh_demo.demo["products"][0]
    size = fresh_demo.ledger_size()
    position = edit_one_stored_byte(fresh_demo, product, EDITED_VERSION)

    result = fresh_demo.run("verify", expect=1)
    report = fresh_demo.run_json("verify", expect=1)

    # The event itself fails, the follower's leaf for it no longer matches the row, and so does the demo's
    # closing checkpoint, whose root no longer matches.
    fail_lines = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(fail_lines) == 3, result.stdout
    assert fail_lines[0].startswith(
        f"FAIL position {position} aggregate {product} version {EDITED_VERSION}: edited_record: "
    )
    assert fail_lines[1].startswith(
        f"FAIL position {position} aggregate {product} version {EDITED_VERSION}: follower_mismatch: "
    )
    assert fail_lines[2].startswith(f"FAIL position {size} aggregate checkpoint version 0: checkpoint_mismatch: ")
    assert result.stdout.strip().endswith("3 failure(s)")
    assert report["intact"] is False
    assert report["events"] == size
    assert [(f["position"], f["aggregate_id"], f["version"], f["reason"]) for f in report["failures"]] == [
        (position, product, EDITED_VERSION, "edited_record"),
        (position, product, EDITED_VERSION, "follower_mismatch"),
        (size, "checkpoint", 0, "checkpoint_mismatch"),
    ]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_verify_names_an_edited_sqlite_record_even_when_the_edit_stored_it_as_text(fresh_demo: Custody) -> None:
    product = fresh_demo.demo["products"][0]
    position = edit_one_stored_byte(fresh_demo, product, EDITED_VERSION, keep_blob=False)

    result = fresh_demo.run("verify", expect=None)

    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1
    assert f"FAIL position {position} aggregate {product} version {EDITED_VERSION}: " in result.stdout
