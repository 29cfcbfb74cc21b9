"""What someone holding CUSTODY_HOME's remaining keys could open: the oracle of the crypto-shredding tests.

It is written from the storage format, not with the identity store's code: every key a
home still yields (the current identity.kek unwrapped with master.key, and the key the
first version derived from master.key for every patient) is tried on a stored row.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(home: Path, label: str) -> bytes:
    master = (home / "master.key").read_bytes()
    return HKDF(hashes.SHA256(), 32, None, b"custody-ledger/" + label.encode()).derive(master)


def remaining_keks(home: Path) -> list[tuple[int, bytes]]:
    """Every identity KEK file the home still holds, opened with master.key."""
    found = []
    for path in sorted(home.glob("identity.kek*")):
        blob = path.read_bytes()
        if not blob.startswith(b"CKEK1"):
            continue
        generation = blob[5:13]
        try:
            key = AESGCM(_derive(home, "identity-kek-wrap")).decrypt(
                blob[13:25], blob[25:], b"custody-ledger/identity-kek/v1:" + generation
            )
        except InvalidTag:
            continue
        found.append((int.from_bytes(generation, "big"), key))
    return found


def open_row(home: Path, pseudonym: str, row: dict[str, Any]) -> dict[str, str] | None:
    """The identity in a stored row if any remaining key opens it, else None."""
    aad = b"custody-ledger/patient-identity/v1:" + pseudonym.encode()
    nonce, ciphertext = bytes(row["nonce"]), bytes(row["ciphertext"])
    data_keys = [_derive(home, "patient-identity")]
    if row.get("wrapped_key") is not None:
        for generation, kek in remaining_keks(home):
            for claimed in {generation, int(row.get("kek_generation") or 0)}:
                key_aad = b"custody-ledger/patient-data-key/v2:" + pseudonym.encode() + b"#" + str(claimed).encode()
                try:
                    data_keys.append(AESGCM(kek).decrypt(bytes(row["key_nonce"]), bytes(row["wrapped_key"]), key_aad))
                except InvalidTag:
                    continue
    for key in data_keys:
        try:
            return dict(json.loads(AESGCM(key).decrypt(nonce, ciphertext, aad)))
        except InvalidTag:
            continue
    return None
