"""Re-enrolling a person who forgot their password: a new key under a new enrolment secret, in one transaction.

ledger/reenrolment.py. Every test runs on SQLite and PostgreSQL (the ``ledger`` fixture). Léa, an administrator
with a password of her own, forgets it; the fixtures' ``admin`` re-enrols her. The step she signs is the
registration of someone else (no product needed).
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from domain.errors import CustodyError, InvalidInput, NotFound, RuleViolation
from ledger import reenrolment
from ledger.audit_log import read_audit
from ledger.credentials import Credentials, LockoutPolicy, SignIn
from ledger.envelope import Envelope
from ledger.keys import KeyPair, WrongPassword, unseal_key
from ledger.password_change import change_password
from ledger.password_enrolment import PasswordChangeRequired, must_change_password
from ledger.reenrolment import STAFF_REENROLLED, reenrol
from ledger.service import CustodyLedger
from ledger.setup import register_staff
from ledger.signing_lockout import SIGNING_UNLOCKED, SigningLocked
from ledger.signing_session import SignatureRefused
from tests.conftest import ADMIN_PASSWORD
from tests.integration.journeys import forge, verify

OLD = "lea-forgotten-own-password"
SECRET = "reenrolment-secret-5163"
CHOSEN = "brume saumon quarante vélo"
REASON = "forgot her password; identity checked in person with her hospital badge"


def _register_lea(ledger: CustodyLedger) -> str:
    """Léa, an administrator with a password she chose; her key id."""
    register_staff(ledger, "lea", "Léa Bernard", "admin", OLD, registrar="ledger")
    return ledger.actor("lea")[1].active_keys[-1]


def _reenrol_lea(ledger: CustodyLedger, **changes: Any) -> reenrolment.Reenrolled:
    arguments: dict[str, Any] = {"by": "admin", "password": ADMIN_PASSWORD, "reason": REASON, "channel": "cli"}
    arguments.update(changes)
    secret = arguments.pop("secret", SECRET)
    username = arguments.pop("username", "lea")
    return reenrol(ledger, username, secret, **arguments)


def _sign(ledger: CustodyLedger, newcomer: str, password: str | None) -> Envelope:
    """A step Léa signs: she registers a newcomer."""
    envelopes = register_staff(
        ledger, newcomer, f"New Comer {newcomer}", "nurse", "newcomer-password",
        registrar="lea", registrar_password=password,
    )  # fmt: skip
    return envelopes[0]


def _sign_in(ledger: CustodyLedger, password: str) -> SignIn:
    """What the HTTP API's sign-in answers Léa for this password (ledger/credentials.py)."""
    credentials = Credentials(ledger.store, ledger.keys, ledger.kdf, LockoutPolicy(100, timedelta(minutes=15)))
    active = ledger.actor("lea")[1].active_keys[-1]
    return credentials.sign_in("lea", password, active, ledger.clock.now()).outcome


def _state(ledger: CustodyLedger) -> tuple[Any, ...]:
    """What a refused or failed re-enrolment must leave as it was."""
    with ledger.store.side_transaction() as cursor:
        cursor.execute("SELECT key_id, ciphertext FROM sealed_signing_keys WHERE user_id = 'lea' ORDER BY key_id")
        keys = [(row["key_id"], bytes(row["ciphertext"])) for row in cursor.fetchall()]
        cursor.execute("SELECT password_hash, must_change_password FROM api_credentials WHERE username = 'lea'")
        credentials = cursor.fetchone()
        cursor.execute("SELECT failures, locked_at FROM signing_failures WHERE username = 'lea'")
        lockout = cursor.fetchone()
    members = ledger.actor("lea")[1].keys
    return keys, credentials, lockout, members, len(read_audit(ledger.store)), ledger.store.size()


def test_the_old_password_neither_signs_nor_signs_in_and_the_secret_must_be_replaced(ledger: CustodyLedger) -> None:
    old_key = _register_lea(ledger)
    assert _sign_in(ledger, OLD) == SignIn.ACCEPTED

    done = _reenrol_lea(ledger)

    assert done.revoked == (old_key,) and done.key_id != old_key
    assert ledger.actor("lea")[1].active_keys == [done.key_id]
    assert [envelope.type for envelope in done.envelopes] == ["SigningKeyRegistered", "SigningKeyRevoked"]
    assert {envelope.body["actor"]["user_id"] for envelope in done.envelopes} == {"admin"}
    assert done.envelopes[1].body["payload"] == {"key_id": old_key, "reason": f"re-enrolment: {REASON}"}
    assert _sign_in(ledger, OLD) == SignIn.REFUSED
    assert _sign_in(ledger, SECRET) == SignIn.PASSWORD_CHANGE_REQUIRED
    assert must_change_password(ledger.store, "lea") is True
    with pytest.raises(PasswordChangeRequired):
        _sign(ledger, "nurse8", SECRET)
    with pytest.raises(SignatureRefused, match="wrong password for lea"):
        change_password(ledger, "lea", OLD, CHOSEN)  # the old password opens nothing, not even a change
    new_sealed = ledger.keys.get(done.key_id)
    assert new_sealed is not None
    with pytest.raises(WrongPassword):
        unseal_key(new_sealed, OLD)

    change_password(ledger, "lea", SECRET, CHOSEN)

    assert _sign(ledger, "nurse9", CHOSEN).key_id == done.key_id
    assert _sign_in(ledger, CHOSEN) == SignIn.ACCEPTED
    assert verify(ledger).intact


def test_signatures_of_the_old_key_stay_valid_and_it_signs_nothing_afterwards(ledger: CustodyLedger) -> None:
    old_key = _register_lea(ledger)
    before = _sign(ledger, "nurse7", OLD)
    old_sealed = ledger.keys.get(old_key)
    assert old_sealed is not None and before.key_id == old_key

    _reenrol_lea(ledger)

    assert verify(ledger).intact, "the registration Léa signed with her old key still verifies"
    retired = unseal_key(old_sealed, OLD)  # an insider who kept her old key and password
    forge(ledger, uuid.uuid4(), "AnnotationAdded", {"text": "signed with the retired key"},
          actor=ledger.actor("lea")[0], signer=retired, meaning="authored")  # fmt: skip
    assert {failure.reason for failure in verify(ledger).failures} == {"revoked_key"}


def test_her_open_signing_session_ends(ledger: CustodyLedger) -> None:
    old_key = _register_lea(ledger)
    _sign(ledger, "nurse7", OLD)
    assert not ledger.signature_needs_password("lea")

    _reenrol_lea(ledger)

    assert not ledger.sessions.open_for("lea", old_key), "her unsealed old key is forgotten"
    with pytest.raises(SignatureRefused, match="needs the password"):
        _sign(ledger, "nurse8", None)


def test_the_audit_log_says_who_reenrolled_whom_and_why_never_the_secret(ledger: CustodyLedger) -> None:
    old_key = _register_lea(ledger)

    done = _reenrol_lea(ledger)

    [row] = read_audit(ledger.store, action=STAFF_REENROLLED)
    assert (row.actor, row.subject) == ("admin", "lea")
    assert row.detail == {
        "channel": "cli",
        "reason": REASON,
        "revoked_keys": [old_key],
        "new_key": done.key_id,
        "signing_lock_lifted": False,
        "signing_failures_reset": 0,
    }
    everything = json.dumps([entry.to_dict() for entry in read_audit(ledger.store)])
    assert SECRET not in everything and OLD not in everything
    assert read_audit(ledger.store, action=SIGNING_UNLOCKED) == []


def test_a_signing_lock_is_lifted_explicitly_and_recorded(ledger: CustodyLedger) -> None:
    _register_lea(ledger)
    limit = ledger.signing_lockout.max_failures
    for _ in range(limit):
        with pytest.raises(SignatureRefused):
            _sign(ledger, "nurse7", "a-wrong-guess-of-hers")
    with pytest.raises(SigningLocked):
        _sign(ledger, "nurse7", OLD)
    locked_at = ledger.signing_lockout.state("lea").locked_at

    done = _reenrol_lea(ledger)

    assert done.lifted_lock is not None and done.lifted_lock.failures == limit
    assert ledger.signing_lockout.state("lea").failures == 0 and not ledger.signing_lockout.state("lea").locked
    [unlocked] = read_audit(ledger.store, action=SIGNING_UNLOCKED)
    assert (unlocked.actor, unlocked.subject) == ("admin", "lea")
    assert unlocked.detail == {
        "channel": "cli",
        "reason": f"re-enrolment: {REASON}",
        "locked_at": locked_at,
        "consecutive_failures": limit,
    }
    [row] = read_audit(ledger.store, action=STAFF_REENROLLED)
    assert row.detail["signing_lock_lifted"] is True
    change_password(ledger, "lea", SECRET, CHOSEN)
    assert _sign(ledger, "nurse8", CHOSEN).key_id == done.key_id


def test_an_unlocked_count_of_wrong_passwords_restarts_from_zero_and_is_recorded(ledger: CustodyLedger) -> None:
    _register_lea(ledger)
    for _ in range(2):
        with pytest.raises(SignatureRefused):
            _sign(ledger, "nurse7", "a-wrong-guess-of-hers")

    done = _reenrol_lea(ledger)

    assert (done.lifted_lock, done.failures_reset) == (None, 2)
    assert ledger.signing_lockout.state("lea").failures == 0
    [row] = read_audit(ledger.store, action=STAFF_REENROLLED)
    assert (row.detail["signing_lock_lifted"], row.detail["signing_failures_reset"]) == (False, 2)


def test_every_active_key_is_revoked(ledger: CustodyLedger) -> None:
    first = _register_lea(ledger)
    second = KeyPair.generate()
    ledger.record(
        "SigningKeyRegistered", ledger.actor("lea")[1].id,
        {"key_id": second.key_id, "public_key": base64.b64encode(second.public_key).decode()},
        user="admin", meaning="approved", password=ADMIN_PASSWORD,
    )  # fmt: skip

    done = _reenrol_lea(ledger)

    assert set(done.revoked) == {first, second.key_id}
    assert ledger.actor("lea")[1].active_keys == [done.key_id]
    assert verify(ledger).intact


@pytest.mark.parametrize(
    ("changes", "error", "field", "rule"),
    [
        ({"username": "nobody"}, NotFound, "username", "staff_not_registered"),
        ({"username": "ledger"}, NotFound, "username", "staff_not_registered"),
        ({"by": "nina", "password": "nina-own-password"}, RuleViolation, "by", "admin_only"),
        ({"by": "lea", "password": OLD, "username": "lea"}, RuleViolation, "username", "reenrol_self"),
        ({"reason": ""}, InvalidInput, "reason", "required"),
        ({"reason": "  \n "}, InvalidInput, "reason", "required"),
        ({"secret": "short"}, InvalidInput, "enrolment_secret", "password_length"),
    ],
)
def test_refusals_name_the_field_and_the_rule_and_change_nothing(
    ledger: CustodyLedger, changes: dict[str, Any], error: type[CustodyError], field: str, rule: str
) -> None:
    _register_lea(ledger)
    register_staff(ledger, "nina", "Nina Petit", "nurse", "nina-own-password", registrar="ledger")
    state = _state(ledger)

    with pytest.raises(error) as refused:
        _reenrol_lea(ledger, **changes)

    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert _state(ledger) == state


def test_a_person_who_left_is_not_reenrolled(ledger: CustodyLedger) -> None:
    key = _register_lea(ledger)
    ledger.record("SigningKeyRevoked", ledger.actor("lea")[1].id, {"key_id": key, "reason": "left the hospital"},
                  user="admin", meaning="approved", password=ADMIN_PASSWORD)  # fmt: skip
    state = _state(ledger)

    with pytest.raises(RuleViolation) as refused:
        _reenrol_lea(ledger)

    assert (refused.value.field, refused.value.rule) == ("username", "no_active_key")
    assert _state(ledger) == state


def test_without_the_administrators_password_nothing_changes(ledger: CustodyLedger) -> None:
    _register_lea(ledger)
    state = _state(ledger)

    with pytest.raises(SignatureRefused, match="wrong password for admin"):
        _reenrol_lea(ledger, password="not-the-admin-password")

    assert _state(ledger)[:4] == state[:4]  # the wrong password is audited (ledger/signing_lockout.py), nothing else


@pytest.mark.parametrize("failing", ["append_audit", "lift_lock", "hold_enrolment_secret"])
def test_a_fault_in_the_middle_leaves_the_old_key_and_password_working(
    ledger: CustodyLedger, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    old_key = _register_lea(ledger)
    state = _state(ledger)

    def fails(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"disk gone at {failing}")

    monkeypatch.setattr(reenrolment, failing, fails)
    with pytest.raises(RuntimeError, match="disk gone"):
        _reenrol_lea(ledger)

    assert _state(ledger) == state
    assert ledger.actor("lea")[1].active_keys == [old_key]
    assert _sign_in(ledger, OLD) == SignIn.ACCEPTED
    assert _sign(ledger, "nurse9", OLD).key_id == old_key
    assert must_change_password(ledger.store, "lea") is False
    assert verify(ledger).intact
