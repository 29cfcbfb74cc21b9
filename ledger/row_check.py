"""The checks one stored row needs on its own: bytes, columns, ledger id, signature, commitment author.

Everything here depends only on the row and on what was fixed before the scan (the key
history, the ledger id, the strictness): rows can be checked in any order, in this process
or in worker processes (ledger/verify_workers.py), and give the same ``Checked`` results.
What needs the neighbours — hash chains, the Merkle tree, the committed heads — is the
verifier's, which folds the results in log order (ledger/verifier.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from domain.log_heads import HEADS_AGGREGATE_ID, HEADS_EVENT_TYPES
from ledger.envelope import EnvelopeError, Opened, open_stored
from ledger.head_map import entry_hash
from ledger.key_history import KeyHistory
from ledger.merkle import leaf_hash
from ledger.verify_failure import Failure

_HEADS_AGGREGATE = str(HEADS_AGGREGATE_ID)


class Row(Protocol):
    """A stored row as the event table holds it (``StoredRow``, or an eventsourcing ``Notification``)."""

    @property
    def id(self) -> int:
        """Log position."""
        ...

    @property
    def originator_id(self) -> Any:
        """Aggregate id, as text or UUID."""
        ...

    @property
    def originator_version(self) -> int:
        """Version in the aggregate."""
        ...

    @property
    def topic(self) -> str:
        """Event type as stored in its column."""
        ...

    @property
    def state(self) -> bytes | str:
        """The stored envelope bytes."""
        ...


class PlainRow(NamedTuple):
    """A stored row as plain values: what crosses to a worker process without importing the store."""

    id: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes | str


class Checked(NamedTuple):
    """What one row contributes to the verdict; a tuple, so that thousands cross between processes cheaply."""

    position: int
    aggregate_id: str
    version: int
    hash: str | None
    prev_hash: str | None
    failures: tuple[Failure, ...]
    entry: bytes
    leaf: bytes
    commitment: dict[str, Any] | None


@dataclass(frozen=True)
class RowRules:
    """What every row is checked against: the key history, this ledger's id and user, and strictness."""

    keys: KeyHistory
    ledger_id: str | None
    ledger_user: str
    strict: bool = True


def stored_bytes(state: bytes | str) -> bytes:
    """The stored state as bytes; a row rewritten as TEXT (SQLite's replace() does that) still gets checked."""
    return state.encode("utf-8", "surrogateescape") if isinstance(state, str) else bytes(state)


def dashed(aggregate_id: str) -> str:
    """A stored aggregate id (SQLite keeps 32 hex digits) in its usual dashed form."""
    if len(aggregate_id) == 32:
        a = aggregate_id
        return f"{a[:8]}-{a[8:12]}-{a[12:16]}-{a[16:20]}-{a[20:]}"
    return aggregate_id


def open_row(row: Row, strict: bool = True) -> tuple[Opened | None, Failure | None]:
    """The row's envelope, or the failure that says why it cannot be opened."""
    try:
        return open_stored(stored_bytes(row.state), strict=strict), None
    except EnvelopeError as error:
        return None, Failure(row.id, dashed(str(row.originator_id)), row.originator_version, error.reason, str(error))


def check_row(row: Row, rules: RowRules) -> Checked:
    """Open one row and check it against the rules (no chain checks: they need the neighbours)."""
    state = stored_bytes(row.state)
    row_id = dashed(str(row.originator_id))
    version = row.originator_version
    entry = entry_hash(state)
    try:
        opened = open_stored(state, strict=rules.strict)
    except EnvelopeError as error:
        failure = Failure(row.id, row_id, version, error.reason, str(error))
        return Checked(row.id, row_id, version, None, None, (failure,), entry, leaf_hash(entry), None)
    body = opened.envelope.body
    failures: list[Failure] = []
    if body["aggregate_id"] != row_id or body["version"] != version:
        failures.append(
            Failure(
                row.id,
                row_id,
                version,
                "misplaced_event",
                f"stored as {row_id} v{version} but signed for {body['aggregate_id']} v{body['version']}",
            )
        )
    if body["type"] != row.topic:
        failures.append(
            Failure(
                row.id,
                row_id,
                version,
                "misplaced_event",
                f"stored with topic {row.topic!r} but signed as {body['type']!r}",
            )
        )
    if rules.ledger_id is not None and body["ledger_id"] != rules.ledger_id:
        failures.append(
            Failure(
                row.id,
                row_id,
                version,
                "foreign_ledger",
                f"signed for ledger {body['ledger_id']}, this ledger is {rules.ledger_id}",
            )
        )
    problem = rules.keys.check(opened, row.id)
    if problem:
        failures.append(Failure(row.id, row_id, version, *problem))
    commitment = None
    if body["type"] in HEADS_EVENT_TYPES:
        commitment = dict(body["payload"])
        if body["actor"]["user_id"] != rules.ledger_user or body["aggregate_id"] != _HEADS_AGGREGATE:
            failures.append(
                Failure(
                    row.id,
                    row_id,
                    version,
                    "unauthorised_commitment",
                    "aggregate heads are committed by the ledger, on its own log aggregate",
                )
            )
    return Checked(
        row.id,
        row_id,
        version,
        opened.envelope.hash,
        body["prev_hash"],
        tuple(failures),
        entry,
        leaf_hash(entry),
        commitment,
    )


def check_rows(rows: Iterable[Row], rules: RowRules) -> list[Checked]:
    """Open and check a run of rows against the rules (no chain checks yet)."""
    return [check_row(row, rules) for row in rows]
