"""People choose their own passwords: an enrolment secret signs nothing, a change re-seals the same key at once.

21 CFR Part 11 §11.300; ledger/password_enrolment.py, ledger/password_change.py. Every test runs on SQLite and
PostgreSQL (the ``ledger`` fixture).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from argon2 import PasswordHasher

from domain.errors import InvalidInput
from ledger import password_change
from ledger.audit_log import read_audit
from ledger.envelope import Envelope
from ledger.keys import WrongPassword, unseal_key
from ledger.keystore import SealedKeyChanged, reseal
from ledger.password_change import PASSWORD_CHANGED, change_password
from ledger.password_enrolment import PasswordChangeRequired, must_change_password
from ledger.service import CustodyLedger
from ledger.setup import register_staff
from ledger.signing_session import SignatureRefused
from tests.integration.journeys import verify

SECRET = "enrolment-secret-4821"
CHOSEN = "brume saumon quarante vélo"


def _enrol_lea(ledger: CustodyLedger) -> None:
    """Léa, an administrator another administrator registered with an enrolment secret."""
    register_staff(ledger, "lea", "Léa Bernard", "admin", SECRET, registrar="ledger", must_change_password=True)


def _sign(ledger: CustodyLedger, newcomer: str, password: str | None) -> Envelope:
    """A step Léa signs: she registers a newcomer (two events, both signed with her key)."""
    envelopes = register_staff(
        ledger,
        newcomer,
        f"New Comer {newcomer}",
        "nurse",
        "newcomer-password",
        registrar="lea",
        registrar_password=password,
    )
    assert {envelope.key_id for envelope in envelopes} == {envelopes[0].key_id}
    return envelopes[0]


def _side_state(ledger: CustodyLedger) -> tuple[Any, ...]:
    """What a refused change must leave as it was: Léa's sealed keys, her hash and mark, the audit log."""
    with ledger.store.side_transaction() as cursor:
        cursor.execute("SELECT key_id, salt, nonce, ciphertext FROM sealed_signing_keys WHERE user_id = 'lea'")
        keys = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row.values()) for row in cursor.fetchall()]
        cursor.execute("SELECT password_hash, must_change_password FROM api_credentials WHERE username = 'lea'")
        credentials = cursor.fetchone()
    return keys, credentials, len(read_audit(ledger.store)), ledger.store.size()


def test_an_enrolment_secret_signs_nothing_until_replaced(ledger: CustodyLedger) -> None:
    _enrol_lea(ledger)
    size = ledger.store.size()

    with pytest.raises(PasswordChangeRequired, match="change your password first: custody password change") as refused:
        _sign(ledger, "nurse9", SECRET)

    assert refused.value.rule == "password_change_required"
    assert ledger.store.size() == size
    assert must_change_password(ledger.store, "lea") is True
    assert must_change_password(ledger.store, "nurse") is False  # the tests' team chose theirs (register_staff)


def test_after_the_change_the_new_password_signs_with_the_same_key_and_the_old_one_opens_nothing(
    ledger: CustodyLedger,
) -> None:
    _enrol_lea(ledger)
    _, member = ledger.actor("lea")
    key_before = member.active_keys[-1]

    changed = change_password(ledger, "lea", SECRET, CHOSEN)

    envelope = _sign(ledger, "nurse9", CHOSEN)
    assert envelope.key_id == key_before == ledger.actor("lea")[1].active_keys[-1]
    assert changed.resealed == (key_before,) and changed.replaced_enrolment_secret is True
    assert must_change_password(ledger.store, "lea") is False
    sealed = ledger.keys.get(key_before)
    assert sealed is not None
    with pytest.raises(WrongPassword):
        unseal_key(sealed, SECRET)
    ledger.end_signing_session("lea")
    with pytest.raises(SignatureRefused, match="wrong password for lea"):
        _sign(ledger, "nurse10", SECRET)
    assert verify(ledger).intact


def test_signatures_made_before_a_change_stay_verifiable_and_the_open_session_ends(ledger: CustodyLedger) -> None:
    register_staff(ledger, "lea", "Léa Bernard", "admin", "lea-first-own-password", registrar="ledger")
    before = _sign(ledger, "nurse9", "lea-first-own-password")

    change_password(ledger, "lea", "lea-first-own-password", CHOSEN)

    with pytest.raises(SignatureRefused, match="needs the password"):
        _sign(ledger, "nurse10", None)  # the session opened with the old password is over
    after = _sign(ledger, "nurse11", CHOSEN)
    assert before.key_id == after.key_id
    assert verify(ledger).intact


def test_each_change_is_in_the_audit_log_who_and_when_never_a_password(ledger: CustodyLedger) -> None:
    _enrol_lea(ledger)
    second = "falaise ortie lanterne 93"

    change_password(ledger, "lea", SECRET, CHOSEN)
    change_password(ledger, "lea", CHOSEN, second)

    rows = read_audit(ledger.store, action=PASSWORD_CHANGED)
    assert [(row.actor, row.subject) for row in rows] == [("lea", "lea"), ("lea", "lea")]
    assert [row.detail["replaced_enrolment_secret"] for row in rows] == [True, False]
    assert rows[0].detail["resealed_keys"] == [ledger.actor("lea")[1].active_keys[-1]]
    text = json.dumps([row.to_dict() for row in rows])
    assert SECRET not in text and CHOSEN not in text and second not in text
    assert rows[0].recorded_at <= rows[1].recorded_at


@pytest.mark.parametrize(
    ("new", "rule"),
    [
        ("short-1A!x", "password_too_short"),  # 10 characters
        ("x" * 129, "password_too_long"),
        ("Lea-Bernard-2026!", "password_contains_name"),
        ("le vrai BERNARD 77", "password_contains_name"),
        ("my.lea.secret.pass", "password_contains_name"),
        ("password1234", "password_common"),
        ("iloveyou1234", "password_common"),
        ("aaaaaaaaaaaaaaaa", "password_guessable"),
        ("abcdefghijklmnop", "password_guessable"),
        (SECRET, "password_unchanged"),
    ],
)
def test_a_chosen_password_breaking_the_policy_is_refused_by_rule_and_changes_nothing(
    ledger: CustodyLedger, new: str, rule: str
) -> None:
    _enrol_lea(ledger)
    state = _side_state(ledger)

    with pytest.raises(InvalidInput) as refused:
        change_password(ledger, "lea", SECRET, new)

    assert (refused.value.field, refused.value.rule) == ("new_password", rule)
    assert _side_state(ledger) == state


def test_a_wrong_old_password_changes_nothing(ledger: CustodyLedger) -> None:
    _enrol_lea(ledger)
    state = _side_state(ledger)[:2]

    with pytest.raises(SignatureRefused, match="wrong password for lea: the password was not changed"):
        change_password(ledger, "lea", "not-the-enrolment-secret", CHOSEN)

    assert _side_state(ledger)[:2] == state


def test_a_failure_mid_change_leaves_the_old_password_and_key_working(
    ledger: CustodyLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_staff(ledger, "lea", "Léa Bernard", "admin", "lea-first-own-password", registrar="ledger")
    state = _side_state(ledger)

    def audit_fails(*args: Any) -> None:
        raise RuntimeError("disk gone after the key was re-sealed and the hash replaced")

    monkeypatch.setattr(password_change, "append_audit", audit_fails)
    with pytest.raises(RuntimeError, match="disk gone"):
        change_password(ledger, "lea", "lea-first-own-password", CHOSEN)

    assert _side_state(ledger) == state
    envelope = _sign(ledger, "nurse9", "lea-first-own-password")
    assert envelope.key_id == ledger.actor("lea")[1].active_keys[-1]
    ledger.end_signing_session("lea")
    with pytest.raises(SignatureRefused, match="wrong password"):
        _sign(ledger, "nurse10", CHOSEN)
    encoded = state[1]["password_hash"]
    assert PasswordHasher().verify(encoded, "lea-first-own-password")


def test_a_key_resealed_by_someone_else_meanwhile_is_not_overwritten(ledger: CustodyLedger) -> None:
    _enrol_lea(ledger)
    key_id = ledger.actor("lea")[1].active_keys[-1]
    read_before = ledger.keys.get(key_id)
    assert read_before is not None
    change_password(ledger, "lea", SECRET, CHOSEN)  # a concurrent change lands first
    winner = ledger.keys.get(key_id)
    assert winner is not None

    with pytest.raises(SealedKeyChanged), ledger.store.side_transaction() as cursor:
        reseal(cursor, read_before, read_before)

    assert ledger.keys.get(key_id) == winner
