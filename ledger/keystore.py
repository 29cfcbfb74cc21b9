"""Sealed private keys at rest, in the side table ``sealed_signing_keys``.

Rows here are secrets, not history: they never enter the event log. The
public half and its validity are recorded as signed staff events.
"""

from __future__ import annotations

import json
from datetime import datetime

from ledger.clock import isoformat
from ledger.keys import KdfParameters, SealedKey
from ledger.store import EventStore


class KeyStore:
    """Read and write sealed keys in the ledger's database."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def put(self, user_id: str, sealed: SealedKey, created_at: datetime) -> None:
        """Keep a newly sealed key."""
        kdf = json.dumps({"alg": "argon2id", **sealed.kdf.__dict__}, sort_keys=True)
        with self.store.side_transaction() as cursor:
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
                    kdf,
                    isoformat(created_at),
                ),
            )

    def get(self, key_id: str) -> SealedKey | None:
        """The sealed key with this id, if this database holds it."""
        with self.store.side_transaction() as cursor:
            cursor.execute("SELECT * FROM sealed_signing_keys WHERE key_id = %s", (key_id,))
            row = cursor.fetchone()
        if row is None:
            return None
        kdf = json.loads(row["kdf"])
        return SealedKey(
            key_id=row["key_id"],
            public_key=bytes(row["public_key"]),
            salt=bytes(row["salt"]),
            nonce=bytes(row["nonce"]),
            ciphertext=bytes(row["ciphertext"]),
            kdf=KdfParameters(kdf["time_cost"], kdf["memory_kib"], kdf["parallelism"]),
        )
