"""A real `custody witness serve` process cosigns the ledger's checkpoints and refuses forks and rollbacks.

The witness runs as its own process on 127.0.0.1 with its own key and SQLite file,
started here (bounded by a timeout) and stopped at the end. Its cosignatures are
checked with the C2SP tlog-cosignature rules by the test; its refusals by status.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.merkle_log import checkpoint, origin_of
from ledger.merkle_tree import StoredTree
from ledger.service import CustodyLedger
from ledger.setup import register_staff
from ledger.signed_note import Checkpoint, checkpoint_body, parse_checkpoint, sign_note
from ledger.witness import WitnessKey, cosigners, parse_vkey
from ledger.witness_client import Prover, Witness, WitnessRefused, submit
from ledger.witness_store import PUBLIC_FILE, WitnessHome
from tests.integration.journeys import password_of

REPO = Path(__file__).resolve().parents[2]
START_SECONDS = 20


@pytest.fixture
def witness_home(tmp_path: Path, ledger: CustodyLedger) -> WitnessHome:
    """A witness that follows this ledger, configured with the ledger's current key."""
    home = WitnessHome(tmp_path / "witness")
    home.initialise("witness.test/w1")
    home.add_log(origin_of(ledger.meta.ledger_id()), ledger.meta.ledger_key_pair().public_key)
    return home


@pytest.fixture
def witness(witness_home: WitnessHome) -> Iterator[Witness]:
    """`custody witness serve` on a free port, stopped (and waited for) at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "witness", "serve", "--home", str(witness_home.home), "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # the first line names the address; the process exits on failure
        assert line.startswith("witness listening on "), line
        key = parse_vkey((witness_home.home / PUBLIC_FILE).read_text(encoding="ascii"))
        yield Witness(line.removeprefix("witness listening on ").strip(), key)
    finally:
        process.terminate()
        process.wait(timeout=START_SECONDS)
        if process.stdout is not None:
            process.stdout.close()


def grow(ledger: CustodyLedger, *names: str) -> Checkpoint:
    for name in names:
        register_staff(ledger, name, name.title(), "nurse", password_of(name), registrar="ledger")
    return checkpoint(ledger)


def prover(ledger: CustodyLedger) -> Prover:
    """PROOF(old, new) from the ledger's stored tree, as the ledger sends it."""

    def prove(old: int, new: int) -> list[bytes]:
        with ledger.store.side_transaction() as cursor:
            return StoredTree(cursor).consistency(old, new)

    return prove


def cosigned_by(note: str, line: str, key: WitnessKey) -> list[str]:
    return cosigners(note + line, [key])


def test_the_witness_cosigns_each_checkpoint_that_extends_the_last(ledger: CustodyLedger, witness: Witness) -> None:
    first = grow(ledger, "ann")
    line = submit(witness, first, 0, prover(ledger))
    assert cosigned_by(first.note, line, witness.key) == [witness.key.name]
    second = grow(ledger, "bob", "cid")
    line = submit(witness, second, first.size, prover(ledger))
    assert cosigned_by(second.note, line, witness.key) == [witness.key.name]
    assert cosigned_by(first.note, line, witness.key) == []  # a cosignature is on one checkpoint only


def test_a_ledger_that_forgot_what_it_sent_learns_the_witness_size_and_proves_from_it(
    ledger: CustodyLedger, witness: Witness
) -> None:
    first = grow(ledger, "ann")
    submit(witness, first, 0, prover(ledger))
    second = grow(ledger, "bob")
    line = submit(witness, second, 0, prover(ledger))  # 409 names the size; the proof is sent from it
    assert cosigned_by(second.note, line, witness.key) == [witness.key.name]


def forged(ledger: CustodyLedger, size: int, root: bytes) -> Checkpoint:
    """A checkpoint the ledger key signs over another tree: what a restored, diverging store would sign."""
    origin = origin_of(ledger.meta.ledger_id())
    return parse_checkpoint(sign_note(checkpoint_body(origin, size, root), origin, ledger.meta.ledger_key_pair()))


def test_a_fork_of_the_same_size_is_refused(ledger: CustodyLedger, witness: Witness) -> None:
    first = grow(ledger, "ann")
    submit(witness, first, 0, prover(ledger))
    with pytest.raises(WitnessRefused) as refused:
        submit(witness, forged(ledger, first.size, b"\x07" * 32), first.size, prover(ledger))
    assert refused.value.status == 409


def test_a_rollback_to_an_earlier_tree_is_refused(ledger: CustodyLedger, witness: Witness) -> None:
    first = grow(ledger, "ann")
    submit(witness, first, 0, prover(ledger))
    second = grow(ledger, "bob")
    submit(witness, second, first.size, prover(ledger))
    with pytest.raises(WitnessRefused) as refused:
        submit(witness, first, first.size, prover(ledger))
    assert refused.value.status == 409


def test_a_larger_tree_that_does_not_extend_the_cosigned_one_is_refused(
    ledger: CustodyLedger, witness: Witness
) -> None:
    first = grow(ledger, "ann")
    submit(witness, first, 0, prover(ledger))
    second = grow(ledger, "bob")
    fork = forged(ledger, second.size, b"\x09" * 32)
    with pytest.raises(WitnessRefused) as refused:
        submit(witness, fork, first.size, prover(ledger))
    assert refused.value.status == 422
    line = submit(witness, second, first.size, prover(ledger))  # the honest one still is cosigned: nothing was stored
    assert cosigned_by(second.note, line, witness.key) == [witness.key.name]


def test_a_checkpoint_not_signed_by_the_log_key_or_of_another_log_is_refused(
    ledger: CustodyLedger, witness: Witness
) -> None:
    first = grow(ledger, "ann")
    from ledger.keys import KeyPair

    origin = origin_of(ledger.meta.ledger_id())
    stranger = parse_checkpoint(sign_note(first.body, origin, KeyPair.generate()))
    with pytest.raises(WitnessRefused) as refused:
        submit(witness, stranger, 0, prover(ledger))
    assert refused.value.status == 403
    other = parse_checkpoint(
        sign_note(checkpoint_body("another/log", 1, b"\x01" * 32), "another/log", KeyPair.generate())
    )
    with pytest.raises(WitnessRefused) as refused:
        submit(witness, other, 0, prover(ledger))
    assert refused.value.status == 404


def test_a_forged_cosignature_does_not_count(ledger: CustodyLedger, witness: Witness) -> None:
    first = grow(ledger, "ann")
    line = submit(witness, first, 0, prover(ledger))
    name, encoded = line.removeprefix("\u2014 ").split()
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 1
    forged_line = f"\u2014 {name} {base64.b64encode(bytes(raw)).decode()}\n"
    assert cosigned_by(first.note, forged_line, witness.key) == []


def test_an_old_size_that_is_not_the_cosigned_one_gets_409_with_the_size_the_witness_holds(
    ledger: CustodyLedger, witness: Witness
) -> None:
    from ledger.witness_client import _post, request_body

    first = grow(ledger, "ann")
    submit(witness, first, 0, prover(ledger))
    second = grow(ledger, "bob")
    status, content_type, text = _post(witness.url + "/add-checkpoint", request_body(0, [], second.note), 10)
    assert (status, content_type, text) == (409, "text/x.tlog.size", f"{first.size}\n")


def test_a_witness_key_survives_its_text_form_and_a_wrong_key_id_is_refused() -> None:
    from ledger.keys import KeyPair
    from ledger.signed_note import NoteError

    for _ in range(50):  # base64 keys often hold '+'
        key = WitnessKey("witness.test/w1", KeyPair.generate().public_key)
        assert parse_vkey(key.vkey()) == key
    name, key_id, encoded = key.vkey().split("+", 2)
    with pytest.raises(NoteError, match="key ID does not match"):
        parse_vkey(f"{name}+{'00' * 4 if key_id != '00' * 4 else '01' * 4}+{encoded}")
