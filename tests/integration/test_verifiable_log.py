"""The log proves more than inclusion: rotated-out ledger keys sign nothing later, and bundles are complete.

Each forged bundle here is also judged by the independent verifier (tests/independent_verifier.py,
written from docs/bundle-format.md alone): both must refuse it, and both must accept the honest one.
"""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.log_heads import HEADS_AGGREGATE_ID
from ledger.bundle import export_bundle
from ledger.bundle_verify import verify_bundle
from ledger.head_commit import HeadsFollower, commit_heads, current_heads
from ledger.head_map import AggregateHead, HeadMap, entry_hash
from ledger.keys import KeyPair
from ledger.merkle_log import checkpoint
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import rotate_key, rotate_ledger_key
from ledger.signed_note import checkpoint_body, parse_checkpoint, sign_note
from ledger.verifier import VerifyOptions, verify_store
from tests import independent_verifier
from tests.integration.journeys import Dba, Journey, Recorder, actor_of, enrolled, forge, password_of, team

START = datetime.now(UTC) - timedelta(days=3)


def verdicts(bundle: dict[str, Any], trusted: set[bytes]) -> tuple[list[str], list[str]]:
    """What the ledger's verifier and the independent one say of the same bundle (as its JSON text)."""
    text = json.dumps(bundle)
    return verify_bundle(json.loads(text), trusted), independent_verifier.verify(text, trusted)


def refused_by_both(bundle: dict[str, Any], trusted: set[bytes]) -> list[str]:
    """The ledger's reasons, once both verifiers refused the bundle."""
    ours, theirs = verdicts(bundle, trusted)
    assert ours, "the ledger's verifier accepted a forged bundle"
    assert theirs, f"the independent verifier accepted a bundle the ledger refuses: {ours}"
    return ours


def verify_reasons(ledger: CustodyLedger, *against: str) -> set[str]:
    options = VerifyOptions(
        trusted={ledger.meta.ledger_key_pair().public_key} if not against else None,
        ledger_id=ledger.meta.ledger_id(),
        against=tuple(parse_checkpoint(note) for note in against),
    )
    return {failure.reason for failure in verify_store(ledger.store, options).failures}


@pytest.fixture
def rec(ledger: CustodyLedger) -> Recorder:
    return team(ledger)


@pytest.fixture
def journey(rec: Recorder) -> Journey:
    return enrolled(rec, START)


def resign(bundle: dict[str, Any], pair: KeyPair) -> dict[str, Any]:
    """The same bundle with its checkpoint signed by ``pair`` instead of the ledger's current key."""
    cp = parse_checkpoint(bundle["checkpoint"])
    forged = copy.deepcopy(bundle)
    forged["checkpoint"] = sign_note(checkpoint_body(cp.origin, cp.size, cp.root, cp.extensions), cp.origin, pair)
    return forged


# -- 1. rotated-out ledger keys --------------------------------------------------------------------------


def test_a_checkpoint_signed_by_a_ledger_key_after_its_revocation_is_refused_offline(
    ledger: CustodyLedger, journey: Journey
) -> None:
    genesis = ledger.meta.ledger_key_pair()
    rotate_ledger_key(ledger)
    bundle = export_bundle(ledger, journey.product)
    trusted = {genesis.public_key}
    assert verdicts(bundle, trusted) == ([], [])
    reasons = refused_by_both(resign(bundle, genesis), trusted)
    assert reasons == [f"the checkpoint is not signed by a ledger key valid at its size ({bundle_size(bundle)})"]


def bundle_size(bundle: dict[str, Any]) -> int:
    return parse_checkpoint(bundle["checkpoint"]).size


def test_a_checkpoint_signed_by_the_old_ledger_key_after_rotation_is_refused_by_verify_against(
    ledger: CustodyLedger, journey: Journey
) -> None:
    genesis = ledger.meta.ledger_key_pair()
    before = checkpoint(ledger)
    rotate_ledger_key(ledger)
    after = checkpoint(ledger)
    forged = sign_note(checkpoint_body(after.origin, after.size, after.root, after.extensions), after.origin, genesis)
    assert verify_reasons(ledger, before.note, after.note) == set()  # each signed inside its key's validity
    assert "bad_checkpoint_signature" in verify_reasons(ledger, forged)


def test_a_new_ledger_key_signs_no_tree_that_does_not_hold_its_registration(
    ledger: CustodyLedger, journey: Journey
) -> None:
    before = checkpoint(ledger)
    rotate_ledger_key(ledger)
    newer = ledger.meta.ledger_key_pair()
    forged = sign_note(
        checkpoint_body(before.origin, before.size, before.root, before.extensions), before.origin, newer
    )
    assert "bad_checkpoint_signature" in verify_reasons(ledger, forged)


# -- 2. order is the authenticated leaf index, nothing unsigned ----------------------------------------


def test_a_bundle_entry_carrying_an_unsigned_position_is_refused(ledger: CustodyLedger, journey: Journey) -> None:
    bundle = export_bundle(ledger, journey.product)
    trusted = {ledger.meta.ledger_key_pair().public_key}
    edited = copy.deepcopy(bundle)
    edited["key_events"][-1]["position"] = 1
    assert any("malformed entry" in reason for reason in refused_by_both(edited, trusted))


def test_key_events_out_of_leaf_order_are_refused(ledger: CustodyLedger, journey: Journey) -> None:
    bundle = export_bundle(ledger, journey.product)
    trusted = {ledger.meta.ledger_key_pair().public_key}
    swapped = copy.deepcopy(bundle)
    swapped["key_events"][-1], swapped["key_events"][-2] = swapped["key_events"][-2], swapped["key_events"][-1]
    assert any("leaf index) order" in reason for reason in refused_by_both(swapped, trusted))


def test_an_event_signed_by_a_key_after_its_revocation_is_refused_whatever_its_recorded_time(
    ledger: CustodyLedger, rec: Recorder, journey: Journey
) -> None:
    nurse = ledger.actor("nurse")[1]
    old_pair = ledger.signer_for(nurse, password_of("nurse"))
    rotate_key(ledger, "nurse", password_of("nurse"), by="ledger")
    forge(
        ledger, journey.product, "AnnotationAdded", {"text": "late"}, actor=actor_of(ledger, "nurse"), signer=old_pair
    )
    bundle = export_bundle(ledger, journey.product)
    assert any("revoked_key" in reason for reason in refused_by_both(bundle, {ledger_genesis(ledger)}))


def ledger_genesis(ledger: CustodyLedger) -> bytes:
    """The ledger's genesis public key, as ledger.pub's first line gives it."""
    first = (ledger.settings.home / "ledger.pub").read_text().split()[0]
    return base64.b64decode(first)


# -- 3. completeness -------------------------------------------------------------------------------------


def test_an_honest_bundle_proves_its_product_and_key_histories_complete(
    ledger: CustodyLedger, journey: Journey
) -> None:
    bundle = export_bundle(ledger, journey.product)
    assert verdicts(bundle, {ledger_genesis(ledger)}) == ([], [])
    assert bundle["heads"]["commitment"]["leaf_index"] == bundle_size(bundle) - 1
    assert str(journey.product) in bundle["heads"]["proofs"]


def test_a_bundle_missing_its_products_last_events_is_refused(
    ledger: CustodyLedger, rec: Recorder, journey: Journey
) -> None:
    rec("nurse", "AnnotationAdded", journey.product, START + timedelta(hours=1), "authored", text="label checked")
    bundle = export_bundle(ledger, journey.product)
    shortened = copy.deepcopy(bundle)
    del shortened["events"][-1]
    reasons = refused_by_both(shortened, {ledger_genesis(ledger)})
    assert any(reason.startswith("the product: its last event in the bundle") for reason in reasons)


def test_a_bundle_with_a_key_revocation_trimmed_is_refused(ledger: CustodyLedger, rec: Recorder) -> None:
    journey = enrolled(rec, START)
    rotate_key(ledger, "nurse", password_of("nurse"), by="ledger")
    bundle = export_bundle(ledger, journey.product)
    revocations = [i for i, e in enumerate(bundle["key_events"]) if '"type":"SigningKeyRevoked"' in e["stored"]]
    trimmed = copy.deepcopy(bundle)
    del trimmed["key_events"][revocations[-1]]
    reasons = refused_by_both(trimmed, {ledger_genesis(ledger)})
    assert any("is not the head the ledger committed" in reason for reason in reasons)


def test_a_checkpoint_ends_with_the_ledgers_commitment_of_every_head(ledger: CustodyLedger, journey: Journey) -> None:
    made = checkpoint(ledger)
    rows = list(ledger.store.scan())
    heads: dict[str, AggregateHead] = {}
    for row in rows[:-1]:
        aggregate = str(row.originator_id)
        heads[aggregate] = AggregateHead(aggregate, row.originator_version, entry_hash(bytes(row.state)))
    last = json.loads(bytes(rows[-1].state))["body"]
    assert made.size == len(rows)
    assert last["type"] == "AggregateHeadsCommitted" and last["actor"]["user_id"] == "ledger"
    assert last["payload"] == {
        "tree_size": len(rows) - 1,
        "aggregates": len(heads),
        "map_root": base64.b64encode(HeadMap(heads.values()).root).decode(),
    }
    assert checkpoint(ledger) == made  # nothing new: no second commitment, the same checkpoint


def test_a_commitment_never_describes_a_log_that_moved_while_it_was_read(
    ledger: CustodyLedger, rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    enrolled(rec, START)
    HeadsFollower(ledger.store).catch_up()
    stale = current_heads(ledger.store)
    forge(ledger, HEADS_AGGREGATE_ID, "AnnotationAdded", {"text": "x"}, actor=actor_of(ledger, "ledger"),
          signer=ledger.meta.ledger_key_pair(), aggregate_kind="log")  # fmt: skip
    reads = iter([stale])
    real = current_heads
    monkeypatch.setattr("ledger.head_commit.current_heads", lambda store: next(reads, None) or real(store))
    commitment, size = commit_heads(ledger, ledger.clock.now())
    assert commitment.body["payload"]["tree_size"] == size == stale[1] + 1  # read again after the refusal


def test_verify_names_a_commitment_that_does_not_describe_the_rows_before_it(
    ledger: CustodyLedger, journey: Journey
) -> None:
    lying = {"tree_size": 1, "aggregates": 1, "map_root": base64.b64encode(b"\x00" * 32).decode()}
    forge(ledger, HEADS_AGGREGATE_ID, "AggregateHeadsCommitted", lying, actor=actor_of(ledger, "ledger"),
          signer=ledger.meta.ledger_key_pair(), aggregate_kind="log")  # fmt: skip
    assert "heads_commitment_mismatch" in verify_reasons(ledger)


def test_verify_names_a_commitment_signed_by_someone_else_than_the_ledger(
    ledger: CustodyLedger, rec: Recorder, journey: Journey
) -> None:
    nurse = ledger.actor("nurse")[1]
    payload = {"tree_size": 0, "aggregates": 0, "map_root": base64.b64encode(b"\x00" * 32).decode()}
    forge(ledger, HEADS_AGGREGATE_ID, "AggregateHeadsCommitted", payload, actor=actor_of(ledger, "nurse"),
          signer=ledger.signer_for(nurse, password_of("nurse")), aggregate_kind="log")  # fmt: skip
    assert "unauthorised_commitment" in verify_reasons(ledger)


def test_deleting_an_event_before_a_commitment_is_named_by_the_commitment(
    ledger: CustodyLedger, settings: Settings, journey: Journey
) -> None:
    checkpoint(ledger)
    latest = ledger.history(journey.product)[-1]
    dba = Dba(settings)
    try:
        row = dba.row(journey.product, latest.version).position
        dba.disable_immutability()
        dba.delete(journey.product, latest.version)
    finally:
        dba.close()
    report = verify_store(ledger.store, VerifyOptions(trusted=None, ledger_id=ledger.meta.ledger_id()))
    by_reason = {failure.reason: failure for failure in report.failures}
    assert {"heads_commitment_mismatch", "truncated_log", "follower_mismatch"} <= set(by_reason)
    located = by_reason["truncated_log"]  # not "aggregate checkpoint version 0": where the deletion is
    assert (located.aggregate_id, located.version, located.position) == (str(journey.product), latest.version, row)


def test_verify_names_the_leaf_of_the_followers_table_that_disagrees_with_the_rows(
    ledger: CustodyLedger, journey: Journey
) -> None:
    checkpoint(ledger)
    with ledger.store.side_transaction() as cursor:  # a DBA rewrites a leaf the follower stored
        cursor.execute("UPDATE merkle_leaves SET leaf_hash = %s WHERE leaf_index = 2", (b"\x00" * 32,))
    report = verify_store(ledger.store, VerifyOptions(trusted=None, ledger_id=ledger.meta.ledger_id()))
    [mismatch] = [failure for failure in report.failures if failure.reason == "follower_mismatch"]
    assert "leaf 2 (log position" in mismatch.detail
