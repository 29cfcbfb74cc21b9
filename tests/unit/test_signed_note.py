"""C2SP checkpoint notes: what the ledger signs, and every malformed or forged note refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger.keys import KeyPair
from ledger.signed_note import NoteError, checkpoint_body, key_hash, parse_checkpoint, sign_note, verify_note

ORIGIN = "custody-ledger/test"
PAIR = KeyPair.generate()
ROOT = bytes(range(32))


def a_note(size: int = 12) -> str:
    return sign_note(checkpoint_body(ORIGIN, size, ROOT, ("time 2026-11-24T10:00:00.000000Z",)), ORIGIN, PAIR)


def test_a_checkpoint_note_reads_back_and_verifies_with_the_ledger_key() -> None:
    note = a_note()
    checkpoint = parse_checkpoint(note)
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (ORIGIN, 12, ROOT)
    assert checkpoint.extensions == ("time 2026-11-24T10:00:00.000000Z",)
    assert verify_note(note, ORIGIN, [PAIR.public_key])


def test_the_signature_line_names_the_key_by_its_c2sp_key_hash() -> None:
    line = a_note().splitlines()[-1]
    assert line.startswith("\u2014 " + ORIGIN + " ")
    assert len(key_hash(ORIGIN, PAIR.public_key)) == 4


@pytest.mark.parametrize(
    "edit",
    [
        lambda note: note.replace("\n12\n", "\n13\n"),
        lambda note: note.replace("time 2026", "time 2027"),
        lambda note: note.replace(ORIGIN + "\n", "custody-ledger/other\n", 1),
    ],
)
def test_an_edited_note_no_longer_verifies(edit: Callable[[str], str]) -> None:
    assert not verify_note(edit(a_note()), ORIGIN, [PAIR.public_key])


def test_a_note_signed_by_another_key_does_not_verify() -> None:
    assert not verify_note(a_note(), ORIGIN, [KeyPair.generate().public_key])


@pytest.mark.parametrize(
    "note",
    [
        "no blank line at all",
        "origin\n12\n\n— x y\n",
        "origin\ntwelve\nAAAA\n\n— x y\n",
        "origin\n-1\n" + "A" * 43 + "=\n\n— x y\n",
        "origin\n12\nAAAA\n\n— x y\n",
    ],
)
def test_a_malformed_checkpoint_is_refused(note: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(note)
