"""Setting up a ledger: idempotent, with a trust anchor, on both backends."""

from __future__ import annotations

from ledger.service import CustodyLedger
from ledger.setup import initialise
from ledger.verifier import VerifyOptions, verify_store
from tests.conftest import ADMIN_PASSWORD


def test_initialising_twice_changes_nothing(ledger: CustodyLedger) -> None:
    size = ledger.store.size()
    report = initialise(ledger, ADMIN_PASSWORD)
    assert not report.created_ledger and not report.created_admin and report.migrations == []
    assert ledger.store.size() == size


def test_a_new_ledger_verifies_against_its_published_key(ledger: CustodyLedger) -> None:
    trusted = {ledger.meta.ledger_key_pair().public_key}
    report = verify_store(ledger.store, VerifyOptions(trusted=trusted, ledger_id=ledger.meta.ledger_id()))
    assert report.intact, report.failures
    # the ledger and the admin: each registered, with a key, and the printed name each claimed (its own aggregate)
    assert report.events == 6 and report.aggregates == 4
