"""A webhook's signing secret: read from a file once, then kept only sealed.

The secret is what lets a receiver tell our deliveries from forgeries, so whoever
reads the database (a backup, a DBA, a replica) must not learn it: it is stored
AES-256-GCM-sealed under a key derived from the master secret (label
``webhook-secrets``), bound to the webhook's id so a sealed secret copied onto another
webhook does not open. It is never printed nor logged.

The file holds either Standard Webhooks' ``whsec_<base64>`` form (the key is the
decoded bytes, what their receiver libraries expect) or the raw secret text.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.errors import InvalidInput
from ledger.secrets import derive_key

KEY_LABEL = "webhook-secrets"
PREFIX = "whsec_"
MIN_BYTES = 24  # Standard Webhooks asks for 24 to 64 random bytes
MAX_BYTES = 1024
NONCE_BYTES = 12
_AAD = b"custody-ledger/webhook-secret/v1:"


class SecretUnsealable(Exception):
    """The sealed secret does not open: another master secret, another webhook's row, or altered bytes."""


def read_secret_file(path: str, field: str = "--secret-file") -> bytes:
    """The signing key a secret file holds, or a refusal naming the file and the rule it breaks."""
    try:
        raw = Path(path).read_bytes()[: MAX_BYTES * 2 + len(PREFIX) + 2]
    except OSError as error:
        raise InvalidInput(f"{field} {path}: {error.strerror}", field=field, rule="unreadable_file") from None
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise InvalidInput(f"{field} {path} is not UTF-8 text", field=field, rule="secret_not_text") from None
    if text.startswith(PREFIX):
        try:
            key = base64.b64decode(text[len(PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(
                f"{field} {path}: after {PREFIX} comes base64, and this is not", field=field, rule="malformed_secret"
            ) from None
    else:
        key = text.encode("utf-8")
    if len(key) < MIN_BYTES:
        raise InvalidInput(
            f"{field} {path} holds {len(key)} bytes of secret; at least {MIN_BYTES} random bytes are needed",
            field=field,
            rule="secret_too_short",
        )
    if len(key) > MAX_BYTES:
        raise InvalidInput(
            f"{field} {path} holds more than {MAX_BYTES} bytes of secret", field=field, rule="secret_too_long"
        )
    return key


def seal_secret(home: Path, webhook_id: str, key: bytes) -> bytes:
    """Nonce and AES-GCM ciphertext of ``key``, bound to ``webhook_id``."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(derive_key(home, KEY_LABEL)).encrypt(nonce, key, _AAD + webhook_id.encode())


def open_secret(home: Path, webhook_id: str, sealed: bytes) -> bytes:
    """The signing key sealed for ``webhook_id``; ``SecretUnsealable`` when it does not open."""
    nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    try:
        return AESGCM(derive_key(home, KEY_LABEL)).decrypt(nonce, ciphertext, _AAD + webhook_id.encode())
    except (InvalidTag, ValueError):
        raise SecretUnsealable(f"the secret of webhook {webhook_id} does not open under this master secret") from None
