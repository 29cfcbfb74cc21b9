"""The document files of a SQLite ledger in its backups: which ones a copy carries, and what a restore accepts.

On SQLite a document's bytes are a file under ``CUSTODY_HOME/documents`` (ledger/documents.py),
outside the database the online backup API copies; without them a restored ledger fails
``custody verify`` with ``missing_document``. On PostgreSQL they are a bytea column, and the
dump already holds them.

A restore refuses a document whose bytes are not the document its row describes: a plain
document must hash to its name; a consent form is sealed with its patient's key, which is
never in a backup, so it must have the sealed form and the size its row implies
(ledger/document_sealing.py). The manifest's digest of every member is checked first
(ledger/backup_archive.py); this check holds even against an archive whose manifest was
rewritten with the altered bytes.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from ledger.backup_archive import DOCUMENTS, ArchiveRefused, sha256_file
from ledger.document_sealing import looks_sealed


def snapshot_documents(copy: Path, home: Path) -> dict[str, Path]:
    """The archive members for every document the database copy describes, read from the live store.

    Called after the snapshot is taken. A document is immutable and its file is linked
    into place before the transaction that inserts its row commits, so every row in the
    copy already has its final file, and the file can be read now without a lock. Documents
    stored after the snapshot have no row in it and are left out (a restore of the copy
    would not know them). A row whose file is gone is left out too: the store is already
    damaged, and `custody verify` names the document as missing on the source and on any
    restore of it alike; refusing the backup would only leave the ledger with none.
    """
    members = {}
    for sha256 in document_rows(copy):
        path = home / DOCUMENTS / sha256[:2] / sha256
        if path.is_file():
            members[f"{DOCUMENTS}/{sha256[:2]}/{sha256}"] = path
    return members


def document_rows(database: Path) -> dict[str, tuple[int, bool]]:
    """Each document row of an SQLite database: SHA-256 → (size in bytes, sealed for a patient)."""
    with closing(sqlite3.connect(database)) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "documents" not in tables:
            return {}  # a ledger from before documents existed (migration 0015)
        rows = conn.execute("SELECT sha256, size_bytes, patient IS NOT NULL FROM documents").fetchall()
    return {str(sha256): (int(size), bool(sealed)) for sha256, size, sealed in rows}


def check_unpacked(unpacked: dict[str, Path], rows: dict[str, tuple[int, bool]]) -> None:
    """Refuse any unpacked document file the restored database has no row for, or whose bytes are not its document."""
    for sha256, path in unpacked.items():
        member = f"{DOCUMENTS}/{sha256[:2]}/{sha256}"
        if sha256 not in rows:
            raise ArchiveRefused(
                f"the archive holds {member}, which the database copy does not describe: nothing was restored",
                field=member,
                rule="unexpected_member",
            )
        size, sealed = rows[sha256]
        if sealed:
            if not looks_sealed(path.read_bytes(), size):
                raise ArchiveRefused(
                    f"{member} is not a consent form sealed for its patient ({size} bytes): the archive was altered; "
                    "nothing was restored",
                    field=member,
                    rule="document_hash_mismatch",
                )
        elif sha256_file(path) != sha256:
            raise ArchiveRefused(
                f"{member}: its bytes do not hash to its name: the archive was altered; nothing was restored",
                field=member,
                rule="document_hash_mismatch",
            )
