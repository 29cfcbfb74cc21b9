"""Patient identity, encrypted at rest and kept out of every event.

Events carry a pseudonym only. Name, birth date and hospital number are sealed
with AES-256-GCM under a key derived from the master secret, bound to the
pseudonym as associated data (a ciphertext moved to another row does not
decrypt). Erasing a row removes the identity without touching any hash or
signature.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.clock import isoformat
from ledger.store import EventStore

AAD_PREFIX = b"custody-ledger/patient-identity/v1:"


class IdentityUnavailable(Exception):
    """No identity is held for that pseudonym (never stored, or erased)."""


@dataclass(frozen=True)
class PatientIdentity:
    """What bedside staff check on the wristband; personal health data."""

    family_name: str
    given_name: str
    birth_date: str
    hospital_number: str


class IdentityStore:
    """Encrypted identities keyed by pseudonym."""

    def __init__(self, store: EventStore, key: bytes) -> None:
        self.store = store
        self.aead = AESGCM(key)

    def put(self, pseudonym: str, identity: PatientIdentity, now: datetime) -> None:
        """Seal and keep one patient's identity."""
        nonce = os.urandom(12)
        ciphertext = self.aead.encrypt(nonce, json.dumps(asdict(identity)).encode(), AAD_PREFIX + pseudonym.encode())
        with self.store.side_transaction() as cursor:
            cursor.execute(
                "INSERT INTO patient_identities (pseudonym, nonce, ciphertext, created_at) VALUES (%s, %s, %s, %s)",
                (pseudonym, nonce, ciphertext, isoformat(now)),
            )

    def get(self, pseudonym: str) -> PatientIdentity:
        """Decrypt one identity, for authorised staff only (the caller checks the role)."""
        return self.get_versioned(pseudonym)[0]

    def get_versioned(self, pseudonym: str) -> tuple[PatientIdentity, str]:
        """The identity and its version (when it was sealed), so a check can say which record it compared."""
        with self.store.side_transaction() as cursor:
            cursor.execute(
                "SELECT nonce, ciphertext, created_at FROM patient_identities WHERE pseudonym = %s", (pseudonym,)
            )
            row = cursor.fetchone()
        if row is None:
            raise IdentityUnavailable(f"no identity is held for pseudonym {pseudonym}")
        try:
            plain = self.aead.decrypt(bytes(row["nonce"]), bytes(row["ciphertext"]), AAD_PREFIX + pseudonym.encode())
        except InvalidTag:
            raise IdentityUnavailable(f"the identity held for {pseudonym} does not decrypt (altered row)") from None
        return PatientIdentity(**json.loads(plain)), str(row["created_at"])

    def erase(self, pseudonym: str) -> bool:
        """Remove an identity (right to erasure); events and signatures are unaffected."""
        with self.store.side_transaction() as cursor:
            cursor.execute("SELECT 1 AS held FROM patient_identities WHERE pseudonym = %s", (pseudonym,))
            if cursor.fetchone() is None:
                return False
            cursor.execute("DELETE FROM patient_identities WHERE pseudonym = %s", (pseudonym,))
            return True
