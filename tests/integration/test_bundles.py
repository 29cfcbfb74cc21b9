"""A product's exported bundle verifies offline, and any edit, forged proof or foreign key is named."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger.bundle import export_bundle
from ledger.bundle_verify import verify_bundle
from ledger.keys import KeyPair
from ledger.service import CustodyLedger
from tests.integration.journeys import released_and_stored, team


@pytest.fixture
def exported(ledger: CustodyLedger) -> tuple[dict[str, Any], set[bytes]]:
    journey = released_and_stored(team(ledger), datetime.now(UTC) - timedelta(days=40))
    return export_bundle(ledger, journey.product), {ledger.meta.ledger_key_pair().public_key}


def test_an_exported_bundle_verifies_with_the_ledger_key_alone(exported: tuple[dict[str, Any], set[bytes]]) -> None:
    bundle, trusted = exported
    assert json.loads(json.dumps(bundle)) == bundle  # plain JSON, nothing else needed
    assert verify_bundle(bundle, trusted) == []
    assert bundle["events"] and bundle["key_events"]


def test_an_edited_event_in_a_bundle_is_named(exported: tuple[dict[str, Any], set[bytes]]) -> None:
    bundle, trusted = exported
    edited = copy.deepcopy(bundle)
    edited["events"][0]["stored"] = edited["events"][0]["stored"].replace('"approved"', '"performed"')
    problems = verify_bundle(edited, trusted)
    assert any(p.startswith("event 1: its inclusion proof") for p in problems)


def test_a_forged_proof_is_refused(exported: tuple[dict[str, Any], set[bytes]]) -> None:
    bundle, trusted = exported
    forged = copy.deepcopy(bundle)
    first = base64.b64decode(forged["events"][-1]["proof"][0])
    forged["events"][-1]["proof"][0] = base64.b64encode(bytes([first[0] ^ 1]) + first[1:]).decode()
    assert any("inclusion proof" in p for p in verify_bundle(forged, trusted))


def test_an_edited_checkpoint_root_is_refused(exported: tuple[dict[str, Any], set[bytes]]) -> None:
    bundle, trusted = exported
    edited = copy.deepcopy(bundle)
    lines = edited["checkpoint"].split("\n")
    lines[2] = base64.b64encode(b"\x00" * 32).decode()
    edited["checkpoint"] = "\n".join(lines)
    problems = verify_bundle(edited, trusted)
    assert any(p.startswith("the checkpoint is not signed by a ledger key valid at its size") for p in problems)


def test_a_bundle_checked_against_another_ledgers_key_fails(exported: tuple[dict[str, Any], set[bytes]]) -> None:
    bundle, _ = exported
    problems = verify_bundle(bundle, {KeyPair.generate().public_key})
    assert any("untrusted_ledger_key" in p for p in problems)
    assert any(p.startswith("the checkpoint is not signed by a ledger key valid at its size") for p in problems)


def test_a_dropped_event_breaks_the_bundles_chain(exported: tuple[dict[str, Any], set[bytes]]) -> None:
    bundle, trusted = exported
    shortened = copy.deepcopy(bundle)
    del shortened["events"][0]
    assert any("not this product" in p or "broken chain" in p for p in verify_bundle(shortened, trusted))


def test_an_unknown_bundle_format_is_named() -> None:
    assert verify_bundle({"format": "custody-ledger/bundle/v9"}, None) == [
        "unknown bundle format 'custody-ledger/bundle/v9' (this verifier reads custody-ledger/bundle/v2)"
    ]
