"""C2SP signed notes and tlog checkpoints: the text a witness or an auditor can check by hand.

A checkpoint body is ``origin\\nsize\\nbase64(root)\\n`` plus extension lines; the note
adds a blank line and one signature line per key: ``— name base64(keyhash ‖ sig)``,
where ``keyhash`` is the first four bytes of SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key)
(0x01 names Ed25519). Verifiers ignore signatures by keys they do not know, which
lets a ledger rotate its key and witnesses add theirs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from ledger.keys import KeyPair, verify_signature

SIGNATURE_PREFIX = "\u2014 "


class NoteError(ValueError):
    """A note or checkpoint that is malformed or not signed by a trusted key."""


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of the log's size and root at one moment."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...]
    note: str

    @property
    def body(self) -> str:
        """The signed text (everything before the blank line), newline-terminated."""
        return self.note.split("\n\n", 1)[0] + "\n"


def key_hash(name: str, public_key: bytes) -> bytes:
    """The 4-byte key hash that names an Ed25519 key in a signature line."""
    return hashlib.sha256(name.encode() + b"\n\x01" + public_key).digest()[:4]


def checkpoint_body(origin: str, size: int, root: bytes, extensions: tuple[str, ...] = ()) -> str:
    """The tlog-checkpoint body text."""
    lines = [origin, str(size), base64.b64encode(root).decode(), *extensions]
    return "\n".join(lines) + "\n"


def sign_note(body: str, name: str, pair: KeyPair) -> str:
    """The complete note: body, blank line, one Ed25519 signature line."""
    signature = key_hash(name, pair.public_key) + pair.sign(body.encode())
    return f"{body}\n{SIGNATURE_PREFIX}{name} {base64.b64encode(signature).decode()}\n"


def parse_checkpoint(note: str) -> Checkpoint:
    """Read a checkpoint note's body (signatures are checked by ``verify_note``)."""
    if "\n\n" not in note:
        raise NoteError("a checkpoint note needs a body, a blank line and a signature")
    lines = note.split("\n\n", 1)[0].split("\n")
    if len(lines) < 3:
        raise NoteError("a checkpoint body has an origin, a size and a root hash")
    origin, size_text, root_text, *extensions = lines
    try:
        size, root = int(size_text), base64.b64decode(root_text, validate=True)
    except (ValueError, binascii.Error) as error:
        raise NoteError(f"malformed checkpoint size or root: {error}") from None
    if size < 0 or len(root) != 32 or str(size) != size_text:
        raise NoteError("a checkpoint size is a non-negative decimal and its root 32 bytes")
    return Checkpoint(origin, size, root, tuple(extensions), note)


def verify_note(note: str, name: str, public_keys: list[bytes]) -> bool:
    """True when a signature line by ``name`` verifies with one of ``public_keys``."""
    body, _, signatures = note.partition("\n\n")
    for line in signatures.split("\n"):
        if not line.startswith(SIGNATURE_PREFIX + name + " "):
            continue
        try:
            raw = base64.b64decode(line.rsplit(" ", 1)[1], validate=True)
        except (ValueError, binascii.Error):
            continue
        for public_key in public_keys:
            if raw[:4] == key_hash(name, public_key) and verify_signature(public_key, raw[4:], (body + "\n").encode()):
                return True
    return False
