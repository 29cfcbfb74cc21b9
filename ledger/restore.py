"""`custody restore`: a backup archive into an empty store, checked, and held until acknowledged.

Every member's SHA-256 is checked before anything is written; the backend must be the
one the backup was taken from; the target must hold no ledger (a restore never merges
into or replaces one). The copy and the hold (a ``ledger_restores`` row, see
``ledger.restore_hold``) land in the same transaction: there is no moment at which the
restored store accepts writes. Afterwards the restored tree is compared with the one
the manifest describes, and the master secret is tried on the ledger key — it is never
in the archive, and without it the ledger cannot sign. On SQLite the document files are
checked against the restored rows and linked into place first (ledger/backup_documents.py).
"""

from __future__ import annotations

import base64
import os
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from domain.errors import RuleViolation
from ledger.backup_archive import (
    DATABASE_MEMBER,
    DOCUMENTS,
    TRUST_ANCHOR,
    ArchiveRefused,
    Manifest,
    sha256_file,
    unpack_checked,
    unpacked_documents,
)
from ledger.backup_documents import check_unpacked, document_rows
from ledger.clock import Clock, SystemClock, isoformat
from ledger.ledger_meta import NotInitialised
from ledger.merkle import root
from ledger.migrate import MIGRATIONS, apply_migrations
from ledger.pg_tools import check_schema_name, find_tool, renamed_dump, run_tool
from ledger.restore_hold import held_restore, log_leaves
from ledger.secrets import MissingSecret
from ledger.service import CustodyLedger
from ledger.settings import Settings, postgres_connection, postgres_parts
from ledger.trust_anchor import LEDGER_PUBLIC_KEY_FILE

HOLD_MIGRATION = "0007.restore-hold.sql"
# The hold counts the restored rows itself, so it records what the store holds, not what the manifest claims.
HOLD_INSERT = (
    "INSERT INTO ledger_restores (restored_at, restored_size, backup_created_at, archive_sha256)"
    " SELECT {restored_at}, COUNT(*), {created_at}, {sha} FROM {events}"
)
CREATE_WRITER_ROLE = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'custody_writer') THEN
        CREATE ROLE custody_writer NOLOGIN;
    END IF;
END
$$;
"""


class TargetNotEmpty(RuleViolation):
    """The configured store already holds a ledger (or other tables): a restore only fills an empty one."""

    rule = "target_not_empty"


@dataclass(frozen=True)
class RestoreReport:
    """What was restored and what the operator must still do."""

    manifest: Manifest
    restored_size: int
    hold_id: int
    wrote_trust_anchor: bool
    master_key: str  # "unlocks", "missing" or "wrong"


def restore(settings: Settings, archive: Path, *, clock: Clock | None = None) -> RestoreReport:
    """Restore ``archive`` into the configured (empty) store; writes stay held until acknowledged."""
    if not archive.is_file():
        raise ArchiveRefused(f"{archive}: no such file", field="FILE", rule="unreadable_archive")
    restored_at = isoformat((clock or SystemClock()).now())
    target_schema = None
    if settings.database_url:
        target_schema = check_schema_name(postgres_parts(settings.database_url)["schema"], "CUSTODY_DATABASE_URL")
        find_tool("psql")
    _refuse_non_empty(settings)
    settings.home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".custody-restore-", dir=settings.home) as work:
        unpacked = Path(work)
        manifest = unpack_checked(archive, unpacked, settings.backend)
        anchor = (unpacked / TRUST_ANCHOR).read_bytes()
        wrote_anchor = _check_trust_anchor(settings.home / LEDGER_PUBLIC_KEY_FILE, anchor)
        digest = sha256_file(archive)
        database = unpacked / Path(DATABASE_MEMBER[settings.backend]).name
        if target_schema is None:
            documents = unpacked_documents(unpacked)
            check_unpacked(documents, document_rows(database))
            place_documents(documents, settings.home)
            _restore_sqlite(settings.sqlite_path, database, restored_at, manifest, digest)
        else:
            _restore_postgresql(settings, target_schema, database, unpacked, restored_at, manifest, digest)
    if wrote_anchor:
        (settings.home / LEDGER_PUBLIC_KEY_FILE).write_bytes(anchor)
    apply_migrations(settings)
    return _checked(settings, manifest, wrote_anchor)


def place_documents(unpacked: dict[str, Path], home: Path) -> None:
    """Link the checked document files into ``home/documents``, never replacing one.

    Every file is compared before any is linked, so a home holding other bytes under one of
    the names is refused with nothing written. Run before the database is restored: a file
    without its row is harmless (what an interrupted `custody document add` leaves), a row
    without its file is a missing document.
    """
    finals = {sha256: home / DOCUMENTS / sha256[:2] / sha256 for sha256 in unpacked}
    for sha256, final in finals.items():
        if final.exists() and final.read_bytes() != unpacked[sha256].read_bytes():
            raise TargetNotEmpty(
                f"{final} already holds other bytes than the backup's document {sha256}: this home belongs to "
                "another ledger; restore into an empty CUSTODY_HOME",
                field="CUSTODY_HOME",
                rule="document_file_conflict",
            )
    for sha256, final in finals.items():
        final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not final.exists():
            os.link(unpacked[sha256], final)


def _refuse_non_empty(settings: Settings) -> None:
    if settings.database_url:
        _refuse_non_empty_schema(settings.database_url)
        return
    path = settings.sqlite_path
    if not path.exists():
        return
    with closing(sqlite3.connect(path)) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        holds = any(
            conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]
            for table in ("stored_events", "ledger_meta")
            if table in tables
        )
    if holds:
        raise TargetNotEmpty(
            f"{path} already holds a ledger: restore only into an empty store (point CUSTODY_HOME elsewhere)",
            field="CUSTODY_HOME",
        )


def _connect(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    return postgres_connection(url, autocommit=True)


def _refuse_non_empty_schema(url: str) -> None:
    schema = postgres_parts(url)["schema"]
    with _connect(url) as conn:
        tables = {
            str(row[0])
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
            )
        }
        holds = "ledger_meta" in tables and conn.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {}.ledger_meta)").format(sql.Identifier(schema))
        ).fetchone() == (True,)
    if holds:
        raise TargetNotEmpty(
            f"schema {schema} already holds a ledger: restore only into an empty schema", field="CUSTODY_DATABASE_URL"
        )
    if tables:
        raise TargetNotEmpty(
            f"schema {schema} is not empty ({len(tables)} tables, no ledger): restore only into an empty schema",
            field="CUSTODY_DATABASE_URL",
        )


def _check_trust_anchor(path: Path, anchor: bytes) -> bool:
    """True when ledger.pub must be written; refuse a home that already trusts another ledger."""
    if not path.exists():
        return True
    if path.read_bytes() != anchor:
        raise TargetNotEmpty(
            f"{path} lists other keys than the backup's ledger.pub: this home belongs to another ledger",
            field="CUSTODY_HOME",
            rule="trust_anchor_mismatch",
        )
    return False


def _restore_sqlite(target: Path, copy: Path, restored_at: str, manifest: Manifest, digest: str) -> None:
    """Add the hold to the checked copy, then copy it into place in one step of the backup API."""
    with closing(sqlite3.connect(copy)) as conn:
        conn.executescript((MIGRATIONS / "sqlite" / HOLD_MIGRATION).read_text(encoding="utf-8"))
        conn.execute(
            HOLD_INSERT.format(restored_at="?", created_at="?", sha="?", events="stored_events"),
            (restored_at, manifest.created_at, digest),
        )
        conn.commit()
        with closing(sqlite3.connect(target)) as live:
            conn.backup(live, pages=-1)


def _restore_postgresql(
    settings: Settings, schema: str, dump: Path, work: Path, restored_at: str, manifest: Manifest, digest: str
) -> None:
    """One psql transaction: the dump (renamed into the target schema), the hold table and the hold."""
    assert settings.database_url is not None
    source = check_schema_name(manifest.schema or "", "manifest.schema")
    script = work / "restore.sql"
    with dump.open(encoding="utf-8") as lines, script.open("w", encoding="utf-8") as out:
        out.write(CREATE_WRITER_ROLE)
        out.writelines(renamed_dump(lines, source, schema))
        out.write(f'\nSET search_path = "{schema}";\n')
        out.write((MIGRATIONS / "postgresql" / HOLD_MIGRATION).read_text(encoding="utf-8"))
        out.write(
            "\n"
            + HOLD_INSERT.format(
                restored_at=":'restored_at'", created_at=":'created_at'", sha=":'sha'", events="custody_events"
            )
            + ";\n"
        )
    with _connect(settings.database_url) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    parts = postgres_parts(settings.database_url)
    command = [find_tool("psql"), "-X", "-q", "--single-transaction", "-v", "ON_ERROR_STOP=1", "-f", str(script)]
    run_tool(command, parts, restored_at=restored_at, created_at=manifest.created_at, sha=digest)


def _checked(settings: Settings, manifest: Manifest, wrote_anchor: bool) -> RestoreReport:
    """Compare the restored tree with the manifest's, and try the master secret on the ledger key."""
    ledger = CustodyLedger(settings)
    try:
        leaves = log_leaves(ledger.store)
        hold = held_restore(ledger.store)
        assert hold is not None
        found = (ledger.meta.ledger_id(), len(leaves), base64.b64encode(root(leaves)).decode())
        expected = (manifest.ledger_id, manifest.log_size, manifest.merkle_root)
        if found != expected:
            raise ArchiveRefused(
                f"the restored store holds ledger {found[0]} with {found[1]} events (root {found[2]}), not what the "
                f"manifest describes ({expected[0]}, {expected[1]} events, root {expected[2]}): the archive was "
                "forged; the store stays held — drop it and restore a genuine backup",
                field="manifest.json",
                rule="manifest_mismatch",
            )
        try:
            ledger.meta.ledger_key_pair()
            master = "unlocks"
        except MissingSecret:
            master = "missing"
        except NotInitialised:
            master = "wrong"
    finally:
        ledger.close()
    return RestoreReport(manifest, len(leaves), hold, wrote_anchor, master)
