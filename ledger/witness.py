"""C2SP tlog-cosignature: a witness's timestamped signature on a checkpoint it checked.

A cosignature line is ``— name base64(keyID ‖ timestamp ‖ signature)``: keyID is the first
four bytes of SHA-256(name ‖ "\\n" ‖ 0x04 ‖ Ed25519 public key) — 0x04 names the
cosignature/v1 signature type, so a witness key never verifies as a log key — the
timestamp is 8 bytes big-endian seconds since the epoch, and the Ed25519 signature is
over ``cosignature/v1\\ntime <seconds>\\n`` followed by the checkpoint body. A witness's
public key travels as a C2SP verifier key: ``name+hex(keyID)+base64(0x04 ‖ public key)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from ledger.keys import KeyPair, verify_signature
from ledger.signed_note import SIGNATURE_PREFIX, NoteError, split_note

COSIGNATURE_TYPE = b"\x04"


@dataclass(frozen=True)
class WitnessKey:
    """A witness's name and Ed25519 public key."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID of a cosignature/v1 key."""
        return cosignature_key_id(self.name, self.public_key)

    def vkey(self) -> str:
        """The C2SP verifier-key text an operator hands out."""
        encoded = base64.b64encode(COSIGNATURE_TYPE + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"


def cosignature_key_id(name: str, public_key: bytes) -> bytes:
    """SHA-256(name ‖ "\\n" ‖ 0x04 ‖ key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + COSIGNATURE_TYPE + public_key).digest()[:4]


def parse_vkey(text: str) -> WitnessKey:
    """A witness verifier key, refused with ``NoteError`` unless its key ID matches its name and key."""
    parts = text.strip().split("+", 2)  # the name and key ID hold no "+"; base64 may
    if len(parts) != 3 or not parts[0]:
        raise NoteError("a witness key is name+keyid+base64(0x04 ‖ Ed25519 public key)")
    try:
        raw = base64.b64decode(parts[2], validate=True)
        key_id = bytes.fromhex(parts[1])
    except (ValueError, binascii.Error):
        raise NoteError("a witness key's key ID is hexadecimal and its key base64") from None
    if len(raw) != 33 or raw[:1] != COSIGNATURE_TYPE:
        raise NoteError("a witness key is a cosignature/v1 (0x04) Ed25519 key of 32 bytes")
    key = WitnessKey(parts[0], raw[1:])
    if key.key_id != key_id:
        raise NoteError("a witness key's key ID does not match its name and key")
    return key


def cosigned_message(body: str, timestamp: int) -> bytes:
    """What a witness signs: the cosignature/v1 header, the time, then the checkpoint body."""
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosign(body: str, name: str, pair: KeyPair, timestamp: int) -> str:
    """The cosignature line a witness answers with (newline-terminated)."""
    signature = pair.sign(cosigned_message(body, timestamp))
    raw = cosignature_key_id(name, pair.public_key) + struct.pack(">Q", timestamp) + signature
    return f"{SIGNATURE_PREFIX}{name} {base64.b64encode(raw).decode()}\n"


def cosignature_time(note: str, witness: WitnessKey) -> int | None:
    """The timestamp of ``witness``'s valid cosignature on the note's body, or None when it has none.

    A line with the witness's name and key ID that does not verify also gives None: a forged
    cosignature never counts.
    """
    try:
        body, lines = split_note(note)
    except NoteError:
        return None
    for line in lines:
        if line.name != witness.name or line.key_hash != witness.key_id or len(line.signature) != 72:
            continue
        (timestamp,) = struct.unpack(">Q", line.signature[:8])
        if verify_signature(witness.public_key, line.signature[8:], cosigned_message(body, timestamp)):
            return int(timestamp)
        return None
    return None


def cosigners(note: str, witnesses: list[WitnessKey]) -> list[str]:
    """The names of the given witnesses whose cosignature on the note verifies."""
    return [witness.name for witness in witnesses if cosignature_time(note, witness) is not None]
