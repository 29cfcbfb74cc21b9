"""The checks one stored row needs on its own: bytes, columns, ledger id, signature, commitment author.

Everything here depends only on the row and on what was fixed before the scan (the key
history, the ledger id, the strictness): rows can be checked in any order, in this process
or in worker processes (ledger/verify_workers.py), and give the same ``Checked`` results.
What needs the neighbours — hash chains, the Merkle tree, the committed heads — is the
verifier's, which folds the results in log order (ledger/verifier.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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


class Reference(NamedTuple):
    """A document reference a row's payload holds, as stored (the document pass judges it: ledger/document_check.py)."""

    aggregate_id: str
    version: int
    field: str
    raw: Any


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
    references: tuple[Reference, ...] = ()


@dataclass(frozen=True)
class RowRules:
    """What every row is checked against: the key history, this ledger's id and user, and strictness."""

    keys: KeyHistory
    ledger_id: str | None
    ledger_user: str
    strict: bool = True
    document_fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The document fields of each event type that has any: the rows of those types hand back their references."""


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
        references = _references(row.state, None, rules) if row.topic in rules.document_fields else ()
        return Checked(row.id, row_id, version, None, None, (failure,), entry, leaf_hash(entry), None, references)
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
        _references(row.state, body, rules) if row.topic in rules.document_fields else (),
    )


def _references(state: bytes | str, body: Any, rules: RowRules) -> tuple[Reference, ...]:
    """The document references of a row stored under a document event's topic, read as the document pass reads them.

    That pass judges every such row whose bytes still decode, even one whose hash or form the row checks
    refused (``body`` None here): a document swapped under an edited event is named as well. Aggregate and
    version are the signed body's, the field names those of the body's own type.
    """
    try:
        if body is None:
            outer = json.loads(state)
            body, _, _ = outer["body"], outer["hash"], outer["signature"]  # what ledger/store.py parse_envelope needs
        payload = body.get("payload")
        aggregate, version = str(body["aggregate_id"]), int(body["version"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return ()  # not decodable at all: the row checks name it
    fields = rules.document_fields.get(str(body.get("type")), ())
    if not isinstance(payload, Mapping):
        return ()
    return tuple(Reference(aggregate, version, name, payload[name]) for name in fields if payload.get(name) is not None)


def check_rows(rows: Iterable[Row], rules: RowRules) -> list[Checked]:
    """Open and check a run of rows against the rules (no chain checks yet)."""
    return [check_row(row, rules) for row in rows]
