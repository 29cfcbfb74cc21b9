"""Sealed private keys at rest, in the side table ``sealed_signing_keys``.

Rows here are secrets, not history: they never enter the event log. The
public half and its validity are recorded as signed staff events.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ledger.clock import isoformat
from ledger.keys import KdfParameters, SealedKey
from ledger.side_cursor import SideCursor
from ledger.store import EventStore


class KeyStore:
    """Read and write sealed keys in the ledger's database."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def put(self, user_id: str, sealed: SealedKey, created_at: datetime) -> None:
        """Keep a newly sealed key."""
        with self.store.side_transaction() as cursor:
            insert_sealed(cursor, user_id, sealed, created_at)

    def get(self, key_id: str) -> SealedKey | None:
        """The sealed key with this id, if this database holds it."""
        with self.store.side_transaction() as cursor:
            cursor.execute("SELECT * FROM sealed_signing_keys WHERE key_id = %s", (key_id,))
            row = cursor.fetchone()
        return None if row is None else _sealed(row)

    def keys_of(self, user_id: str) -> list[SealedKey]:
        """Every sealed key this database holds for one person, oldest first (revoked ones included)."""
        with self.store.side_transaction() as cursor:
            cursor.execute(
                "SELECT * FROM sealed_signing_keys WHERE user_id = %s ORDER BY created_at, key_id", (user_id,)
            )
            rows = cursor.fetchall()
        return [_sealed(row) for row in rows]


def insert_sealed(cursor: SideCursor, user_id: str, sealed: SealedKey, created_at: datetime) -> None:
    """Keep a newly sealed key in the caller's transaction (a re-enrolment stores it with its key events)."""
    cursor.execute(
        "INSERT INTO sealed_signing_keys"
        " (key_id, user_id, public_key, salt, nonce, ciphertext, kdf, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            sealed.key_id,
            user_id,
            sealed.public_key,
            sealed.salt,
            sealed.nonce,
            sealed.ciphertext,
            _kdf_text(sealed),
            isoformat(created_at),
        ),
    )


class SealedKeyChanged(Exception):
    """The sealed key was re-sealed by someone else since it was read: nothing of this change was kept."""


def reseal(cursor: SideCursor, old: SealedKey, new: SealedKey) -> None:
    """Replace a key's sealing (same key id and public key, new password) in the caller's transaction.

    Compare-and-set on the old ciphertext: of two password changes racing on one key, the
    second finds the row changed and raises ``SealedKeyChanged`` (its transaction rolls back).
    """
    if old.key_id != new.key_id or old.public_key != new.public_key:
        raise ValueError("re-sealing keeps the key: the key id and public key must not change")
    cursor.execute(
        "UPDATE sealed_signing_keys SET salt = %s, nonce = %s, ciphertext = %s, kdf = %s"
        " WHERE key_id = %s AND ciphertext = %s",
        (new.salt, new.nonce, new.ciphertext, _kdf_text(new), new.key_id, old.ciphertext),
    )
    cursor.execute("SELECT ciphertext FROM sealed_signing_keys WHERE key_id = %s", (new.key_id,))
    row = cursor.fetchone()
    if row is None or bytes(row["ciphertext"]) != new.ciphertext:
        raise SealedKeyChanged(f"the signing key {new.key_id} changed meanwhile: try again")


def _kdf_text(sealed: SealedKey) -> str:
    return json.dumps({"alg": "argon2id", **sealed.kdf.__dict__}, sort_keys=True)


def _sealed(row: dict[str, Any]) -> SealedKey:
    kdf = json.loads(row["kdf"])
    return SealedKey(
        key_id=row["key_id"],
        public_key=bytes(row["public_key"]),
        salt=bytes(row["salt"]),
        nonce=bytes(row["nonce"]),
        ciphertext=bytes(row["ciphertext"]),
        kdf=KdfParameters(kdf["time_cost"], kdf["memory_kib"], kdf["parallelism"]),
    )
