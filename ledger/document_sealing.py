"""Sealing a patient-identifying document (a consent form) with that patient's data key.

A consent form names the patient, so it is kept only encrypted, under a key derived
(HKDF-SHA256) from the patient's own data key (ledger/identity_store.py). Erasing the
patient's identity shreds that data key, and with it every sealed document: the
ciphertext stays (no code path deletes a document), but nothing left can open it, and
``custody verify`` reports it as ``shredded_document``. The reference in the signed
event is the SHA-256 of the plaintext, so sealing never changes what was signed.

The nonce is derived from the plaintext under the document key (SIV-style), so storing
the same form twice writes the same bytes: a file left by an interrupted write is
recognised rather than replaced. Equal plaintexts give equal ciphertexts, which reveals
nothing the public SHA-256 reference does not already say.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"CDOC1"
_INFO = b"custody-ledger/patient-document-key/v1"
_AAD = b"custody-ledger/patient-document/v1:"
NONCE_BYTES = 12
TAG_BYTES = 16


class DocumentUnsealable(Exception):
    """The sealed bytes do not open under this patient's key (altered, or sealed for someone else)."""


def _document_key(data_key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(data_key)


def _aad(sha256: str, pseudonym: str) -> bytes:
    return _AAD + sha256.encode() + b"#" + pseudonym.encode()


def seal_document(plain: bytes, sha256: str, pseudonym: str, data_key: bytes) -> bytes:
    """The stored form of a patient's document: magic, nonce, AES-256-GCM ciphertext bound to hash and pseudonym."""
    key = _document_key(data_key)
    nonce = hmac.new(key, plain, hashlib.sha256).digest()[:NONCE_BYTES]
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, plain, _aad(sha256, pseudonym))


def sealed_size(plain_size: int) -> int:
    """The stored size of a sealed document of ``plain_size`` bytes (GCM adds its tag, nothing else)."""
    return len(MAGIC) + NONCE_BYTES + plain_size + TAG_BYTES


def looks_sealed(stored: bytes, plain_size: int) -> bool:
    """What can be checked without the patient's key: the sealed form, of the size the signed reference implies.

    No hash of the ciphertext is kept, so this is all a host without the identity key can
    say; a changed byte inside the ciphertext is found only where the key opens it (the tag).
    """
    return stored.startswith(MAGIC) and len(stored) == sealed_size(plain_size)


def open_document(sealed: bytes, sha256: str, pseudonym: str, data_key: bytes) -> bytes:
    """The plaintext of a sealed document; ``DocumentUnsealable`` when it does not open."""
    if not sealed.startswith(MAGIC) or len(sealed) < sealed_size(0):
        raise DocumentUnsealable("not a sealed document")
    nonce = sealed[len(MAGIC) : len(MAGIC) + NONCE_BYTES]
    try:
        return AESGCM(_document_key(data_key)).decrypt(
            nonce, sealed[len(MAGIC) + NONCE_BYTES :], _aad(sha256, pseudonym)
        )
    except InvalidTag:
        raise DocumentUnsealable("the sealed document does not open under its patient's key (altered)") from None
