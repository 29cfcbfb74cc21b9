"""The site's master secret, in CUSTODY_HOME, and the keys derived from it.

One random 32-byte file (mode 0600) unlocks the ledger's own signing key and the
patient identity store. Separate HKDF labels keep the derived keys independent:
leaking one never reveals another. Every host serving the same database must
hold the same file; back it up with the same care as the database.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MASTER_FILE = "master.key"


class MissingSecret(Exception):
    """CUSTODY_HOME has no master secret: run `custody init` first."""


def ensure_master_secret(home: Path) -> bool:
    """Create the master secret if absent; True when it was created now."""
    path = home / MASTER_FILE
    if path.exists():
        return False
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(os.urandom(32))
    return True


def derive_key(home: Path, label: str) -> bytes:
    """A 32-byte key for one purpose ('ledger-signing-key', 'patient-identity', …)."""
    path = home / MASTER_FILE
    try:
        master = path.read_bytes()
    except FileNotFoundError:
        raise MissingSecret(
            f"{path} is missing: run `custody init` (or point CUSTODY_HOME at the right place)"
        ) from None
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"custody-ledger/" + label.encode()).derive(
        master
    )
