"""C2SP tlog-witness ``add-checkpoint``: the checks a witness makes before it cosigns.

The request body is ``old <size>\\n``, up to 63 base64 consistency-proof lines, an empty
line, then the checkpoint note. The witness answers 404 for a log it does not follow,
403 when no signature verifies with the log's key, 400 for a malformed body or an old
size beyond the checkpoint, 409 (body: its latest size, ``text/x.tlog.size``) when the
old size is not the size it last cosigned — or the same size with another root — and
422 when the consistency proof fails. Only then does it store the checkpoint as the
log's latest and answer its cosignature. Check and store run in one ``BEGIN
IMMEDIATE`` transaction, so two racing submissions can never roll the witness back.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from ledger.merkle import verify_consistency
from ledger.signed_note import NoteError, parse_checkpoint, verify_note
from ledger.witness import cosign
from ledger.witness_store import WitnessHome

MAX_PROOF_LINES = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class Answer:
    """An HTTP status, content type and body."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


def _request(text: str) -> tuple[int, list[bytes], str]:
    """The old size, the proof and the note; ``ValueError`` naming what is malformed."""
    head, separator, note = text.partition("\n\n")
    if not separator:
        raise ValueError("the body is an old size line, proof lines, an empty line and a checkpoint")
    lines = head.split("\n")
    old_text = lines[0].removeprefix("old ")
    if not lines[0].startswith("old ") or not old_text.isdigit() or str(int(old_text)) != old_text:
        raise ValueError("the first line is 'old <size>' in decimal without leading zeroes")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise ValueError(f"at most {MAX_PROOF_LINES} consistency proof lines")
    try:
        proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
    except (ValueError, binascii.Error):
        raise ValueError("every proof line is one base64 hash") from None
    if any(len(node) != 32 for node in proof):
        raise ValueError("every proof line is a 32-byte hash")
    return int(old_text), proof, note


def add_checkpoint(home: WitnessHome, body: bytes, now: int) -> Answer:
    """Check a submission and, when every check passes, remember and cosign it."""
    try:
        old, proof, note = _request(body.decode("utf-8"))
        checkpoint = parse_checkpoint(note)
    except (UnicodeDecodeError, ValueError, NoteError) as error:
        return Answer(400, f"{error}\n")
    name, pair = home.signer()
    with home.connection() as connection:
        connection.execute("BEGIN IMMEDIATE")
        try:
            log_key = home.log_key(connection, checkpoint.origin)
            if log_key is None:
                return Answer(404, f"this witness does not follow {checkpoint.origin}\n")
            if not verify_note(note, checkpoint.origin, [log_key]):
                return Answer(403, "no signature by the log's key verifies\n")
            if old > checkpoint.size:
                return Answer(400, f"old size {old} is beyond the checkpoint's size {checkpoint.size}\n")
            latest = home.latest(connection, checkpoint.origin)
            held = latest.size if latest else 0
            if old != held:
                return Answer(409, f"{held}\n", SIZE_CONTENT_TYPE)
            if latest is not None and old == checkpoint.size and latest.root != checkpoint.root:
                return Answer(409, f"{held}\n", SIZE_CONTENT_TYPE)
            if old == 0 and proof:
                return Answer(422, "the proof from size 0 is empty\n")
            grows = latest is not None and old < checkpoint.size
            if grows and latest and not verify_consistency(old, checkpoint.size, latest.root, checkpoint.root, proof):
                return Answer(422, f"the consistency proof from {old} to {checkpoint.size} does not verify\n")
            home.remember(connection, checkpoint.origin, checkpoint.size, checkpoint.root, note)
            connection.execute("COMMIT")
        finally:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
    return Answer(200, cosign(checkpoint.body, name, pair, now))
