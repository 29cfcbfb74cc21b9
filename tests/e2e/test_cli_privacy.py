"""Patient identity never leaks into storage: events carry pseudonyms, identities are ciphertext only."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from api.demo import PATIENTS
from tests.e2e.conftest import Custody

IDENTIFYING = [
    pytest.param(value.encode(), id=f"{pseudonym} {kind}")
    for pseudonym, identity in PATIENTS.items()
    for kind, value in (
        ("family name", identity.family_name),
        ("family name, title case", identity.family_name.title()),
        ("hospital number", identity.hospital_number),
        ("birth date", identity.birth_date),
    )
]


def _stored_bytes(custody: Custody) -> bytes:
    """Everything the ledger keeps: every file of the home (SQLite) or the events and identities (PostgreSQL)."""
    if custody.backend == "sqlite":
        return b"".join(path.read_bytes() for path in sorted(custody.home.rglob("*")) if path.is_file())
    with custody.pg() as conn:
        events = conn.execute("SELECT string_agg(encode(state, 'escape'), '') FROM custody_events").fetchone()
        identities = conn.execute(
            "SELECT string_agg(pseudonym || encode(nonce, 'escape') || encode(ciphertext, 'escape') || created_at, '')"
            " FROM patient_identities"
        ).fetchone()
    assert events is not None and identities is not None
    return (events[0] or "").encode() + (identities[0] or "").encode()


@pytest.fixture(scope="module")
def stored(demo_ledger: Custody) -> bytes:
    return _stored_bytes(demo_ledger)


@pytest.mark.parametrize("identifying", IDENTIFYING)
def test_no_demo_patients_identifying_data_is_stored_in_clear(stored: bytes, identifying: bytes) -> None:
    assert identifying not in stored


@pytest.mark.parametrize("pseudonym", list(PATIENTS))
def test_the_demo_pseudonyms_do_appear_in_the_stored_events(stored: bytes, pseudonym: str) -> None:
    assert pseudonym.encode() in stored


def test_every_demo_patient_has_an_encrypted_identity_on_record(demo_ledger: Custody) -> None:
    if demo_ledger.backend == "sqlite":
        with closing(sqlite3.connect(demo_ledger.sqlite_path)) as conn:
            rows = conn.execute("SELECT pseudonym, length(ciphertext) FROM patient_identities").fetchall()
    else:
        with demo_ledger.pg() as conn:
            rows = conn.execute("SELECT pseudonym, length(ciphertext) FROM patient_identities").fetchall()

    assert sorted(pseudonym for pseudonym, _ in rows) == sorted(PATIENTS)
    assert all(size > 0 for _, size in rows)


def test_the_demo_bedside_checks_scanned_wristbands_and_kept_only_that_they_matched(stored: bytes) -> None:
    # The demo's bedside checks scan each patient's hospital number and birth date (and, once, the wristband of
    # the patient in the next bed); the events keep the verdict and the identity version, never the scan.
    assert b'"wristband_matched":true' in stored and b'"identity_version":' in stored
    assert b'"field":"payload.wristband_hospital_number","scanned":"withheld' in stored  # the near miss names the field
