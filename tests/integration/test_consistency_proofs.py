"""Consistency proofs from any earlier size, on both backends, out of the stored subtree hashes.

The oracle is the tree rebuilt in memory from the stored event rows themselves; the
proofs are checked with RFC 9162's verification against the roots of checkpoints
the ledger signed, and forged proofs are refused.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from domain.errors import InvalidInput
from ledger.consistency import consistency_answer
from ledger.merkle import consistency_proof, event_leaf, inclusion_proof, root, verify_consistency
from ledger.merkle_log import MerkleFollower, checkpoint
from ledger.merkle_tree import StoredTree
from ledger.service import CustodyLedger
from ledger.setup import register_staff
from ledger.signed_note import parse_checkpoint, verify_note
from ledger.verifier import stored_bytes
from tests.integration.journeys import password_of


def some_staff(ledger: CustodyLedger, *names: str) -> None:
    """Events that need nothing but the ledger itself: people joining the team."""
    for name in names:
        register_staff(ledger, name, name.title(), "nurse", password_of(name), registrar="ledger")


def rows_leaves(ledger: CustodyLedger) -> list[bytes]:
    """The oracle: one leaf per stored row, recomputed from the rows, never from the follower's tables."""
    return [event_leaf(stored_bytes(row.state)) for row in ledger.store.scan()]


def b64(values: list[str]) -> list[bytes]:
    return [base64.b64decode(value) for value in values]


def signed_root(note: str, ledger: CustodyLedger) -> tuple[int, bytes]:
    """A checkpoint's size and root, once its signature by the ledger key is checked."""
    made = parse_checkpoint(note)
    assert verify_note(note, made.origin, [ledger.meta.ledger_key_pair().public_key])
    return made.size, made.root


def test_the_stored_tree_gives_the_roots_and_proofs_of_the_tree_rebuilt_from_the_rows(ledger: CustodyLedger) -> None:
    some_staff(ledger, "ann", "bob", "cid", "dee", "eve")
    checkpoint(ledger)
    some_staff(ledger, "fay", "gus")
    MerkleFollower(ledger.store).catch_up(batch=3)  # batches that end mid-subtree
    leaves = rows_leaves(ledger)
    with ledger.store.side_transaction() as cursor:
        tree = StoredTree(cursor)
        assert tree.size() == len(leaves)
        for size in range(1, len(leaves) + 1):
            assert tree.root(size) == root(leaves[:size])
            assert tree.inclusion(size // 2, size) == inclusion_proof(leaves, size // 2, size)
            for old in range(1, size + 1, 3):
                assert tree.consistency(old, size) == consistency_proof(leaves, old, size)


def test_a_proof_from_a_kept_checkpoint_verifies_against_the_newest_signed_one(ledger: CustodyLedger) -> None:
    some_staff(ledger, "ann", "bob")
    kept = checkpoint(ledger)
    some_staff(ledger, "cid", "dee", "eve")
    newest = checkpoint(ledger)
    answer = consistency_answer(ledger.store, str(kept.size))
    assert (answer["from"], answer["to"]) == (kept.size, newest.size)
    old_size, old_root = signed_root(answer["from_checkpoint"], ledger)
    new_size, new_root = signed_root(answer["to_checkpoint"], ledger)
    assert (old_root, new_root) == (kept.root, newest.root)
    assert verify_consistency(old_size, new_size, old_root, new_root, b64(answer["proof"]))


def forgeries(proof: list[bytes]) -> dict[str, list[bytes]]:
    flipped = bytes([proof[0][0] ^ 1]) + proof[0][1:]
    return {
        "a hash flipped": [flipped, *proof[1:]],
        "a hash dropped": proof[:-1],
        "a hash added": [*proof, proof[0]],
        "hashes swapped": list(reversed(proof)),
    }


def test_forged_proofs_are_refused(ledger: CustodyLedger) -> None:
    some_staff(ledger, "ann", "bob")
    kept = checkpoint(ledger)
    some_staff(ledger, "cid", "dee", "eve")
    newest = checkpoint(ledger)
    proof = b64(consistency_answer(ledger.store, kept.size)["proof"])
    assert len(proof) >= 2
    for name, forged in forgeries(proof).items():
        assert not verify_consistency(kept.size, newest.size, kept.root, newest.root, forged), name
    assert not verify_consistency(kept.size, newest.size, newest.root, newest.root, proof)  # another old tree
    assert not verify_consistency(kept.size + 1, newest.size, kept.root, newest.root, proof)  # another old size


def test_a_proof_to_any_size_the_log_holds(ledger: CustodyLedger) -> None:
    some_staff(ledger, "ann", "bob", "cid")
    leaves = rows_leaves(ledger)
    answer = consistency_answer(ledger.store, "2", str(len(leaves)))
    assert answer["to_checkpoint"] is None
    assert b64([answer["from_root"], answer["to_root"]]) == [root(leaves[:2]), root(leaves)]
    assert verify_consistency(2, len(leaves), root(leaves[:2]), root(leaves), b64(answer["proof"]))


BAD: list[tuple[Any, Any, str, str]] = [
    ("0", None, "from", "invalid_tree_size"),
    ("-3", None, "from", "invalid_tree_size"),
    ("two", None, "from", "invalid_tree_size"),
    (None, None, "from", "invalid_tree_size"),
    ("5", "4", "from", "invalid_tree_size"),
    ("1", "0", "to", "invalid_tree_size"),
    ("1", "100000", "to", "beyond_log"),
]


@pytest.mark.parametrize(("old", "new", "field", "rule"), BAD)
def test_a_bad_size_is_refused_by_name_and_changes_nothing(
    ledger: CustodyLedger, old: Any, new: Any, field: str, rule: str
) -> None:
    some_staff(ledger, "ann", "bob")
    checkpoint(ledger)
    before = ledger.store.size()
    with pytest.raises(InvalidInput) as refused:
        consistency_answer(ledger.store, old, new)
    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert field in refused.value.message
    assert ledger.store.size() == before


def test_without_a_checkpoint_the_later_size_must_be_given(ledger: CustodyLedger) -> None:
    some_staff(ledger, "ann")
    with pytest.raises(InvalidInput) as refused:
        consistency_answer(ledger.store, "1")
    assert (refused.value.field, refused.value.rule) == ("to", "no_checkpoint")


def test_a_log_older_than_the_subtree_table_gets_its_subtrees_from_its_leaves(ledger: CustodyLedger) -> None:
    some_staff(ledger, "ann", "bob", "cid")
    MerkleFollower(ledger.store).catch_up()
    with ledger.store.side_transaction() as cursor:  # as before migration 0012: leaves, no subtrees
        cursor.execute("DELETE FROM merkle_nodes")
    some_staff(ledger, "dee")
    MerkleFollower(ledger.store).catch_up()
    leaves = rows_leaves(ledger)
    with ledger.store.side_transaction() as cursor:
        assert StoredTree(cursor).root(len(leaves)) == root(leaves)
