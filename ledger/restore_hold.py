"""The hold on a restored store: no new signature until the operator shows it cannot fork the ledger.

A backup is a past state. The ledger may have signed and published checkpoints
of later events before the store was lost; new events appended to the restored
log would make a second tree whose first N leaves differ from the published
one of size N — two signed, inconsistent views of one ledger. So a restore
records a hold (``ledger_restores``), every write asks ``ensure_writable`` first
(one query answered by a partial index), and the hold is released only by
``release_with_checkpoint`` (the latest published checkpoint is within the
restored log and consistent with it) or ``accept_fork`` (an administrator's
decision, recorded with who, when and why, and shown by verification).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.persistence import OperationalError, ProgrammingError

from domain.errors import InvalidInput, RuleViolation
from ledger.checkpoint_audit import checkpoint_problems
from ledger.clock import isoformat
from ledger.merkle import event_leaf
from ledger.signed_note import NoteError, parse_checkpoint
from ledger.store import EventStore
from ledger.verifier import stored_bytes, stored_checkpoints

MIN_REASON_LENGTH = 10
ACKNOWLEDGE_HINT = (
    "run `custody restore acknowledge --latest-checkpoint FILE` with the latest checkpoint the ledger published, "
    "or, if none can be found, `custody restore acknowledge --accept-fork --reason TEXT` (an administrator)"
)


class RestoredStoreHeld(RuleViolation):
    """The store was restored from a backup and may be behind a published checkpoint: writes are held."""

    rule = "restored_store_held"


class ForkRefused(RuleViolation):
    """The checkpoint given cannot release the hold: the restored log is behind it, or disagrees with it."""

    rule = "restored_store_behind"


@dataclass(frozen=True)
class Restore:
    """One recorded restore and, once released, how and by whom."""

    restore_id: int
    restored_at: str
    restored_size: int
    backup_created_at: str
    archive_sha256: str
    released_at: str | None
    released_by: str | None
    release_kind: str | None
    release_reason: str | None
    release_checkpoint: str | None

    @property
    def held(self) -> bool:
        """True while no release has been recorded."""
        return self.released_at is None

    def to_json(self) -> dict[str, Any]:
        """Every column, for `custody restore status --json`."""
        return dict(self.__dict__) | {"held": self.held}


def _table(store: EventStore) -> str:
    """The table name, schema-qualified on PostgreSQL so the check needs no search_path statement first."""
    if store.backend == "postgresql":
        schema = store.recorder.datastore.schema or "public"  # type: ignore[attr-defined]
        return f'"{schema}".ledger_restores'
    return "ledger_restores"


def _missing_table(error: Exception) -> bool:
    """A store migrated before restores existed was never restored: no hold."""
    return "ledger_restores" in str(error)


def held_restore(store: EventStore) -> int | None:
    """The id of a restore still held, or None: one indexed query, asked before every append."""
    datastore: Any = store.recorder.datastore  # type: ignore[attr-defined]
    mark = "?" if store.backend == "sqlite" else "%s"
    sql = f"SELECT restore_id FROM {_table(store)} WHERE released_at IS NULL ORDER BY restore_id LIMIT {mark}"
    try:
        with datastore.transaction(commit=False) as cursor:
            cursor.execute(sql, (1,))
            row = cursor.fetchone()
    except (ProgrammingError, OperationalError) as error:
        if _missing_table(error):
            return None
        raise
    if row is None:
        return None
    return int(row["restore_id"] if isinstance(row, dict) or hasattr(row, "keys") else row[0])


def ensure_writable(store: EventStore) -> None:
    """Refuse a write while a restore is held (the ledger stays unchanged)."""
    if held_restore(store) is not None:
        raise RestoredStoreHeld(
            "this store was restored from a backup and may be behind a checkpoint the ledger already published; "
            f"signing new events could fork the ledger, so writes are held: {ACKNOWLEDGE_HINT}"
        )


def restores(store: EventStore) -> list[Restore]:
    """Every recorded restore, oldest first (none on a store never restored)."""
    try:
        with store.side_transaction() as cursor:
            cursor.execute(
                "SELECT restore_id, restored_at, restored_size, backup_created_at, archive_sha256, released_at,"
                " released_by, release_kind, release_reason, release_checkpoint FROM ledger_restores"
                " ORDER BY restore_id"
            )
            rows = cursor.fetchall()
    except (ProgrammingError, OperationalError) as error:
        if _missing_table(error):
            return []
        raise
    return [
        Restore(**{**row, "restore_id": int(row["restore_id"]), "restored_size": int(row["restored_size"])})
        for row in rows
    ]


def log_leaves(store: EventStore, batch: int = 5000) -> list[bytes]:
    """The Merkle leaves rebuilt from the stored event rows themselves (never the follower's table)."""
    return list(_leaves(store, batch))


def _leaves(store: EventStore, batch: int) -> Iterator[bytes]:
    position = 1
    while rows := store.raw_rows(position, batch):
        yield from (event_leaf(stored_bytes(row.state)) for row in rows)
        position = rows[-1].id + 1


def release_with_checkpoint(
    store: EventStore, note: str, *, origin: str, ledger_keys: list[bytes], by: str, now: datetime
) -> int:
    """Release every held restore if ``note`` — the latest published checkpoint — is within the restored log.

    It must be the ledger's (origin and signature), no larger than the restored log, with the
    same root at its size (so the restored tree extends it), and not older than a checkpoint
    the restored store already holds (then it cannot be the latest one published).
    Returns the number of restores released.
    """
    try:
        given = parse_checkpoint(note)
    except NoteError as error:
        raise InvalidInput(
            f"--latest-checkpoint: {error}", field="--latest-checkpoint", rule="malformed_checkpoint"
        ) from None
    leaves = log_leaves(store)
    for problem in checkpoint_problems([("the checkpoint given", given)], leaves, origin, ledger_keys):
        if problem.reason == "truncated_log":
            raise ForkRefused(
                f"the latest published checkpoint covers {given.size} events but the restored log holds only "
                f"{len(leaves)}: the backup is behind what the ledger published, and new events here would fork "
                "it. Restore a later backup, or record the decision with --accept-fork --reason TEXT",
                field="--latest-checkpoint",
            )
        rule = "restored_store_diverges" if problem.reason == "checkpoint_mismatch" else problem.reason
        raise ForkRefused(problem.detail, field="--latest-checkpoint", rule=rule)
    stored = stored_checkpoints(store)
    if stored and stored[-1].size > given.size:
        raise ForkRefused(
            f"the checkpoint given covers {given.size} events but the restored store already holds one of "
            f"{stored[-1].size}: it is not the latest published checkpoint",
            field="--latest-checkpoint",
            rule="checkpoint_not_latest",
        )
    return _release(store, by=by, now=now, kind="checkpoint", reason=None, note=note)


def check_reason(reason: str | None) -> str:
    """An accepted fork needs a reason someone can later read and judge: refuse an empty or token one."""
    text = (reason or "").strip()
    if len(text) < MIN_REASON_LENGTH:
        raise InvalidInput(
            f"--reason must say why the fork risk is accepted (at least {MIN_REASON_LENGTH} characters)",
            field="--reason",
            rule="reason_required",
        )
    return text


def accept_fork(store: EventStore, *, by: str, reason: str, now: datetime) -> int:
    """Release every held restore on an administrator's word, recorded with the reason."""
    reason = check_reason(reason)
    return _release(store, by=by, now=now, kind="accept_fork", reason=reason, note=None)


def _release(store: EventStore, *, by: str, now: datetime, kind: str, reason: str | None, note: str | None) -> int:
    if held_restore(store) is None:
        raise RuleViolation("no restore of this store is held: there is nothing to acknowledge", rule="not_held")
    with store.side_transaction() as cursor:
        cursor.execute("SELECT COUNT(*) AS n FROM ledger_restores WHERE released_at IS NULL")
        found = cursor.fetchone()
        cursor.execute(
            "UPDATE ledger_restores SET released_at = %s, released_by = %s, release_kind = %s,"
            " release_reason = %s, release_checkpoint = %s WHERE released_at IS NULL",
            (isoformat(now), by, kind, reason, note),
        )
        return int(found["n"]) if found else 0
