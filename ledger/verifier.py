"""Replay the whole stored log and prove nobody altered it.

Checks, for every stored row: the bytes are a canonical envelope whose hash
matches (undecodable or edited records), the row's columns match the signed
body (an event copied into another aggregate), the ledger id is this ledger's,
the signature verifies with a key valid at ``recorded_at`` and owned by the
signing actor; for every aggregate: versions run 1..n without gaps and each
event links to the hash of the one before; for the whole log: the signed
checkpoints and commitments of aggregate heads describe the stored rows.

The rows stream past once, in log order. The checks of one row alone run in
worker processes on a large log (ledger/verify_workers.py); what needs the
neighbours is folded here, keeping O(aggregates) state: each aggregate's latest
hash and head (ledger/chain_check.py), the Merkle frontier (ledger/merkle_frontier.py)
and a window of the follower's table — never one object per event (README,
"Verifying a large ledger"). The documents the events reference are judged as their
rows pass, from the references the row checks hand back (ledger/document_check.py
``DocumentPass``): the log is never read a second time for them.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from itertools import islice
from typing import Any
from uuid import UUID

from domain.document_ref import document_fields
from domain.registry import EVENT_TYPES
from domain.staff import STAFF_EVENT_TYPES
from ledger.chain_check import ChainCheck, Link, chain_failures
from ledger.checkpoint_audit import checkpoint_problems_at
from ledger.document_check import DOCUMENT_EVENT_TYPES, DocumentPass
from ledger.follower_audit import FollowerComparison, Located
from ledger.head_map import AggregateHead, HeadMap
from ledger.key_history import KeyHistory, build_key_history
from ledger.ledger_meta import LEDGER_USER
from ledger.merkle_frontier import MerkleFrontier
from ledger.row_check import Checked, Row, RowRules, check_rows, dashed, open_row
from ledger.row_check import stored_bytes as stored_bytes
from ledger.signed_note import Checkpoint, parse_checkpoint
from ledger.store import StoredRow
from ledger.verify_failure import Failure as Failure
from ledger.verify_workers import PROCESSES_FROM_EVENTS, checked_chunks

Progress = Callable[[int, int], None]
DOCUMENT_FIELDS = {name: tuple(document_fields(EVENT_TYPES[name].payload)) for name in DOCUMENT_EVENT_TYPES}
"""The document fields of each event type with any: the row checks return those references as they decode rows."""
CHUNK = 2000
ROWS_PER_TASK = 500


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
class VerifyOptions:
    """How to verify: trust anchor, expected ledger id, parallelism, strictness.

    ``workers`` processes check the rows once the log holds ``processes_from`` events; a
    smaller log, or one worker, is checked in this process.
    """

    trusted: set[bytes] | None
    ledger_id: str | None
    workers: int = 2
    strict: bool = True
    progress: Progress | None = None
    against: tuple[Checkpoint, ...] = ()
    processes_from: int = PROCESSES_FROM_EVENTS


def stored_checkpoints(store: Any) -> list[Checkpoint]:
    """Every signed checkpoint the store holds, oldest first."""
    with store.side_transaction() as cursor:
        cursor.execute("SELECT note FROM checkpoints ORDER BY tree_size")
        return [parse_checkpoint(str(row["note"])) for row in cursor.fetchall()]


def verify_store(store: Any, options: VerifyOptions) -> VerificationReport:
    """Verify everything an ``EventStore`` holds."""
    return LogVerification(store, options).run()


class LogVerification:
    """One verification of a whole store: the state folded while its rows stream past, then the verdict.

    Everything held here is O(aggregates + checkpoints): the per-event results are dropped
    once folded.
    """

    def __init__(self, store: Any, options: VerifyOptions) -> None:
        self.store = store
        self.options = options
        self.keys = key_history(store, options.trusted)
        self.report = VerificationReport()
        self.checkpoints: list[tuple[str, Checkpoint]] = []
        self.follower: FollowerComparison | None = None
        if options.ledger_id is not None:
            self.checkpoints = [(f"checkpoint of {cp.size} events", cp) for cp in stored_checkpoints(store)]
            self.checkpoints += [(f"the checkpoint given ({cp.size} events)", cp) for cp in options.against]
            self.follower = FollowerComparison(store, CHUNK)
        self.frontier = MerkleFrontier(cp.size for _, cp in self.checkpoints)
        self.chains = ChainCheck()
        self.heads = CommitmentCheck()
        self.documents = DocumentPass(store)
        # The log positions of key registrations and revocations, turned into leaf indexes as they pass.
        self.key_positions = {
            position
            for key in self.keys.keys.values()
            for position in (key.registered_position, key.revoked_position)
            if position is not None
        }
        self.key_leaves: dict[int, int] = {}
        self.last_position = 0

    def run(self) -> VerificationReport:
        """Stream the log through the checks and return the report, failures in log order."""
        options, report = self.options, self.report
        for position, opened, reason, detail in self.keys.problems:
            envelope = opened.envelope
            report.failures.append(Failure(position, str(envelope.aggregate_id), envelope.version, reason, detail))
        total = self.store.size()
        rules = RowRules(self.keys, options.ledger_id, LEDGER_USER, options.strict, DOCUMENT_FIELDS)
        processes = max(1, options.workers) if total >= options.processes_from else 1
        for checked_rows in checked_chunks(_chunks(_raw_scan(self.store), ROWS_PER_TASK), rules, processes):
            self.absorb(checked_rows)
            report.events += len(checked_rows)
            if options.progress:
                options.progress(report.events, total)
        report.aggregates = len(self.chains)
        report.checkpoints = self._check_checkpoints()
        irregular = self.chains.irregular
        report.failures.extend(self.chains.findings(self._links_of(irregular) if irregular else ()))
        documents = self.documents.findings  # document_check.py, fed by absorb
        report.failures.extend(Failure(*found.as_failure()) for found in documents if found.is_failure)
        report.failures.sort(key=lambda f: (f.position, f.aggregate_id, f.version))
        return report

    def absorb(self, checked_rows: list[Checked]) -> None:
        """Fold a chunk of checked rows, in log order, into the chains, the tree and the heads."""
        failures, frontier, follower = self.report.failures, self.frontier, self.follower
        # Run once per stored row, in this process alone: bound methods and locals keep its share of the CPU small.
        add_leaf, advance, link, key_positions = frontier.add, self.heads.advance, self.chains.add, self.key_positions
        for checked in checked_rows:
            if checked.commitment is not None:
                failures.extend(self.heads.check(checked, frontier.size))
            index = frontier.size
            add_leaf(checked.leaf)
            if follower is not None:
                follower.compare(index, checked.position, checked.leaf, (checked.aggregate_id, checked.version))
            if checked.position in key_positions:
                self.key_leaves[checked.position] = index
            advance(checked)
            if checked.failures:
                failures.extend(checked.failures)
            for reference in checked.references:
                self.documents.add(checked.position, *reference)
            link(checked)
        if checked_rows:
            self.last_position = checked_rows[-1].position

    def _check_checkpoints(self) -> int:
        """Stored checkpoints and the ones given with --against, against the rebuilt tree.

        A ledger key signs only the trees inside its validity: from its registration's leaf
        to the last tree without its revocation (key positions are turned into leaf indexes).
        """
        if self.options.ledger_id is None or self.follower is None:
            return 0
        size = self.frontier.size

        def signers(tree_size: int) -> list[bytes]:
            return self.keys.checkpoint_signers(LEDGER_USER, tree_size, self.key_leaves.get)

        located = self.follower.finish(size)
        owner = self.follower.owner
        if located is not None and located.aggregate_id is None and owner is not None:
            located = replace(located, aggregate_id=owner[0], version=owner[1])  # the row is still there
        where = _where(located)
        origin = f"custody-ledger/{self.options.ledger_id}"
        for problem in checkpoint_problems_at(self.checkpoints, size, self.frontier.roots, origin, signers):
            if problem.reason == "truncated_log" and located is not None:
                self.report.failures.append(
                    Failure(
                        located.position,
                        located.aggregate_id or "log",
                        located.version or 0,
                        problem.reason,
                        f"{problem.detail}; the first missing or changed one is {where}",
                    )
                )
            else:
                self.report.failures.append(Failure(problem.size, "checkpoint", 0, problem.reason, problem.detail))
        if located is not None:
            self.report.failures.append(
                Failure(
                    located.position,
                    located.aggregate_id or "log",
                    located.version or 0,
                    "follower_mismatch",
                    f"the Merkle follower's table disagrees with the stored rows at {where}",
                )
            )
        return len(self.checkpoints)

    def _links_of(self, aggregates: set[str]) -> Iterator[Link]:
        """The chain links of some aggregates, read again from the rows the scan saw (up to its last position)."""
        for row in _raw_scan(self.store, until=self.last_position):
            aggregate_id = dashed(str(row.originator_id))
            if aggregate_id in aggregates:
                opened, _ = open_row(row, self.options.strict)
                if opened is None:
                    yield Link(row.id, aggregate_id, row.originator_version, None, None)
                else:
                    body = opened.envelope.body
                    yield Link(row.id, aggregate_id, row.originator_version, opened.envelope.hash, body["prev_hash"])


def _where(located: Located | None) -> str:
    """A located leaf in words: index, log position and, when known, aggregate and version."""
    if located is None:
        return ""
    text = f"leaf {located.leaf_index} (log position {located.position}"
    if located.aggregate_id is not None:
        text += f", aggregate {located.aggregate_id} version {located.version}"
    return text + ")"


class CommitmentCheck:
    """Replays every aggregate's head in log order and checks each signed commitment of them.

    The ledger commits the map of heads before each checkpoint; a commitment that does not
    describe the rows stored before it (a lying ledger, or rows deleted or inserted before
    it) is named. One map is built per commitment: O(aggregates) every checkpoint interval.
    Between commitments a head is kept as (version, entry hash) only.
    """

    def __init__(self) -> None:
        self.heads: dict[str, tuple[int, bytes]] = {}

    def advance(self, checked: Checked) -> None:
        """This row is now the head of its aggregate."""
        self.heads[checked.aggregate_id] = (checked.version, checked.entry)

    def check(self, checked: Checked, leaf_index: int) -> list[Failure]:
        """What is wrong with the commitment stored at ``leaf_index`` (empty when it is true)."""
        assert checked.commitment is not None
        head_map = HeadMap(
            AggregateHead(aggregate, version, entry) for aggregate, (version, entry) in self.heads.items()
        )
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


def key_history(store: Any, trusted: set[bytes] | None) -> KeyHistory:
    """Which key was valid when, rebuilt from the staff events the store holds."""
    staff_rows = list(store.scan(batch=CHUNK, topics=STAFF_EVENT_TYPES))
    staff_opened = [(row.id, opened) for row in staff_rows if (opened := open_row(row)[0]) is not None]
    return build_key_history(staff_opened, trusted)


def verify_aggregate(
    store: Any, aggregate_id: UUID, trusted: set[bytes] | None, ledger_id: str | None
) -> list[Failure]:
    """Check one aggregate's events — bytes, hashes, signatures against the key history, chain links.

    What a product page's badge shows: cheaper than the whole log, and the same checks
    the full verification makes on these rows (checkpoints are the full run's job).
    """
    rules = RowRules(key_history(store, trusted), ledger_id, LEDGER_USER, strict=True)
    checked = check_rows(store.aggregate_rows(aggregate_id), rules)
    failures = [failure for row in checked for failure in row.failures]
    if checked:
        versions = {row.version: row for row in checked}
        failures.extend(chain_failures(checked[0].aggregate_id, versions))
    return failures


def _raw_scan(store: Any, until: int | None = None) -> Iterator[StoredRow]:
    """Every stored row in log order (up to position ``until``), read in batches straight from the table."""
    position = 1
    while rows := store.raw_rows(position, CHUNK):
        if until is not None and rows[-1].id > until:
            yield from (row for row in rows if row.id <= until)
            return
        yield from rows
        position = rows[-1].id + 1


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk
