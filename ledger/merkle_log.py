"""The transparency log: a Merkle leaf per stored event, and signed checkpoints over them.

A follower (exactly-once, resumable) appends ``leaf_hash(SHA-256(stored bytes))`` for
each stored row in log order, so the leaf commits to the whole envelope, signature
included. ``checkpoint`` first records the ledger's signed commitment to every
aggregate's head (ledger/head_commit.py), then has the ledger key sign the size and
root of the tree ending with it as a C2SP note — after checking the new tree extends
the last signed one, because a log must never sign two inconsistent views of itself —
and submits it to the configured witnesses (ledger/witness_submit.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from eventsourcing.persistence import Notification

from ledger.clock import isoformat, parse_instant
from ledger.follower import Follower
from ledger.head_commit import HeadsFollower, commit_heads, heads_leaf_index
from ledger.merkle import event_leaf, verify_consistency
from ledger.merkle_tree import StoredTree, append_leaves, rebuild_nodes
from ledger.restore_hold import ensure_writable
from ledger.service import CustodyLedger
from ledger.signed_note import Checkpoint, checkpoint_body, parse_checkpoint, sign_note
from ledger.store import EventStore, SideCursor
from ledger.verifier import stored_bytes, stored_checkpoints
from ledger.witness_submit import witness_checkpoint


class InconsistentLog(Exception):
    """The log no longer extends a checkpoint already signed: history was rewritten or truncated."""

    rule = "inconsistent_log"


def origin_of(ledger_id: str) -> str:
    """The checkpoint origin line naming this ledger."""
    return f"custody-ledger/{ledger_id}"


class MerkleFollower(Follower):
    """Appends one leaf per stored event, in log order, exactly once."""

    name = "merkle"

    def apply(self, cursor: SideCursor, rows: Sequence[Notification]) -> None:
        """Leaves continue the numbering where the table stops; each closes its complete subtrees."""
        rebuild_nodes(cursor)
        next_index = StoredTree(cursor).size()
        leaves = [event_leaf(stored_bytes(row.state)) for row in rows]
        cursor.executemany(
            "INSERT INTO merkle_leaves (leaf_index, position, leaf_hash) VALUES (%s, %s, %s)",
            [(next_index + offset, row.id, leaf) for offset, (row, leaf) in enumerate(zip(rows, leaves, strict=True))],
        )
        append_leaves(cursor, next_index, leaves)


def stored_leaves(store: EventStore) -> list[bytes]:
    """Every leaf hash the follower stored, by index."""
    with store.side_transaction() as cursor:
        cursor.execute("SELECT leaf_hash FROM merkle_leaves ORDER BY leaf_index")
        return [bytes(row["leaf_hash"]) for row in cursor.fetchall()]


def checkpoint(ledger: CustodyLedger, now: datetime | None = None) -> Checkpoint:
    """Commit every aggregate's head into the log, then sign the tree that ends with that commitment.

    Returns the last checkpoint unchanged when nothing was stored since it (its last leaf
    is then the ledger's commitment). Refuses, before writing anything, to extend a log
    that no longer extends the last signed checkpoint. The tree is read from the stored
    subtree hashes (ledger/merkle_tree.py): O(log n) reads, whatever the log's size.
    """
    MerkleFollower(ledger.store).catch_up()
    HeadsFollower(ledger.store).catch_up()
    size_now = stored_size(ledger.store)
    history = stored_checkpoints(ledger.store)
    if history and history[-1].size == size_now and heads_leaf_index(ledger.store) == size_now - 1:
        witness_checkpoint(ledger, history[-1])  # a witness that missed it (down, or joined since) gets it now
        return history[-1]
    ensure_writable(ledger.store)  # a restored store behind a published checkpoint signs nothing new
    if history:
        _check_extends(ledger, history[-1], size_now)
    moment = now or ledger.clock.now()
    commitment, size = commit_heads(ledger, moment)
    MerkleFollower(ledger.store).catch_up()
    with ledger.store.side_transaction() as cursor:
        tree = StoredTree(cursor)
        if tree.size() < size + 1 or tree.leaf(size) != event_leaf(commitment.stored):
            raise InconsistentLog(f"the log's leaf {size} is not the heads commitment just stored: refusing to sign")
        tree_root = tree.root(size + 1)
    if history:
        _check_extends(ledger, history[-1], size + 1)
    origin = origin_of(ledger.meta.ledger_id())
    body = checkpoint_body(origin, size + 1, tree_root, (f"time {isoformat(moment)}",))
    note = sign_note(body, origin, ledger.meta.ledger_key_pair())
    made = parse_checkpoint(note)
    with ledger.store.side_transaction() as cursor:
        cursor.execute(
            # Two writers may find the same checkpoint due at once: the tree (size, root) is the same; keep the first.
            "INSERT INTO checkpoints (tree_size, root_hash, note, created_at) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (tree_size) DO NOTHING",
            (made.size, made.root, note, isoformat(moment)),
        )
    witness_checkpoint(ledger, made)  # never raises for a witness: the checkpoint is signed whatever they say
    return made


def stored_size(store: EventStore) -> int:
    """How many leaves the Merkle follower has stored."""
    with store.side_transaction() as cursor:
        return StoredTree(cursor).size()


def _check_extends(ledger: CustodyLedger, last: Checkpoint, size: int) -> None:
    """The ledger never signs two inconsistent views of itself."""
    if last.size == 0:
        return
    consistent = False
    if last.size <= size:
        with ledger.store.side_transaction() as cursor:
            tree = StoredTree(cursor)
            consistent = verify_consistency(
                last.size, size, last.root, tree.root(size), tree.consistency(last.size, size)
            )
    if not consistent:
        raise InconsistentLog(
            f"the log of {size} events does not extend the checkpoint of {last.size}: refusing to sign"
        )


def checkpoint_due(ledger: CustodyLedger) -> bool:
    """True when enough events or enough time have passed since the last signed checkpoint."""
    history = stored_checkpoints(ledger.store)
    size = ledger.store.size()
    if not history:
        return size > 0
    last = history[-1]
    if size - last.size >= ledger.settings.checkpoint_every_events:
        return True
    stamp = next((line[5:] for line in last.extensions if line.startswith("time ")), None)
    if stamp is None or size <= last.size:
        return False
    age = ledger.clock.now() - parse_instant(stamp)
    return age.total_seconds() >= ledger.settings.checkpoint_every_minutes * 60


def checkpoint_if_due(ledger: CustodyLedger) -> Checkpoint | None:
    """Sign a checkpoint when one is due (called after writes; cheap when none is)."""
    return checkpoint(ledger) if checkpoint_due(ledger) else None
