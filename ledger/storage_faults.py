"""What went wrong with the database, in words an operator can act on: full, read-only, locked or unreachable.

A storage failure reaches the ledger as a driver error (``sqlite3``, ``psycopg``,
``psycopg_pool``), often wrapped by ``eventsourcing`` in its own
``OperationalError`` with the driver's error as ``__cause__``. Reporting all of
them as "the database cannot be reached" sent operators after the network when
the disk was full. ``classify`` walks the chain of causes and names the fault
once, for the HTTP API, the web pages and the command line alike; anything it
does not recognise is not a storage fault (None), and is left to whoever called.

Every fault means the transaction was rolled back: nothing of the refused
command was stored. A full or read-only database still answers reads.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import psycopg
import psycopg_pool
from eventsourcing.persistence import ConnectionUnavailableError, PersistenceError

from ledger.postgres_pool import RECONNECT_SECONDS


@dataclass(frozen=True)
class StorageFault:
    """One kind of storage failure: its stable rule, what to tell the operator, when to try again."""

    rule: str
    title: str
    message: str
    retry_after_seconds: int
    reads_still_work: bool


STORAGE_FULL = StorageFault(
    rule="storage_full",
    title="Database storage full",
    message=(
        "the database's disk is full: nothing was stored; free space on the disk holding the database "
        "(or grow it), then try again — reading still works"
    ),
    retry_after_seconds=60,
    reads_still_work=True,
)
STORAGE_READ_ONLY = StorageFault(
    rule="storage_read_only",
    title="Database read-only",
    message=(
        "the database accepts no writes (a read-only file, file system, server or transaction): nothing was "
        "stored; make it writable again, then try again — reading still works"
    ),
    retry_after_seconds=60,
    reads_still_work=True,
)
DATABASE_LOCKED = StorageFault(
    rule="database_locked",
    title="Database busy",
    message=(
        "another transaction held the database lock longer than CUSTODY_LOCK_TIMEOUT_SECONDS: nothing was "
        "stored; try again in a moment"
    ),
    retry_after_seconds=1,
    reads_still_work=True,
)
DATABASE_UNAVAILABLE = StorageFault(
    rule="database_unavailable",
    title="Database unavailable",
    message=(
        "the database cannot be reached right now (server down, network cut, or the file cannot be opened); "
        "try again in a moment with the same Idempotency-Key: if the connection dropped while a step was being "
        "committed, the retry answers with what was stored, and stores nothing twice"
    ),
    # Once the database is back, the pool opens a fresh connection within RECONNECT_SECONDS, and the
    # request that gets it waits at most one more connect: a client retrying after this many seconds is served.
    retry_after_seconds=int(RECONNECT_SECONDS) + 3,
    reads_still_work=False,
)
FAULTS = (STORAGE_FULL, STORAGE_READ_ONLY, DATABASE_LOCKED, DATABASE_UNAVAILABLE)

# SQLite primary result codes (the low byte of extended codes such as SQLITE_READONLY_DIRECTORY).
_SQLITE_CODES = {
    13: STORAGE_FULL,  # SQLITE_FULL
    8: STORAGE_READ_ONLY,  # SQLITE_READONLY
    5: DATABASE_LOCKED,  # SQLITE_BUSY
    6: DATABASE_LOCKED,  # SQLITE_LOCKED
    14: DATABASE_UNAVAILABLE,  # SQLITE_CANTOPEN
    10: DATABASE_UNAVAILABLE,  # SQLITE_IOERR
}
# The same faults by message: eventsourcing's wrappers keep the driver's text but not its code.
_SQLITE_MESSAGES = (
    ("database or disk is full", STORAGE_FULL),
    ("attempt to write a readonly database", STORAGE_READ_ONLY),
    ("database is locked", DATABASE_LOCKED),
    ("database table is locked", DATABASE_LOCKED),
    ("unable to open database file", DATABASE_UNAVAILABLE),
    ("disk i/o error", DATABASE_UNAVAILABLE),
)
# PostgreSQL SQLSTATEs, exact first, then by class (the first two characters).
_SQLSTATES = {
    "53100": STORAGE_FULL,  # disk_full
    "25006": STORAGE_READ_ONLY,  # read_only_sql_transaction
    "55P03": DATABASE_LOCKED,  # lock_not_available (lock_timeout expired)
    "40P01": DATABASE_LOCKED,  # deadlock_detected: rolled back, a retry succeeds
    "53300": DATABASE_UNAVAILABLE,  # too_many_connections
    "57P01": DATABASE_UNAVAILABLE,  # admin_shutdown
    "57P02": DATABASE_UNAVAILABLE,  # crash_shutdown
    "57P03": DATABASE_UNAVAILABLE,  # cannot_connect_now (starting up, recovering)
}
_SQLSTATE_CLASSES = {"08": DATABASE_UNAVAILABLE}  # connection exceptions


def classify(error: BaseException) -> StorageFault | None:
    """The storage fault behind ``error`` (itself or any of its causes), or None when it is not one."""
    for link in _chain(error):
        fault = _driver_fault(link)
        if fault is not None:
            return fault
    for link in _chain(error):
        fault = _wrapper_fault(link)
        if fault is not None:
            return fault
    return None


def _chain(error: BaseException) -> list[BaseException]:
    """``error`` and its causes and contexts, each once, outermost first."""
    seen: list[BaseException] = []
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop(0)
        if any(current is known for known in seen):
            continue
        seen.append(current)
        pending.extend(link for link in (current.__cause__, current.__context__) if link is not None)
    return seen


def _driver_fault(error: BaseException) -> StorageFault | None:
    """A fault the driver itself names (by SQLSTATE or SQLite result code)."""
    if isinstance(error, psycopg_pool.PoolTimeout):
        return DATABASE_UNAVAILABLE
    if isinstance(error, psycopg.Error):
        state = error.sqlstate
        if state is None:
            # No answer from a server at all: refused, cut, or the connection already closed.
            connection_lost = isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError))
            return DATABASE_UNAVAILABLE if connection_lost else None
        return _SQLSTATES.get(state) or _SQLSTATE_CLASSES.get(state[:2])
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        if isinstance(code, int) and (code & 0xFF) in _SQLITE_CODES:
            return _SQLITE_CODES[code & 0xFF]
        return _by_message(str(error))
    return None


def _wrapper_fault(error: BaseException) -> StorageFault | None:
    """A fault known only from a wrapper's text (eventsourcing re-raises some driver errors as new ones)."""
    if isinstance(error, ConnectionUnavailableError):
        # The SQLite pool's own wait for the one writer of this process: another write held it too long.
        return DATABASE_LOCKED
    if isinstance(error, PersistenceError):
        return _by_message(str(error))
    return None


def _by_message(text: str) -> StorageFault | None:
    lowered = text.lower()
    for fragment, fault in _SQLITE_MESSAGES:
        if fragment in lowered:
            return fault
    return None
