"""The identity key-encryption key (KEK): what makes erasing a patient's identity final.

Each patient's identity is sealed under its own random data key, and every data key is
wrapped by one KEK. The KEK itself is never stored in the database: a database row
(``identity_kek_generations``) names the current generation and a fingerprint, while the
key lives in ``identity.kek`` beside ``master.key`` (wrapped by a key derived from it),
outside every backup. Erasing an identity deletes its row and replaces the KEK: the other
data keys are re-wrapped under a new one and the old file is overwritten. A copy of the
database taken before the erase (a backup, free pages, the WAL, PostgreSQL's heap) still
holds the erased patient's wrapped key, but nothing that remains can unwrap it: the old
KEK existed only in the file that was destroyed, and ``master.key`` alone never yields it.

The file is replaced in two steps around the database transaction (``identity.kek.next``
written before the commit, renamed after it), so a crash in between is resolved on the
next read by taking whichever file matches the generation the database names. A prepared
file whose transaction failed is left alone (it wrapped nothing committed, and deleting it
after a commit whose answer was lost would lose every identity); the next rotation
overwrites it.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.secrets import derive_key
from ledger.side_cursor import SideCursor

KEK_FILE = "identity.kek"
NEXT_SUFFIX = ".next"
_MAGIC = b"CKEK1"
_AAD = b"custody-ledger/identity-kek/v1:"
_FINGERPRINT_LABEL = b"custody-ledger/identity-kek-fingerprint"


class IdentityKeyMismatch(Exception):
    """This host's identity.kek is not the one the database names (copied from the wrong host, or stale)."""


@dataclass(frozen=True)
class Kek:
    """One generation of the key-encryption key."""

    generation: int
    key: bytes

    @property
    def fingerprint(self) -> bytes:
        """A one-way tag of the key, stored in the database so a stale file is caught, never the key."""
        return hmac.new(self.key, _FINGERPRINT_LABEL, hashlib.sha256).digest()


def _wrapping_key(home: Path) -> bytes:
    return derive_key(home, "identity-kek-wrap")


def _encode(home: Path, kek: Kek) -> bytes:
    generation = kek.generation.to_bytes(8, "big")
    nonce = os.urandom(12)
    return _MAGIC + generation + nonce + AESGCM(_wrapping_key(home)).encrypt(nonce, kek.key, _AAD + generation)


def _decode(home: Path, blob: bytes) -> Kek | None:
    if not blob.startswith(_MAGIC) or len(blob) < len(_MAGIC) + 8 + 12 + 16:
        return None
    generation = blob[len(_MAGIC) : len(_MAGIC) + 8]
    nonce = blob[len(_MAGIC) + 8 : len(_MAGIC) + 20]
    try:
        key = AESGCM(_wrapping_key(home)).decrypt(nonce, blob[len(_MAGIC) + 20 :], _AAD + generation)
    except InvalidTag:
        return None
    return Kek(int.from_bytes(generation, "big"), key)


def _write(path: Path, data: bytes) -> None:
    """Write a secret file (mode 0600) and flush it to disk before anything depends on it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _destroy(path: Path) -> None:
    """Overwrite a retired key file before unlinking it, so its bytes do not linger in the file's blocks."""
    size = path.stat().st_size if path.exists() else 0
    if size:
        _write(path, os.urandom(size))
    path.unlink(missing_ok=True)


class KekKeeper:
    """Reads, creates and replaces the KEK of one CUSTODY_HOME against the generation the database names."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / KEK_FILE
        self.next_path = home / (KEK_FILE + NEXT_SUFFIX)

    def current(self, cursor: SideCursor, *, for_rotation: bool = False) -> Kek | None:
        """The KEK the database names (None before the first one); locks its row on PostgreSQL."""
        lock = ""
        if cursor.backend == "postgresql":
            lock = " FOR UPDATE" if for_rotation else " FOR SHARE"
        cursor.execute(
            "SELECT generation, fingerprint FROM identity_kek_generations ORDER BY generation DESC LIMIT 1" + lock
        )
        row = cursor.fetchone()
        if row is None:
            return None
        generation, fingerprint = int(row["generation"]), bytes(row["fingerprint"])
        for path in (self.path, self.next_path):
            blob = _read(path)
            kek = None if blob is None else _decode(self.home, blob)
            if kek is not None and kek.generation == generation and hmac.compare_digest(kek.fingerprint, fingerprint):
                if path == self.next_path:
                    self.promote()
                return kek
        raise IdentityKeyMismatch(
            f"{self.path} does not hold the identity key-encryption key of generation {generation} that the database "
            "names: copy identity.kek from the host that last erased an identity (patient identities stay sealed)"
        )

    def create(self, cursor: SideCursor, now: str) -> Kek:
        """The first KEK of a ledger (generation 1), file first, then its row in the caller's transaction."""
        kek = Kek(1, os.urandom(32))
        self.home.mkdir(parents=True, exist_ok=True)
        _write(self.next_path, _encode(self.home, kek))
        cursor.execute(
            "INSERT INTO identity_kek_generations (generation, fingerprint, created_at) VALUES (%s, %s, %s)",
            (kek.generation, kek.fingerprint, now),
        )
        return kek

    def prepare_next(self, cursor: SideCursor, current: Kek, now: str) -> Kek:
        """A new KEK written to identity.kek.next and named in the caller's transaction; ``promote`` after commit."""
        kek = Kek(current.generation + 1, os.urandom(32))
        _write(self.next_path, _encode(self.home, kek))
        cursor.execute(
            "INSERT INTO identity_kek_generations (generation, fingerprint, created_at) VALUES (%s, %s, %s)",
            (kek.generation, kek.fingerprint, now),
        )
        return kek

    def promote(self) -> None:
        """Make the prepared KEK current and destroy the one it replaces (after the database committed).

        Under a lock file, so two processes of one host never destroy each other's new key.
        """
        with open(self.home / (KEK_FILE + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            prepared = _read(self.next_path)
            if prepared is None:
                return
            if self.path.exists():
                _destroy(self.path)
            os.replace(self.next_path, self.path)
