"""Patient identity, encrypted at rest, kept out of every event, and erasable for good.

Events carry a pseudonym only. Name, birth date and hospital number are sealed with
AES-256-GCM under a random data key of that patient alone, bound to the pseudonym as
associated data (a ciphertext moved to another row does not decrypt). The data key is
stored wrapped by the identity key-encryption key (ledger/identity_kek.py), which lives
outside the database; erasing a patient deletes their row and replaces that key, so no
copy of the database made before the erase can be opened with what remains
(crypto-shredding). Hashes and signatures of the log are untouched: they never saw the
identity.

A keyed hash of the hospital number (HMAC under a key derived from master.key) lets
registration find the patient already registered without comparing numbers in clear.
Rows sealed before data keys existed (directly under a key derived from master.key) still
open, and are re-sealed by ``reseal_legacy`` (run by ``custody init``) and by every erase.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.bedside_identity import normal_hospital_number
from ledger.clock import isoformat
from ledger.identity_kek import Kek, KekKeeper
from ledger.secrets import derive_key
from ledger.side_cursor import SideCursor
from ledger.store import EventStore

AAD_PREFIX = b"custody-ledger/patient-identity/v1:"
DATA_KEY_AAD = b"custody-ledger/patient-data-key/v2:"


class IdentityUnavailable(Exception):
    """No identity is held for that pseudonym (never stored, or erased)."""


@dataclass(frozen=True)
class PatientIdentity:
    """What bedside staff check on the wristband; personal health data."""

    family_name: str
    given_name: str
    birth_date: str
    hospital_number: str


def _key_aad(pseudonym: str, generation: int) -> bytes:
    return DATA_KEY_AAD + pseudonym.encode() + b"#" + str(generation).encode()


def _wrap(kek: Kek, pseudonym: str, data_key: bytes) -> tuple[bytes, bytes]:
    nonce = os.urandom(12)
    return nonce, AESGCM(kek.key).encrypt(nonce, data_key, _key_aad(pseudonym, kek.generation))


def _unwrap(kek: Kek, pseudonym: str, nonce: bytes, wrapped: bytes) -> bytes:
    return AESGCM(kek.key).decrypt(nonce, wrapped, _key_aad(pseudonym, kek.generation))


class IdentityStore:
    """Encrypted identities keyed by pseudonym, one data key each."""

    def __init__(self, store: EventStore, home: Path) -> None:
        self.store = store
        self.home = home
        self.keeper = KekKeeper(home)

    def lookup_hash(self, hospital_number: str) -> bytes:
        """The keyed hash registration compares (the number as printed, ignoring case and spaces)."""
        key = derive_key(self.home, "patient-lookup")
        return hmac.new(key, normal_hospital_number(hospital_number).encode(), hashlib.sha256).digest()

    def _legacy_aead(self) -> AESGCM:
        return AESGCM(derive_key(self.home, "patient-identity"))

    def _kek(self, cursor: SideCursor, now: datetime) -> tuple[Kek, bool]:
        """The current KEK, created at the first identity a ledger seals (True when created now)."""
        kek = self.keeper.current(cursor)
        if kek is not None:
            return kek, False
        return self.keeper.create(cursor, isoformat(now)), True

    def put(self, pseudonym: str, identity: PatientIdentity, now: datetime) -> None:
        """Seal and keep one patient's identity under a fresh data key."""
        data_key = os.urandom(32)
        nonce = os.urandom(12)
        plain = json.dumps(asdict(identity)).encode()
        ciphertext = AESGCM(data_key).encrypt(nonce, plain, AAD_PREFIX + pseudonym.encode())
        with self.store.side_transaction() as cursor:
            kek, created = self._kek(cursor, now)
            key_nonce, wrapped = _wrap(kek, pseudonym, data_key)
            cursor.execute(
                "INSERT INTO patient_identities (pseudonym, nonce, ciphertext, created_at, wrapped_key, key_nonce,"
                " kek_generation, lookup) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    pseudonym,
                    nonce,
                    ciphertext,
                    isoformat(now),
                    wrapped,
                    key_nonce,
                    kek.generation,
                    self.lookup_hash(identity.hospital_number),
                ),
            )
        if created:
            self.keeper.promote()

    def find(self, hospital_number: str) -> str | None:
        """The pseudonym already holding this hospital number (the first registered), compared by keyed hash."""
        with self.store.side_transaction() as cursor:
            cursor.execute(
                "SELECT pseudonym FROM patient_identities WHERE lookup = %s ORDER BY created_at, pseudonym LIMIT 1",
                (self.lookup_hash(hospital_number),),
            )
            row = cursor.fetchone()
        return None if row is None else str(row["pseudonym"])

    def get(self, pseudonym: str) -> PatientIdentity:
        """Decrypt one identity, for authorised staff only (the caller checks the role)."""
        return self.get_versioned(pseudonym)[0]

    def get_versioned(self, pseudonym: str) -> tuple[PatientIdentity, str]:
        """The identity and its version (when it was sealed), so a check can say which record it compared."""
        with self.store.side_transaction() as cursor:
            cursor.execute(
                "SELECT nonce, ciphertext, created_at, wrapped_key, key_nonce FROM patient_identities"
                " WHERE pseudonym = %s",
                (pseudonym,),
            )
            row = cursor.fetchone()
            if row is None:
                raise IdentityUnavailable(f"no identity is held for pseudonym {pseudonym}")
            kek = self.keeper.current(cursor) if row["wrapped_key"] is not None else None
        try:
            plain = self._open(pseudonym, row, kek)
        except InvalidTag:
            raise IdentityUnavailable(f"the identity held for {pseudonym} does not decrypt (altered row)") from None
        return PatientIdentity(**json.loads(plain)), str(row["created_at"])

    def data_key(self, pseudonym: str) -> bytes:
        """The patient's own data key, which also seals their documents (ledger/document_sealing.py).

        ``IdentityUnavailable`` once the identity is erased (the key is shredded with it), and for a row
        sealed before data keys existed (``custody init`` re-seals those).
        """
        with self.store.side_transaction() as cursor:
            cursor.execute("SELECT wrapped_key, key_nonce FROM patient_identities WHERE pseudonym = %s", (pseudonym,))
            row = cursor.fetchone()
            if row is None or row["wrapped_key"] is None:
                raise IdentityUnavailable(f"no data key is held for pseudonym {pseudonym}")
            kek = self.keeper.current(cursor)
        if kek is None:
            raise IdentityUnavailable(f"no data key is held for pseudonym {pseudonym}")
        try:
            return _unwrap(kek, pseudonym, bytes(row["key_nonce"]), bytes(row["wrapped_key"]))
        except InvalidTag:
            raise IdentityUnavailable(f"the data key held for {pseudonym} does not unwrap (altered row)") from None

    def _open(self, pseudonym: str, row: dict[str, Any], kek: Kek | None) -> bytes:
        aad = AAD_PREFIX + pseudonym.encode()
        if kek is None:
            return self._legacy_aead().decrypt(bytes(row["nonce"]), bytes(row["ciphertext"]), aad)
        data_key = _unwrap(kek, pseudonym, bytes(row["key_nonce"]), bytes(row["wrapped_key"]))
        return AESGCM(data_key).decrypt(bytes(row["nonce"]), bytes(row["ciphertext"]), aad)

    def erase(self, pseudonym: str, now: datetime, audit: Callable[[SideCursor], None] | None = None) -> bool:
        """Delete one identity and replace the KEK, re-wrapping every other patient's data key (crypto-shredding).

        Events and signatures are unaffected. ``audit`` writes its record in the same transaction.
        False when no identity was held.
        """
        with self.store.side_transaction() as cursor:
            cursor.execute("SELECT 1 AS held FROM patient_identities WHERE pseudonym = %s", (pseudonym,))
            if cursor.fetchone() is None:
                return False
            cursor.execute("DELETE FROM patient_identities WHERE pseudonym = %s", (pseudonym,))
            self._rotate(cursor, now)
            if audit is not None:
                audit(cursor)
        self.keeper.promote()
        return True

    def reseal_legacy(self, now: datetime) -> int:
        """Re-seal identities stored before data keys existed (under a fresh KEK); how many were re-sealed."""
        with self.store.side_transaction() as cursor:
            cursor.execute("SELECT count(*) AS legacy FROM patient_identities WHERE wrapped_key IS NULL")
            row = cursor.fetchone()
            legacy = int(row["legacy"]) if row else 0
            if legacy:
                self._rotate(cursor, now)
        if legacy:
            self.keeper.promote()
        return legacy

    def _rotate(self, cursor: SideCursor, now: datetime) -> None:
        """Re-wrap every remaining data key under a new KEK, in the caller's transaction (legacy rows re-sealed)."""
        current = self.keeper.current(cursor, for_rotation=True)
        if current is None:
            current = self.keeper.create(cursor, isoformat(now))
        fresh = self.keeper.prepare_next(cursor, current, isoformat(now))
        cursor.execute(
            "SELECT pseudonym, nonce, ciphertext, wrapped_key, key_nonce FROM patient_identities ORDER BY pseudonym"
        )
        for row in cursor.fetchall():
            pseudonym = str(row["pseudonym"])
            try:
                if row["wrapped_key"] is None:
                    self._reseal(cursor, pseudonym, row, fresh)
                    continue
                data_key = _unwrap(current, pseudonym, bytes(row["key_nonce"]), bytes(row["wrapped_key"]))
            except InvalidTag:
                continue  # an altered row opens under no key: it stays as unreadable as it was
            key_nonce, wrapped = _wrap(fresh, pseudonym, data_key)
            cursor.execute(
                "UPDATE patient_identities SET wrapped_key = %s, key_nonce = %s, kek_generation = %s"
                " WHERE pseudonym = %s",
                (wrapped, key_nonce, fresh.generation, pseudonym),
            )

    def _reseal(self, cursor: SideCursor, pseudonym: str, row: dict[str, Any], fresh: Kek) -> None:
        """A row sealed under the master-derived key, sealed again under a data key of its own."""
        plain = self._open(pseudonym, row, None)
        identity = PatientIdentity(**json.loads(plain))
        data_key, nonce = os.urandom(32), os.urandom(12)
        ciphertext = AESGCM(data_key).encrypt(nonce, plain, AAD_PREFIX + pseudonym.encode())
        key_nonce, wrapped = _wrap(fresh, pseudonym, data_key)
        cursor.execute(
            "UPDATE patient_identities SET nonce = %s, ciphertext = %s, wrapped_key = %s, key_nonce = %s,"
            " kek_generation = %s, lookup = %s WHERE pseudonym = %s",
            (
                nonce,
                ciphertext,
                wrapped,
                key_nonce,
                fresh.generation,
                self.lookup_hash(identity.hospital_number),
                pseudonym,
            ),
        )
