"""Signing lockout (21 CFR Part 11 §11.300(d)): wrong signing passwords are counted per person, persistently.

The limit is the default CUSTODY_SIGNING_MAX_FAILURES, 5, written here by hand. Every
test runs on SQLite and on PostgreSQL (the ``ledger`` fixture).
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from domain.errors import CustodyError, InvalidInput, NotFound, RuleViolation
from domain.staff import StaffMember, staff_id_for
from ledger.audit_log import read_audit
from ledger.credentials import Credentials, LockoutPolicy, SignIn
from ledger.patients import PatientRegistry
from ledger.service import CustodyLedger
from ledger.signing_lockout import SigningLocked
from ledger.signing_session import SignatureRefused, WrongSigningPassword
from ledger.signing_unlock import unlock_signing
from tests.conftest import ADMIN_PASSWORD
from tests.integration.journeys import password_of, register_team

LIMIT = 5
WRONG = "not-the-password-123"


def member(ledger: CustodyLedger, username: str) -> StaffMember:
    found = ledger.load(staff_id_for(username))
    assert isinstance(found, StaffMember)
    return found


def sign(ledger: CustodyLedger, username: str, password: str | None, session: str | None = None) -> str:
    """Unseal ``username``'s key as every signature does; the key id it gives."""
    return ledger.signer_for(member(ledger, username), password, session).key_id


def fail(ledger: CustodyLedger, username: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(SignatureRefused):
            sign(ledger, username, WRONG)


def actions(ledger: CustodyLedger) -> list[tuple[str, str, str]]:
    return [(e.action, e.actor, e.subject) for e in read_audit(ledger.store)]


@pytest.fixture
def team(ledger: CustodyLedger) -> CustodyLedger:
    register_team(ledger, ("nurse", "pharmacist", "auditor"))
    return ledger


def test_five_wrong_passwords_lock_and_the_right_one_is_then_refused(team: CustodyLedger) -> None:
    ledger = team
    for count in range(1, LIMIT):
        with pytest.raises(WrongSigningPassword) as wrong:
            sign(ledger, "nurse", WRONG)
        assert f"({count} of 5 wrong passwords in a row lock signing)" in str(wrong.value)
        assert wrong.value.rule == "signature_authentication"
    assert not ledger.signing_lockout.state("nurse").locked, "four failures do not lock"
    with pytest.raises(SigningLocked) as fifth:
        sign(ledger, "nurse", WRONG)
    assert fifth.value.rule == "signing_locked"
    assert "custody staff unlock-signing nurse" in str(fifth.value), "the refusal says who can unlock"
    with pytest.raises(SigningLocked) as sixth:
        sign(ledger, "nurse", password_of("nurse"))
    assert "even with the right password" in str(sixth.value)
    assert actions(ledger) == [("signature_failed", "nurse", "nurse")] * 5 + [
        ("signing_locked", "nurse", "nurse"),
        ("signature_refused_locked", "nurse", "nurse"),
    ]
    failed = read_audit(ledger.store, action="signature_failed")
    assert [e.detail for e in failed] == [
        {"channel": "cli", "consecutive_failures": n, "limit": 5} for n in range(1, 6)
    ]
    assert sign(ledger, "pharmacist", password_of("pharmacist")), "another person is not locked"


def test_a_record_with_a_wrong_password_is_counted_and_stores_nothing(team: CustodyLedger) -> None:
    ledger = team
    size = ledger.store.size()
    for _ in range(LIMIT - 1):
        with pytest.raises(WrongSigningPassword):
            ledger.record("AnnotationAdded", uuid.uuid4(), {"text": "x"}, user="nurse", meaning="authored",
                          password=WRONG, channel="rest")  # fmt: skip
    with pytest.raises(SigningLocked):
        ledger.record("AnnotationAdded", uuid.uuid4(), {"text": "x"}, user="nurse", meaning="authored",
                      password=WRONG, channel="web")  # fmt: skip
    assert ledger.store.size() == size
    channels = [e.detail["channel"] for e in read_audit(ledger.store, action="signature_failed")]
    assert channels == ["rest"] * 4 + ["web"]
    assert [e.detail for e in read_audit(ledger.store, action="signing_locked")] == [
        {"channel": "web", "consecutive_failures": 5}
    ]


def test_the_count_and_the_lock_survive_a_new_ledger_instance(team: CustodyLedger) -> None:
    fail(team, "nurse", LIMIT - 1)
    again = CustodyLedger(team.settings)
    try:
        assert again.signing_lockout.state("nurse").failures == 4
        with pytest.raises(SigningLocked):
            sign(again, "nurse", WRONG)
    finally:
        again.close()
    third = CustodyLedger(team.settings)
    try:
        with pytest.raises(SigningLocked):
            sign(third, "nurse", password_of("nurse"))
    finally:
        third.close()


def test_a_right_password_resets_the_consecutive_count(team: CustodyLedger) -> None:
    ledger = team
    fail(ledger, "nurse", LIMIT - 1)
    assert sign(ledger, "nurse", password_of("nurse"))
    assert ledger.signing_lockout.state("nurse").failures == 0
    fail(ledger, "nurse", LIMIT - 1)
    assert sign(ledger, "nurse", password_of("nurse")), "4 + 4 failures split by a success never lock"
    assert read_audit(ledger.store, action="signing_locked") == []


def test_an_open_signing_session_of_a_locked_person_signs_nothing(team: CustodyLedger) -> None:
    ledger = team
    assert sign(ledger, "nurse", password_of("nurse"), session="ward-pc")
    assert sign(ledger, "nurse", None, session="ward-pc"), "the session is open: no password needed"
    fail(ledger, "nurse", LIMIT)
    with pytest.raises(SigningLocked):
        sign(ledger, "nurse", None, session="ward-pc")


def test_the_limit_is_the_setting(team: CustodyLedger) -> None:
    strict = CustodyLedger(team.settings.model_copy(update={"signing_max_failures": 2}))
    try:
        fail(strict, "nurse", 1)
        assert not strict.signing_lockout.state("nurse").locked
        with pytest.raises(SigningLocked):
            sign(strict, "nurse", WRONG)
    finally:
        strict.close()


def test_an_administrator_unlocks_with_a_reason_and_signing_works_again(team: CustodyLedger) -> None:
    ledger = team
    fail(ledger, "nurse", LIMIT)
    before = unlock_signing(ledger, "nurse", by="admin", password=ADMIN_PASSWORD,
                            reason="identity checked in person", channel="cli")  # fmt: skip
    assert (before.failures, before.locked) == (5, True)
    assert ledger.signing_lockout.state("nurse") == type(before)("nurse", 0, None)
    assert sign(ledger, "nurse", password_of("nurse")) == member(ledger, "nurse").active_keys[-1]
    [unlocked] = read_audit(ledger.store, action="signing_unlocked")
    assert (unlocked.actor, unlocked.subject) == ("admin", "nurse")
    assert unlocked.detail == {
        "channel": "cli",
        "reason": "identity checked in person",
        "locked_at": before.locked_at,
        "consecutive_failures": 5,
    }
    fail(ledger, "nurse", LIMIT - 1)
    assert not ledger.signing_lockout.state("nurse").locked, "the count starts again from zero after an unlock"


def test_the_ledger_user_can_unlock_when_no_administrator_can_sign(team: CustodyLedger) -> None:
    fail(team, "admin", LIMIT)
    with pytest.raises(SigningLocked):
        unlock_signing(team, "admin", by="admin", password=ADMIN_PASSWORD, reason="self", channel="cli")
    unlock_signing(team, "admin", by="ledger", password=None, reason="administrator locked out", channel="cli")
    assert sign(team, "admin", ADMIN_PASSWORD)


@pytest.mark.parametrize(
    ("username", "by", "password", "reason", "error", "field", "rule"),
    [
        ("nurse", "pharmacist", password_of("pharmacist"), "why", RuleViolation, "by", "role_not_allowed"),
        ("nurse", "admin", ADMIN_PASSWORD, "   ", InvalidInput, "reason", "reason_required"),
        ("nurse", "admin", ADMIN_PASSWORD, "bad\x00", InvalidInput, "reason", "control_character"),
        ("nobody", "admin", ADMIN_PASSWORD, "why", NotFound, "username", "not_found"),
        ("pharmacist", "admin", ADMIN_PASSWORD, "why", RuleViolation, "username", "signing_not_locked"),
    ],
)
def test_refused_unlocks_change_nothing(
    team: CustodyLedger,
    username: str,
    by: str,
    password: str,
    reason: str,
    error: type[CustodyError],
    field: str,
    rule: str,
) -> None:
    fail(team, "nurse", LIMIT)
    rows = actions(team)
    with pytest.raises(error) as refused:
        unlock_signing(team, username, by=by, password=password, reason=reason, channel="cli")
    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert team.signing_lockout.state("nurse").locked
    assert actions(team) == rows


def test_an_unlock_with_the_administrators_wrong_password_counts_against_the_administrator(
    team: CustodyLedger,
) -> None:
    fail(team, "nurse", LIMIT)
    with pytest.raises(WrongSigningPassword):
        unlock_signing(team, "nurse", by="admin", password=WRONG, reason="why", channel="rest")
    assert team.signing_lockout.state("nurse").locked
    assert team.signing_lockout.state("admin").failures == 1


def test_signing_and_sign_in_lockouts_are_separate(team: CustodyLedger) -> None:
    ledger = team
    credentials = Credentials(ledger.store, ledger.keys, ledger.kdf, LockoutPolicy(5, timedelta(minutes=15)))
    key = member(ledger, "nurse").active_keys[-1]
    now = ledger.clock.now()
    for _ in range(5):
        credentials.sign_in("nurse", WRONG, key, now)
    assert credentials.sign_in("nurse", password_of("nurse"), key, now).outcome is SignIn.LOCKED
    assert ledger.signing_lockout.state("nurse").failures == 0, "failed sign-ins are not failed signatures"
    assert sign(ledger, "nurse", password_of("nurse"))
    fail(ledger, "pharmacist", LIMIT)
    pharmacist_key = member(ledger, "pharmacist").active_keys[-1]
    signed_in = credentials.sign_in("pharmacist", password_of("pharmacist"), pharmacist_key, now)
    assert signed_in.outcome is SignIn.ACCEPTED, "a signing lock does not stop the person reading"


def test_the_audit_rows_never_hold_a_password(team: CustodyLedger) -> None:
    fail(team, "nurse", LIMIT)
    with pytest.raises(SigningLocked):
        sign(team, "nurse", password_of("nurse"))
    unlock_signing(team, "nurse", by="admin", password=ADMIN_PASSWORD, reason="checked", channel="cli")
    text = json.dumps([e.to_dict() for e in read_audit(team.store)])
    for secret in (WRONG, password_of("nurse"), ADMIN_PASSWORD):
        assert secret not in text


def test_the_security_log_filters_by_person_and_time(team: CustodyLedger) -> None:
    fail(team, "nurse", 2)
    fail(team, "pharmacist", 1)
    assert [e.subject for e in read_audit(team.store, person="pharmacist")] == ["pharmacist"]
    newest = read_audit(team.store, newest_first=True, limit=1)
    assert [e.subject for e in newest] == ["pharmacist"]
    later = team.clock.now() + timedelta(hours=1)
    assert read_audit(team.store, since=later) == []


def test_wrong_passwords_to_open_a_patient_identity_count_and_a_locked_person_opens_none(
    team: CustodyLedger,
) -> None:
    registry = PatientRegistry(team)
    for _ in range(LIMIT - 1):
        with pytest.raises(WrongSigningPassword, match="nothing was disclosed"):
            registry.reveal("PSN-ANY", user="nurse", password=WRONG, reason="bedside check")
    with pytest.raises(SigningLocked):
        registry.reveal("PSN-ANY", user="nurse", password=WRONG, reason="bedside check")
    with pytest.raises(SigningLocked):
        registry.reveal("PSN-ANY", user="nurse", password=password_of("nurse"), reason="bedside check")
    with pytest.raises(SigningLocked):
        sign(team, "nurse", password_of("nurse"))
    assert read_audit(team.store, action="identity_revealed") == []
