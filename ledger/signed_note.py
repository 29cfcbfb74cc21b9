"""C2SP signed notes and tlog checkpoints: the text a witness or an auditor can check by hand.

A checkpoint body is ``origin\\nsize\\nbase64(root)\\n`` plus extension lines; the note
adds a blank line and one signature line per key: ``— name base64(keyhash ‖ sig)``,
where ``keyhash`` is the first four bytes of SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key)
(0x01 names Ed25519). Notes are read strictly: the last blank line ends the text and
nothing but signature lines follows it. Verifiers ignore signatures by keys they do not know, which
lets a ledger rotate its key and witnesses add theirs; a failing signature by a key
they know rejects the note.
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
        return split_note(self.note)[0]


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


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the key's name, its 4-byte key hash and the signature bytes."""

    name: str
    key_hash: bytes
    signature: bytes


def split_note(note: str) -> tuple[str, list[NoteSignature]]:
    """The signed text (newline-terminated) and the signature lines, read as C2SP signed-note says.

    The text ends at the *last* blank line; the note ends with a newline; every line after
    the blank one is a signature line (``— name base64(keyhash ‖ signature)``); no control
    character but newline appears anywhere. Anything else is a ``NoteError``.
    """
    if not note.endswith("\n"):
        raise NoteError("a signed note ends with a newline")
    bad = next((char for char in note if char != "\n" and (ord(char) < 0x20 or ord(char) == 0x7F)), None)
    if bad is not None:
        raise NoteError(f"a signed note holds no control character but newline (found U+{ord(bad):04X})")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise NoteError("a signed note needs a text, a blank line and at least one signature line")
    text, block = note[: cut + 1], note[cut + 2 :]
    signatures = []
    for line in block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"every line after the blank line is a signature line, not {line[:40]!r}")
        parts = line[len(SIGNATURE_PREFIX) :].split(" ")
        if len(parts) != 2 or not parts[0] or "+" in parts[0]:
            raise NoteError("a signature line is '— name base64', the name without spaces or '+'")
        try:
            raw = base64.b64decode(parts[1], validate=True)
        except (ValueError, binascii.Error):
            raise NoteError("a signature line's signature is not base64") from None
        if len(raw) < 5:
            raise NoteError("a signature is a 4-byte key hash followed by the signature")
        signatures.append(NoteSignature(parts[0], raw[:4], raw[4:]))
    return text, signatures


def parse_checkpoint(note: str) -> Checkpoint:
    """Read a checkpoint note strictly (signatures are checked by ``verify_note``)."""
    text, _ = split_note(note)
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("a checkpoint body has an origin, a size and a root hash")
    origin, size_text, root_text, *extensions = lines
    try:
        size, root = int(size_text), base64.b64decode(root_text, validate=True)
    except (ValueError, binascii.Error) as error:
        raise NoteError(f"malformed checkpoint size or root: {error}") from None
    if size < 0 or len(root) != 32 or str(size) != size_text:
        raise NoteError("a checkpoint size is a non-negative decimal and its root 32 bytes")
    if not origin or any(not line for line in extensions):
        raise NoteError("a checkpoint's origin and extension lines are not empty")
    return Checkpoint(origin, size, root, tuple(extensions), note)


def verify_note(note: str, name: str, public_keys: list[bytes]) -> bool:
    """True when a signature by ``name`` verifies with one of ``public_keys`` and none by them fails.

    Signatures by other names or unknown keys are ignored (witnesses may add theirs); but a
    signature line naming one of these keys that does not verify makes the whole note
    invalid, as C2SP signed-note requires. A malformed note is not valid.
    """
    try:
        text, signatures = split_note(note)
    except NoteError:
        return False
    known = {key_hash(name, public_key): public_key for public_key in public_keys}
    verified = False
    for line in signatures:
        public_key = known.get(line.key_hash)
        if line.name != name or public_key is None:
            continue
        if not verify_signature(public_key, line.signature, text.encode()):
            return False
        verified = True
    return verified
