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

import base64
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from itertools import islice
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from domain.log_heads import HEADS_AGGREGATE_ID, HEADS_EVENT_TYPES
from domain.staff import STAFF_EVENT_TYPES
from ledger.checkpoint_audit import checkpoint_problems
from ledger.envelope import EnvelopeError, Opened, open_stored
from ledger.follower_audit import Located, first_disagreement
from ledger.head_map import AggregateHead, HeadMap, entry_hash
from ledger.key_history import KeyHistory, build_key_history
from ledger.ledger_meta import LEDGER_USER
from ledger.merkle import leaf_hash
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
    entry: bytes
    commitment: dict[str, Any] | None = None

    @property
    def leaf(self) -> bytes:
        """The Merkle leaf of this row."""
        return leaf_hash(self.entry)


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
    entry = entry_hash(stored_bytes(row.state))
    if opened is None:
        assert failure is not None
        return _Checked(row.id, row_id, row.originator_version, None, None, (failure,), entry)
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
    commitment = None
    if body["type"] in HEADS_EVENT_TYPES:
        commitment = dict(body["payload"])
        if body["actor"]["user_id"] != LEDGER_USER or body["aggregate_id"] != str(HEADS_AGGREGATE_ID):
            fail("unauthorised_commitment", "aggregate heads are committed by the ledger, on its own log aggregate")
    return _Checked(
        row.id,
        row_id,
        row.originator_version,
        opened.envelope.hash,
        body["prev_hash"],
        tuple(failures),
        entry,
        commitment,
    )


def check_rows(rows: Iterable[Row], keys: KeyHistory, ledger_id: str | None, strict: bool) -> list[_Checked]:
    """Open and check a run of rows against the key history (no chain checks yet)."""
    return [_check_row(row, keys, ledger_id, strict) for row in rows]


def _check_checkpoints(
    store: Any,
    leaves: list[bytes],
    positions: list[int],
    owners: list[tuple[str, int]],
    keys: KeyHistory,
    options: VerifyOptions,
    report: VerificationReport,
) -> int:
    """Stored checkpoints and the ones given with --against, against the rebuilt tree.

    A ledger key signs only the trees inside its validity: from its registration's leaf
    to the last tree without its revocation (key positions are turned into leaf indexes).
    """
    if options.ledger_id is None:
        return 0
    stored = [(f"checkpoint of {cp.size} events", cp) for cp in stored_checkpoints(store)]
    given = [(f"the checkpoint given ({cp.size} events)", cp) for cp in options.against]

    def leaf_of(position: int) -> int | None:
        index = bisect_left(positions, position)
        return index if index < len(positions) and positions[index] == position else None

    def signers(size: int) -> list[bytes]:
        return keys.checkpoint_signers(LEDGER_USER, size, leaf_of)

    located = first_disagreement(store, leaves, positions)
    index = located.leaf_index if located is not None else len(owners)
    if (
        located is not None
        and located.aggregate_id is None
        and index < len(owners)
        and positions[index] == located.position
    ):
        located = replace(located, aggregate_id=owners[index][0], version=owners[index][1])  # the row is still there
    where = _where(located)
    for problem in checkpoint_problems([*stored, *given], leaves, f"custody-ledger/{options.ledger_id}", signers):
        if problem.reason == "truncated_log" and located is not None:
            report.failures.append(
                Failure(
                    located.position,
                    located.aggregate_id or "log",
                    located.version or 0,
                    problem.reason,
                    f"{problem.detail}; the first missing or changed one is {where}",
                )
            )
        else:
            report.failures.append(Failure(problem.size, "checkpoint", 0, problem.reason, problem.detail))
    if located is not None:
        report.failures.append(
            Failure(
                located.position,
                located.aggregate_id or "log",
                located.version or 0,
                "follower_mismatch",
                f"the Merkle follower's table disagrees with the stored rows at {where}",
            )
        )
    return len(stored) + len(given)


def _where(located: Located | None) -> str:
    """A located leaf in words: index, log position and, when known, aggregate and version."""
    if located is None:
        return ""
    text = f"leaf {located.leaf_index} (log position {located.position}"
    if located.aggregate_id is not None:
        text += f", aggregate {located.aggregate_id} version {located.version}"
    return text + ")"


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
    strict: bool = True
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
    positions: list[int] = []
    owners: list[tuple[str, int]] = []
    heads = CommitmentCheck()

    def absorb(checked_rows: list[_Checked]) -> None:
        for checked in checked_rows:
            if checked.commitment is not None:
                report.failures.extend(heads.check(checked, len(leaves)))
            leaves.append(checked.leaf)
            positions.append(checked.position)
            owners.append((checked.aggregate_id, checked.version))
            heads.advance(checked)
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
    report.checkpoints = _check_checkpoints(store, leaves, positions, owners, keys, options, report)
    for aggregate_id, versions in chains.items():
        report.failures.extend(_chain_failures(aggregate_id, versions))
    report.failures.sort(key=lambda f: (f.position, f.aggregate_id, f.version))
    return report


class CommitmentCheck:
    """Replays every aggregate's head in log order and checks each signed commitment of them.

    The ledger commits the map of heads before each checkpoint; a commitment that does not
    describe the rows stored before it (a lying ledger, or rows deleted or inserted before
    it) is named. One map is built per commitment: O(aggregates) every checkpoint interval.
    """

    def __init__(self) -> None:
        self.heads: dict[str, AggregateHead] = {}

    def advance(self, checked: _Checked) -> None:
        """This row is now the head of its aggregate."""
        self.heads[checked.aggregate_id] = AggregateHead(checked.aggregate_id, checked.version, checked.entry)

    def check(self, checked: _Checked, leaf_index: int) -> list[Failure]:
        """What is wrong with the commitment stored at ``leaf_index`` (empty when it is true)."""
        assert checked.commitment is not None
        head_map = HeadMap(self.heads.values())
        found = {
            "tree_size": leaf_index,
            "aggregates": len(head_map),
            "map_root": base64.b64encode(head_map.root).decode(),
        }
        wrong = [name for name, value in found.items() if checked.commitment.get(name) != value]
        if not wrong:
            return []
        detail = ", ".join(
            f"{name} {checked.commitment.get(name)!r} (the rows before it give {found[name]!r})" for name in wrong
        )
        return [
            Failure(
                checked.position,
                checked.aggregate_id,
                checked.version,
                "heads_commitment_mismatch",
                f"the signed commitment of aggregate heads does not describe the log before it: {detail}",
            )
        ]


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
