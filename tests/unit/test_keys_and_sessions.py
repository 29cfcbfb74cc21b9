"""Signing keys sealed under a password, and the Part 11 signing session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time

from ledger.clock import SystemClock
from ledger.keys import KdfParameters, KeyPair, WrongPassword, key_id_for, seal_key, unseal_key
from ledger.signing_session import SignatureRefused, SigningSessions

KDF = KdfParameters(time_cost=1, memory_kib=1024, parallelism=1)


def test_a_sealed_key_opens_only_with_its_password() -> None:
    pair = KeyPair.generate()
    sealed = seal_key(pair, "correct horse", KDF)
    assert unseal_key(sealed, "correct horse").key_id == pair.key_id
    with pytest.raises(WrongPassword):
        unseal_key(sealed, "wrong horse")


def test_the_sealed_form_does_not_contain_the_private_key() -> None:
    pair = KeyPair.generate()
    sealed = seal_key(pair, "correct horse", KDF)
    assert pair.private_bytes() not in sealed.ciphertext


def test_a_key_id_is_derived_from_the_public_key() -> None:
    pair = KeyPair.generate()
    assert pair.key_id == key_id_for(pair.public_key)
    assert len(pair.key_id) == 32


def sessions(idle_minutes: float = 10) -> tuple[SigningSessions, KeyPair, object]:
    pair = KeyPair.generate()
    sealed = seal_key(pair, "nurse-password", KDF)
    return SigningSessions(SystemClock(), timedelta(minutes=idle_minutes)), pair, sealed


def test_the_first_signature_of_a_session_asks_for_the_password() -> None:
    signing, pair, sealed = sessions()
    with pytest.raises(SignatureRefused) as refused:
        signing.signer("nurse", pair.key_id, lambda: sealed, None)  # type: ignore[arg-type,return-value]
    assert refused.value.password_required


def test_later_signatures_within_the_idle_period_need_no_password() -> None:
    signing, pair, sealed = sessions(idle_minutes=10)
    with freeze_time("2026-11-24 09:00:00") as clock:
        signing.signer("nurse", pair.key_id, lambda: sealed, "nurse-password")  # type: ignore[arg-type,return-value]
        clock.tick(timedelta(minutes=9))
        assert signing.signer("nurse", pair.key_id, lambda: None, None).key_id == pair.key_id
        clock.tick(timedelta(minutes=9))
        assert signing.signer("nurse", pair.key_id, lambda: None, None).key_id == pair.key_id


def test_after_the_idle_period_the_password_is_asked_again() -> None:
    signing, pair, sealed = sessions(idle_minutes=10)
    with freeze_time("2026-11-24 09:00:00") as clock:
        signing.signer("nurse", pair.key_id, lambda: sealed, "nurse-password")  # type: ignore[arg-type,return-value]
        clock.tick(timedelta(minutes=10, seconds=1))
        with pytest.raises(SignatureRefused, match="needs the password"):
            signing.signer("nurse", pair.key_id, lambda: None, None)


def test_a_wrong_password_signs_nothing_and_ends_the_session() -> None:
    signing, pair, sealed = sessions()
    signing.signer("nurse", pair.key_id, lambda: sealed, "nurse-password")  # type: ignore[arg-type,return-value]
    with pytest.raises(SignatureRefused, match="wrong password"):
        signing.signer("nurse", pair.key_id, lambda: sealed, "not-the-password")  # type: ignore[arg-type,return-value]
    with pytest.raises(SignatureRefused, match="needs the password"):
        signing.signer("nurse", pair.key_id, lambda: None, None)
