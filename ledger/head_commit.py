"""Keeping every aggregate's head, and committing their map into the log before a checkpoint is signed.

``HeadsFollower`` keeps one row per aggregate (last version, SHA-256 of its stored
bytes, leaf index, log position), so a commitment reads O(aggregates) rows, never the
whole log. ``commit_heads`` signs an ``AggregateHeadsCommitted`` event with the ledger
key whose map describes exactly the leaves before it: the event must land right after
the last row the map counted, which the storing transaction checks under the table
lock; if another write slipped in, nothing is stored and the map is read again.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime

from eventsourcing.persistence import Notification

from domain.events import Context, Meaning
from domain.log_heads import HEADS_AGGREGATE_ID, decide_heads
from ledger.envelope import Envelope
from ledger.follower import Follower
from ledger.head_map import AggregateHead, HeadMap, entry_hash
from ledger.ledger_meta import LEDGER_USER
from ledger.recorders import InTransaction
from ledger.service import CustodyLedger, Head
from ledger.side_cursor import SideCursor
from ledger.store import EventStore
from ledger.verifier import stored_bytes

ATTEMPTS = 20


class HeadsMoved(Exception):
    """Another event was stored while the map was read: the commitment would not describe its position."""


class HeadsFollower(Follower):
    """One row per aggregate: its head, updated exactly once per stored event, in log order."""

    name = "heads"

    def apply(self, cursor: SideCursor, rows: Sequence[Notification]) -> None:
        """Leaf indexes continue after the highest one recorded (the head of some aggregate is the last leaf)."""
        cursor.execute("SELECT COALESCE(MAX(leaf_index), -1) AS last FROM aggregate_heads")
        found = cursor.fetchone()
        next_index = int(found["last"]) + 1 if found else 0
        latest: dict[str, tuple[str, int, bytes, int, int]] = {}  # only an aggregate's last row in the batch counts
        for offset, row in enumerate(rows):
            aggregate = str(row.originator_id)
            head = (aggregate, row.originator_version, entry_hash(stored_bytes(row.state)), next_index + offset, row.id)
            latest[aggregate] = head
        cursor.executemany(
            "INSERT INTO aggregate_heads (aggregate_id, version, entry_hash, leaf_index, position)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (aggregate_id) DO UPDATE SET version = excluded.version,"
            " entry_hash = excluded.entry_hash, leaf_index = excluded.leaf_index, position = excluded.position",
            list(latest.values()),
        )


def current_heads(store: EventStore) -> tuple[HeadMap, int, int]:
    """The map of every head the follower has, the number of leaves it covers and the last position counted."""
    with store.side_transaction() as cursor:  # one statement: one snapshot of the table
        cursor.execute("SELECT aggregate_id, version, entry_hash, leaf_index, position FROM aggregate_heads")
        rows = cursor.fetchall()
    heads = [AggregateHead(str(row["aggregate_id"]), int(row["version"]), bytes(row["entry_hash"])) for row in rows]
    last = max(rows, key=lambda row: int(row["leaf_index"]), default=None)
    if last is None:
        return HeadMap(heads), 0, 0
    return HeadMap(heads), int(last["leaf_index"]) + 1, int(last["position"])


def heads_leaf_index(store: EventStore) -> int | None:
    """The leaf index of the latest commitment, or None when the ledger never made one."""
    with store.side_transaction() as cursor:
        cursor.execute("SELECT leaf_index FROM aggregate_heads WHERE aggregate_id = %s", (str(HEADS_AGGREGATE_ID),))
        row = cursor.fetchone()
    return None if row is None else int(row["leaf_index"])


class RightAfter:
    """Run inside the storing transaction: nothing but the commitment follows the map's last position.

    PostgreSQL runs it before the insert, so it takes the table lock the insert takes
    (EXCLUSIVE: writers wait, readers do not) and expects no row yet; SQLite runs it after
    the insert, inside its write lock, and expects exactly the commitment's row.
    """

    def __init__(self, store: EventStore, last_position: int) -> None:
        self.store = store
        self.last_position = last_position

    def as_writes(self, _envelopes: list[Envelope]) -> list[InTransaction]:
        """The check, as the one write stored with the commitment."""
        return [self]

    def __call__(self, cursor: SideCursor) -> None:
        """Count the rows after the last one the map counted."""
        if self.store.backend == "sqlite":
            cursor.execute("SELECT COUNT(*) AS n FROM stored_events WHERE rowid > %s", (self.last_position,))
            expected = 1
        else:
            table = str(self.store.recorder.events_table_name)  # type: ignore[attr-defined]
            cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            cursor.execute(f"SELECT COUNT(*) AS n FROM {table} WHERE notification_id > %s", (self.last_position,))
            expected = 0
        found = cursor.fetchone()
        if found is None or int(found["n"]) != expected:
            raise HeadsMoved(f"events were stored after position {self.last_position} while the heads were read")


def commit_heads(ledger: CustodyLedger, now: datetime) -> tuple[Envelope, int]:
    """Sign and store the map of every head; return the commitment and its leaf index."""
    actor, _ = ledger.actor(LEDGER_USER)
    signer = ledger.meta.ledger_key_pair()
    for _attempt in range(ATTEMPTS):
        HeadsFollower(ledger.store).catch_up()
        head_map, size, last_position = current_heads(ledger.store)
        ctx = Context(actor=actor, occurred_at=now, now=now, meaning=Meaning.RECORDED)
        payload = {"tree_size": size, "aggregates": len(head_map), "map_root": base64.b64encode(head_map.root).decode()}
        events = decide_heads("AggregateHeadsCommitted", HEADS_AGGREGATE_ID, payload, ctx)
        check = RightAfter(ledger.store, last_position)
        try:
            envelopes = ledger.append_signed(
                events, actor, signer, {HEADS_AGGREGATE_ID: _log_head(ledger)}, now, check.as_writes
            )
        except Exception as error:
            if not _caused_by(error, HeadsMoved):
                raise
            continue
        return envelopes[0], size
    raise HeadsMoved(f"the log kept moving: no commitment could be stored in {ATTEMPTS} attempts")


def _log_head(ledger: CustodyLedger) -> Head:
    """Where the next commitment attaches (the log aggregate is not replayed: only its last link matters)."""
    history = ledger.history(HEADS_AGGREGATE_ID)
    return Head(history[-1].version, history[-1].hash) if history else Head(0, None)


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, kind):
            return True
        current = current.__cause__ or current.__context__
    return False
