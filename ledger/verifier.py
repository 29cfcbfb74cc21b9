"""Replay the whole stored log and prove nobody altered it.

Checks, for every stored row: the bytes are a canonical envelope whose hash
matches (undecodable or edited records), the row's columns match the signed
body (an event copied into another aggregate), the ledger id is this ledger's,
the signature verifies with a key valid at ``recorded_at`` and owned by the
signing actor; for every aggregate: versions run 1..n without gaps and each
event links to the hash of the one before.

Signature checks run on a thread pool: Ed25519 verification in ``cryptography``
releases the GIL, so both cores work without the start-up cost of processes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from domain.staff import STAFF_EVENT_TYPES
from ledger.checkpoint_audit import checkpoint_problems
from ledger.envelope import EnvelopeError, Opened, open_stored
from ledger.key_history import KeyHistory, build_key_history
from ledger.ledger_meta import LEDGER_USER
from ledger.merkle import event_leaf
from ledger.signed_note import Checkpoint, parse_checkpoint
from ledger.store import StoredRow

Progress = Callable[[int, int], None]
Row = Notification | StoredRow
CHUNK = 2000


@dataclass(frozen=True)
class Failure:
    """One thing wrong with the stored history, where it is, and why."""

    position: int
    aggregate_id: str
    version: int
    reason: str
    detail: str


@dataclass
class VerificationReport:
    """The verdict: how much was checked and every failure found."""

    events: int = 0
    aggregates: int = 0
    checkpoints: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """True when nothing was found wrong."""
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form for `custody verify --json` and the HTTP API."""
        return {
            "intact": self.intact,
            "events": self.events,
            "aggregates": self.aggregates,
            "checkpoints": self.checkpoints,
            "failures": [asdict(failure) for failure in self.failures],
        }


@dataclass(frozen=True)
class _Checked:
    position: int
    aggregate_id: str
    version: int
    hash: str | None
    prev_hash: str | None
    failures: tuple[Failure, ...]
    leaf: bytes


def stored_bytes(state: bytes | str) -> bytes:
    """The stored state as bytes; a row rewritten as TEXT (SQLite's replace() does that) still gets checked."""
    return state.encode("utf-8", "surrogateescape") if isinstance(state, str) else bytes(state)


def _dashed(aggregate_id: str) -> str:
    """A stored aggregate id (SQLite keeps 32 hex digits) in its usual dashed form."""
    if len(aggregate_id) == 32:
        a = aggregate_id
        return f"{a[:8]}-{a[8:12]}-{a[12:16]}-{a[16:20]}-{a[20:]}"
    return aggregate_id


def _open_row(row: Row, strict: bool = True) -> tuple[Opened | None, Failure | None]:
    try:
        return open_stored(stored_bytes(row.state), strict=strict), None
    except EnvelopeError as error:
        return None, Failure(row.id, _dashed(str(row.originator_id)), row.originator_version, error.reason, str(error))


def _check_row(row: Row, keys: KeyHistory, ledger_id: str | None, strict: bool) -> _Checked:
    opened, failure = _open_row(row, strict)
    row_id = _dashed(str(row.originator_id))
    leaf = event_leaf(stored_bytes(row.state))
    if opened is None:
        assert failure is not None
        return _Checked(row.id, row_id, row.originator_version, None, None, (failure,), leaf)
    body = opened.envelope.body
    failures: list[Failure] = []

    def fail(reason: str, detail: str) -> None:
        failures.append(Failure(row.id, row_id, row.originator_version, reason, detail))

    if str(body["aggregate_id"]) != row_id or body["version"] != row.originator_version:
        fail(
            "misplaced_event",
            f"stored as {row_id} v{row.originator_version} but signed for {body['aggregate_id']} v{body['version']}",
        )
    if body["type"] != row.topic:
        fail("misplaced_event", f"stored with topic {row.topic!r} but signed as {body['type']!r}")
    if ledger_id is not None and body["ledger_id"] != ledger_id:
        fail("foreign_ledger", f"signed for ledger {body['ledger_id']}, this ledger is {ledger_id}")
    problem = keys.check(opened, row.id)
    if problem:
        fail(*problem)
    return _Checked(
        row.id, row_id, row.originator_version, opened.envelope.hash, body["prev_hash"], tuple(failures), leaf
    )


def check_rows(rows: Iterable[Row], keys: KeyHistory, ledger_id: str | None, strict: bool) -> list[_Checked]:
    """Open and check a run of rows against the key history (no chain checks yet)."""
    return [_check_row(row, keys, ledger_id, strict) for row in rows]


def _check_checkpoints(
    store: Any, leaves: list[bytes], keys: KeyHistory, options: VerifyOptions, report: VerificationReport
) -> int:
    """Stored checkpoints and the ones given with --against, against the rebuilt tree."""
    if options.ledger_id is None:
        return 0
    stored = [(f"checkpoint of {cp.size} events", cp) for cp in stored_checkpoints(store)]
    given = [(f"the checkpoint given ({cp.size} events)", cp) for cp in options.against]
    ledger_keys = [key.public_key for key in keys.keys.values() if key.owner == LEDGER_USER]
    for problem in checkpoint_problems([*stored, *given], leaves, f"custody-ledger/{options.ledger_id}", ledger_keys):
        report.failures.append(Failure(problem.size, "checkpoint", 0, problem.reason, problem.detail))
    return len(stored) + len(given)


def stored_checkpoints(store: Any) -> list[Checkpoint]:
    """Every signed checkpoint the store holds, oldest first."""
    with store.side_transaction() as cursor:
        cursor.execute("SELECT note FROM checkpoints ORDER BY tree_size")
        return [parse_checkpoint(str(row["note"])) for row in cursor.fetchall()]


@dataclass(frozen=True)
class VerifyOptions:
    """How to verify: trust anchor, expected ledger id, parallelism, strictness."""

    trusted: set[bytes] | None
    ledger_id: str | None
    workers: int = 2
    strict: bool = False
    progress: Progress | None = None
    against: tuple[Checkpoint, ...] = ()


def verify_store(store: Any, options: VerifyOptions) -> VerificationReport:
    """Verify everything an ``EventStore`` holds.

    The main thread reads rows in log order and hands chunks to a thread pool;
    Ed25519 verification releases the GIL, so ``workers`` threads keep as many
    cores busy. At most ``2 × workers`` chunks are in flight, bounding memory on
    any size of log.
    """
    staff_rows = list(store.scan(batch=CHUNK, topics=STAFF_EVENT_TYPES))
    staff_opened = [(row.id, opened) for row in staff_rows if (opened := _open_row(row)[0]) is not None]
    keys = build_key_history(staff_opened, options.trusted)
    report = VerificationReport()
    for position, opened, reason, detail in keys.problems:
        envelope = opened.envelope
        report.failures.append(Failure(position, str(envelope.aggregate_id), envelope.version, reason, detail))
    total = store.size()
    chains: dict[str, dict[int, _Checked]] = {}

    leaves: list[bytes] = []

    def absorb(checked_rows: list[_Checked]) -> None:
        for checked in checked_rows:
            leaves.append(checked.leaf)
            if checked.failures:
                report.failures.extend(checked.failures)
            chains.setdefault(checked.aggregate_id, {})[checked.version] = checked
        report.events += len(checked_rows)
        if options.progress:
            options.progress(report.events, total)

    def check(chunk: list[Row]) -> list[_Checked]:
        return check_rows(chunk, keys, options.ledger_id, options.strict)

    workers = max(1, options.workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        in_flight: deque[Future[list[_Checked]]] = deque()
        for chunk in _chunks(_raw_scan(store), CHUNK // 4):
            in_flight.append(pool.submit(check, chunk))
            if len(in_flight) >= 2 * workers:
                absorb(in_flight.popleft().result())
        while in_flight:
            absorb(in_flight.popleft().result())
    report.aggregates = len(chains)
    report.checkpoints = _check_checkpoints(store, leaves, keys, options, report)
    for aggregate_id, versions in chains.items():
        report.failures.extend(_chain_failures(aggregate_id, versions))
    report.failures.sort(key=lambda f: (f.position, f.aggregate_id, f.version))
    return report


def verify_aggregate(
    store: Any, aggregate_id: UUID, trusted: set[bytes] | None, ledger_id: str | None
) -> list[Failure]:
    """Check one aggregate's events — bytes, hashes, signatures against the key history, chain links.

    What a product page's badge shows: cheaper than the whole log, and the same checks
    the full verification makes on these rows (checkpoints are the full run's job).
    """
    staff_rows = list(store.scan(batch=CHUNK, topics=STAFF_EVENT_TYPES))
    staff_opened = [(row.id, opened) for row in staff_rows if (opened := _open_row(row)[0]) is not None]
    keys = build_key_history(staff_opened, trusted)
    checked = check_rows(store.aggregate_rows(aggregate_id), keys, ledger_id, strict=True)
    failures = [failure for row in checked for failure in row.failures]
    if checked:
        versions = {row.version: row for row in checked}
        failures.extend(_chain_failures(checked[0].aggregate_id, versions))
    return failures


def _raw_scan(store: Any) -> Iterator[Row]:
    """Every stored row in log order, read in batches straight from the table."""
    position = 1
    while rows := store.raw_rows(position, CHUNK):
        yield from rows
        position = rows[-1].id + 1


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _chain_failures(aggregate_id: str, versions: dict[int, _Checked]) -> Iterator[Failure]:
    """Gaps in the version sequence and links that do not point at the previous hash."""
    for version in range(1, max(versions) + 1):
        checked = versions.get(version)
        if checked is None:
            following = versions.get(version + 1)
            yield Failure(
                following.position if following else 0,
                aggregate_id,
                version,
                "missing_version",
                f"version {version} of {aggregate_id} is missing from the log",
            )
            continue
        if checked.hash is None:
            continue  # undecodable: already reported
        previous = versions.get(version - 1)
        expected = None if version == 1 else (previous.hash if previous else None)
        if version > 1 and expected is None:
            continue  # the gap or the undecodable predecessor is already reported
        if checked.prev_hash != expected:
            yield Failure(
                checked.position,
                aggregate_id,
                version,
                "broken_link",
                f"prev_hash {checked.prev_hash} does not match the hash of version {version - 1} ({expected})",
            )
