"""Ed25519 key pairs, their identifiers, and sealing private keys under a password.

A private key never rests in clear: it is sealed with AES-256-GCM under a key
derived from the owner's password by Argon2id (RFC 9106). The KDF parameters
travel with the sealed key so that stronger defaults later never strand an old
key. Unsealing doubles as the password check that 21 CFR Part 11 §11.200 asks
for at the first signature of a session: a wrong password fails the GCM tag.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cached_property

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

SEAL_CONTEXT = b"custody-ledger/sealed-key/v1"


class WrongPassword(Exception):
    """The password does not unseal the private key."""


@dataclass(frozen=True)
class KdfParameters:
    """Argon2id cost parameters (RFC 9106 second recommended option by default)."""

    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 4


def key_id_for(public_key: bytes) -> str:
    """A stable short name for a public key: the first 16 bytes of its SHA-256, in hex."""
    return hashlib.sha256(public_key).hexdigest()[:32]


def public_bytes(public_key: Ed25519PublicKey) -> bytes:
    """The raw 32-byte form of a public key."""
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class KeyPair:
    """An unsealed signing key, alive only for a signing session."""

    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> KeyPair:
        """A fresh random key pair."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> KeyPair:
        """Rebuild from the 32-byte seed."""
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    @cached_property
    def public_key(self) -> bytes:
        """Raw public key bytes."""
        return public_bytes(self.private_key.public_key())

    @cached_property
    def key_id(self) -> str:
        """Identifier of the public key."""
        return key_id_for(self.public_key)

    def private_bytes(self) -> bytes:
        """The 32-byte seed (only ever handed to ``seal``)."""
        return self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def sign(self, message: bytes) -> bytes:
        """Ed25519 signature."""
        return self.private_key.sign(message)


def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class SealedKey:
    """A private key encrypted under a password-derived key, as stored."""

    key_id: str
    public_key: bytes
    salt: bytes
    nonce: bytes
    ciphertext: bytes
    kdf: KdfParameters


def _derive(password: str, salt: bytes, kdf: KdfParameters) -> bytes:
    return hash_secret_raw(
        secret=password.encode(),
        salt=salt,
        time_cost=kdf.time_cost,
        memory_cost=kdf.memory_kib,
        parallelism=kdf.parallelism,
        hash_len=32,
        type=Type.ID,
    )


def seal_key(pair: KeyPair, password: str, kdf: KdfParameters) -> SealedKey:
    """Encrypt a private key under ``password``; the key id is bound as associated data."""
    salt = os.urandom(16)
    nonce = os.urandom(12)
    aad = SEAL_CONTEXT + pair.key_id.encode()
    ciphertext = AESGCM(_derive(password, salt, kdf)).encrypt(nonce, pair.private_bytes(), aad)
    return SealedKey(pair.key_id, pair.public_key, salt, nonce, ciphertext, kdf)


def unseal_key(sealed: SealedKey, password: str) -> KeyPair:
    """Decrypt a sealed key; ``WrongPassword`` when the password does not fit."""
    aad = SEAL_CONTEXT + sealed.key_id.encode()
    try:
        raw = AESGCM(_derive(password, sealed.salt, sealed.kdf)).decrypt(sealed.nonce, sealed.ciphertext, aad)
    except InvalidTag:
        raise WrongPassword("the password does not unlock this signing key") from None
    pair = KeyPair.from_private_bytes(raw)
    if pair.key_id != sealed.key_id:
        raise WrongPassword("the sealed key does not match its public key")
    return pair
