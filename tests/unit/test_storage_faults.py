"""Each storage failure is named for what it is: full, read-only, locked or unreachable; anything else is not one.

The SQLite errors are produced by SQLite itself on a scratch file; the PostgreSQL
ones are psycopg's classes for each SQLSTATE (the server's answers are exercised
in tests/api/test_storage_faults.py). Each is also checked wrapped the way
eventsourcing wraps driver errors, since that is how the ledger receives them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import psycopg.errors
import psycopg_pool
import pytest
from eventsourcing.persistence import IntegrityError, OperationalError, ProgrammingError

from ledger.storage_faults import FAULTS, classify


def _raised(call: object) -> BaseException:
    with pytest.raises(BaseException) as caught:
        call()  # type: ignore[operator]
    return caught.value


def _wrapped(driver_error: BaseException) -> BaseException:
    """The driver's error as eventsourcing hands it over: its own OperationalError, the driver's as cause."""
    try:
        raise OperationalError(str(driver_error)) from driver_error
    except OperationalError as wrapper:
        return wrapper


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "faults.sqlite3"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x TEXT)")
        conn.commit()
    yield path


def test_a_full_sqlite_database_is_storage_full(database: Path) -> None:
    with closing(sqlite3.connect(database)) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        error = _raised(lambda: conn.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,)))
    assert "database or disk is full" in str(error)
    assert classify(error).rule == "storage_full"  # type: ignore[union-attr]
    assert classify(_wrapped(error)).rule == "storage_full"  # type: ignore[union-attr]


def test_a_sqlite_database_opened_read_only_refuses_writes_as_storage_read_only(database: Path) -> None:
    with closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as conn:
        error = _raised(lambda: conn.execute("INSERT INTO t VALUES ('x')"))
    assert "attempt to write a readonly database" in str(error)
    assert classify(_wrapped(error)).rule == "storage_read_only"  # type: ignore[union-attr]


def test_a_sqlite_write_lock_held_elsewhere_is_database_locked(database: Path) -> None:
    with closing(sqlite3.connect(database, isolation_level=None)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        with closing(sqlite3.connect(database, timeout=0.05, isolation_level=None)) as writer:
            error = _raised(lambda: writer.execute("BEGIN IMMEDIATE"))
        holder.execute("ROLLBACK")
    assert "database is locked" in str(error)
    assert classify(_wrapped(error)).rule == "database_locked"  # type: ignore[union-attr]


def test_a_sqlite_file_that_cannot_be_opened_is_database_unavailable(tmp_path: Path) -> None:
    error = _raised(lambda: sqlite3.connect(tmp_path / "no-such-directory" / "x.sqlite3"))
    assert "unable to open database file" in str(error)
    assert classify(_wrapped(error)).rule == "database_unavailable"  # type: ignore[union-attr]


def test_sqlite_messages_are_recognised_even_when_a_wrapper_kept_only_the_text() -> None:
    expected = {
        "database or disk is full": "storage_full",
        "attempt to write a readonly database": "storage_read_only",
        "database is locked": "database_locked",
        "unable to open database file": "database_unavailable",
        "disk I/O error": "database_unavailable",
    }
    for message, rule in expected.items():
        assert classify(OperationalError(message)).rule == rule, message  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("error", "rule"),
    [
        (psycopg.errors.DiskFull("could not extend file: No space left on device"), "storage_full"),
        (psycopg.errors.ReadOnlySqlTransaction("cannot execute INSERT in read-only mode"), "storage_read_only"),
        (psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"), "database_locked"),
        (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), "database_unavailable"),
        (psycopg.errors.ConnectionFailure("connection failure"), "database_unavailable"),
        (psycopg.errors.SqlclientUnableToEstablishSqlconnection("no connection"), "database_unavailable"),
        (psycopg.OperationalError("connection refused"), "database_unavailable"),
        (psycopg.InterfaceError("the connection is closed"), "database_unavailable"),
        (psycopg_pool.PoolTimeout("couldn't get a connection after 5.00 sec"), "database_unavailable"),
    ],
)
def test_postgresql_errors_are_named_by_their_sqlstate(error: BaseException, rule: str) -> None:
    assert classify(error).rule == rule  # type: ignore[union-attr]
    assert classify(_wrapped(error)).rule == rule  # type: ignore[union-attr]


def test_a_fault_is_found_through_a_chain_of_wrappers() -> None:
    try:
        try:
            raise psycopg.errors.DiskFull("no space left")
        except psycopg.Error as inner:
            raise OperationalError("failed") from inner
    except OperationalError as middle:
        outer = RuntimeError("the command failed")
        outer.__context__ = middle
    assert classify(outer).rule == "storage_full"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "error",
    [
        ValueError("not a database error"),
        IntegrityError("UNIQUE constraint failed: stored_events.originator_id"),
        ProgrammingError("no such table: elsewhere"),
        psycopg.errors.UndefinedTable('relation "elsewhere" does not exist'),
        psycopg.errors.UniqueViolation("duplicate key value"),
        sqlite3.OperationalError("no such table: elsewhere"),
    ],
)
def test_anything_else_is_not_a_storage_fault(error: BaseException) -> None:
    assert classify(error) is None
    assert classify(_wrapped(error)) is None


def test_every_fault_tells_the_operator_that_nothing_was_stored_and_when_to_retry() -> None:
    assert sorted(fault.rule for fault in FAULTS) == [
        "database_locked",
        "database_unavailable",
        "storage_full",
        "storage_read_only",
    ]
    for fault in FAULTS:
        # A dropped connection may have lost a commit's acknowledgement: it points to the Idempotency-Key instead.
        said = "stores nothing twice" if fault.rule == "database_unavailable" else "nothing was stored"
        assert said in fault.message
        assert fault.retry_after_seconds > 0
    locked = next(fault for fault in FAULTS if fault.rule == "database_locked")
    assert locked.retry_after_seconds < min(f.retry_after_seconds for f in FAULTS if f is not locked)
