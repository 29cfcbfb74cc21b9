"""`custody backup`: a consistent copy of a live store, in one archive a restore can check.

The copy is taken while the server may be writing, and must still be one moment of
the store: SQLite's online backup API copies every page inside one read transaction
(WAL lets writers go on); on PostgreSQL a repeatable-read transaction exports its
snapshot and pg_dump dumps the schema *in that snapshot*, while the manifest's log
size, Merkle root and latest checkpoint are read in the same one. A file copy of a
live SQLite database, or figures read outside the snapshot, could describe a state
the copy does not hold. On SQLite the document files follow the database copy into the
archive; on PostgreSQL the dump holds them (ledger/backup_documents.py).
"""

from __future__ import annotations

import base64
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ledger.backup_archive import DATABASE_MEMBER, TRUST_ANCHOR, Manifest, member_entry, write_archive
from ledger.backup_documents import snapshot_documents
from ledger.clock import Clock, SystemClock, isoformat
from ledger.ledger_meta import NotInitialised
from ledger.merkle import event_leaf, root
from ledger.pg_tools import check_schema_name, find_tool, run_tool
from ledger.settings import Settings, postgres_connection, postgres_parts
from ledger.trust_anchor import LEDGER_PUBLIC_KEY_FILE
from ledger.verifier import stored_bytes

Progress = Callable[[int], None]


@dataclass(frozen=True)
class LogState:
    """What one consistent copy holds: whose ledger, how many events, their Merkle root, the last checkpoint."""

    ledger_id: str
    size: int
    root: bytes
    latest_checkpoint: str | None


def log_state(
    ledger_id: str | None, states: Iterable[bytes | str], latest_checkpoint: str | None, progress: Progress | None
) -> LogState:
    """Rebuild the tree from the stored rows of the copy (never from the follower's table)."""
    if ledger_id is None:
        raise NotInitialised("this store holds no ledger yet: there is nothing to back up")
    leaves = []
    for state in states:
        leaves.append(event_leaf(stored_bytes(state)))
        if progress and len(leaves) % 5000 == 0:
            progress(len(leaves))
    return LogState(ledger_id, len(leaves), root(leaves), latest_checkpoint)


def backup(
    settings: Settings, output: Path, *, clock: Clock | None = None, progress: Progress | None = None
) -> Manifest:
    """Write a backup archive of the configured store to ``output`` (mode 0600); return its manifest."""
    anchor = settings.home / LEDGER_PUBLIC_KEY_FILE
    if not anchor.exists():
        raise NotInitialised(f"{anchor} is missing: the backup needs the trust anchor (run `custody init` first)")
    now = (clock or SystemClock()).now()
    output = output.absolute()
    work = Path(tempfile.mkdtemp(prefix=".custody-backup-", dir=output.parent))
    try:
        database = work / Path(DATABASE_MEMBER[settings.backend]).name
        schema = None
        if settings.database_url:
            schema, state = _dump_postgresql(settings.database_url, database, progress)
        else:
            state = _copy_sqlite(settings.sqlite_path, database, progress)
        files = {TRUST_ANCHOR: anchor, DATABASE_MEMBER[settings.backend]: database}
        if not settings.database_url:
            # After the snapshot, never before: a document's file is in place before its row commits,
            # so every document the copy describes can be read now (ledger/backup_documents.py).
            files |= snapshot_documents(database, settings.home)
        manifest = Manifest(
            backend=settings.backend,
            ledger_id=state.ledger_id,
            log_size=state.size,
            merkle_root=base64.b64encode(state.root).decode(),
            latest_checkpoint=state.latest_checkpoint,
            created_at=isoformat(now),
            schema=schema,
            members={name: member_entry(path) for name, path in files.items()},
        )
        write_archive(output, manifest, files, mtime=int(now.timestamp()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return manifest


def _copy_sqlite(source: Path, copy: Path, progress: Progress | None) -> LogState:
    """The whole database through the online backup API in one step, then its figures read from the copy."""
    if not source.exists():
        raise NotInitialised(f"no ledger at {source}: run `custody init` (or set CUSTODY_HOME)")
    with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(copy)) as target:
        # One step (pages=-1) holds a single read transaction: the copy is one moment of the store,
        # whereas a stepwise copy restarts each time another connection writes.
        live.backup(target, pages=-1)
    with closing(sqlite3.connect(copy)) as conn:
        try:
            found = conn.execute("SELECT value FROM ledger_meta WHERE name = 'ledger_id'").fetchone()
            latest = conn.execute("SELECT note FROM checkpoints ORDER BY tree_size DESC LIMIT 1").fetchone()
        except sqlite3.OperationalError as error:
            raise NotInitialised(f"{source} holds no ledger ({error}): run `custody init`") from None
        rows = (row[0] for row in conn.execute("SELECT state FROM stored_events ORDER BY rowid"))
        return log_state(found and found[0], rows, latest and latest[0], progress)


def _dump_postgresql(url: str, dump: Path, progress: Progress | None) -> tuple[str, LogState]:
    """pg_dump of the ledger's schema inside an exported snapshot, with the figures read in that snapshot."""
    parts = postgres_parts(url)
    schema = check_schema_name(parts["schema"], "CUSTODY_DATABASE_URL")
    pg_dump = find_tool("pg_dump")
    with postgres_connection(url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            snapshot = _one(conn, sql.SQL("SELECT pg_export_snapshot()"))
            state = _pg_state(conn, schema, progress)
            # --no-owner: the restoring role owns what it creates; privileges (custody_writer's) are kept.
            run_tool(
                [
                    pg_dump,
                    "--format=plain",
                    "--no-owner",
                    f"--schema={schema}",
                    f"--snapshot={snapshot}",
                    "-f",
                    str(dump),
                ],
                parts,
            )
    return schema, state


def _pg_state(conn: psycopg.Connection[Any], schema: str, progress: Progress | None) -> LogState:
    name = sql.Identifier(schema)
    try:
        ledger_id = _one(conn, sql.SQL("SELECT value FROM {}.ledger_meta WHERE name = 'ledger_id'").format(name))
    except psycopg.errors.UndefinedTable:
        raise NotInitialised(f"schema {schema} holds no ledger: run `custody init`") from None
    latest = _one(conn, sql.SQL("SELECT note FROM {}.checkpoints ORDER BY tree_size DESC LIMIT 1").format(name))
    with conn.cursor(name="custody_backup_log") as rows:
        rows.itersize = 5000
        rows.execute(sql.SQL("SELECT state FROM {}.custody_events ORDER BY notification_id").format(name))
        return log_state(ledger_id, (row[0] for row in rows), latest, progress)


def _one(conn: psycopg.Connection[Any], query: sql.SQL | sql.Composed) -> Any:
    row = conn.execute(query).fetchone()
    return None if row is None else row[0]
