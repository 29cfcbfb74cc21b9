"""C2SP checkpoint notes: what the ledger signs, and every malformed or forged note refused."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from ledger.keys import KeyPair
from ledger.signed_note import (
    NoteError,
    checkpoint_body,
    key_hash,
    parse_checkpoint,
    sign_note,
    split_note,
    verify_note,
)

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


# -- strict reading (C2SP signed-note) ---------------------------------------------------------------------


def test_the_text_ends_at_the_last_blank_line() -> None:
    note = a_note()
    text, signatures = split_note(note)
    assert text == note.split("\n\n")[0] + "\n" and len(signatures) == 1
    with pytest.raises(NoteError):  # an empty extension line before the last blank line is not a checkpoint
        parse_checkpoint(note.replace("time 2026", "\ntime 2026"))


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda note: note[:-1], "ends with a newline"),
        (lambda note: note + "a stray line\n", "every line after the blank line"),
        (lambda note: note.replace("time 2026", "time\t2026"), "control character"),
        (lambda note: note.replace("\n", "\r\n"), "control character"),
        (lambda note: note.replace("\u2014 ", "- "), "every line after the blank line"),
    ],
)
def test_a_note_that_is_not_strictly_a_signed_note_is_refused(edit: Callable[[str], str], why: str) -> None:
    with pytest.raises(NoteError, match=why):
        split_note(edit(a_note()))
    assert not verify_note(edit(a_note()), ORIGIN, [PAIR.public_key])


def test_a_failing_signature_by_a_known_key_rejects_the_whole_note() -> None:
    note = a_note()
    good = note.splitlines()[-1]
    raw = base64.b64decode(good.split(" ")[-1])
    bad = "\u2014 " + ORIGIN + " " + base64.b64encode(raw[:4] + bytes(64)).decode()
    assert verify_note(
        note + "\u2014 witness.example " + base64.b64encode(bytes(68)).decode() + "\n", ORIGIN, [PAIR.public_key]
    )
    assert not verify_note(note + bad + "\n", ORIGIN, [PAIR.public_key])
