"""Storage faults told truly over HTTP, on both backends: full, read-only and locked databases.

Each fault is injected for real where the machine allows it: SQLite's own
``max_page_count`` makes the file full, a read-only file system (or, for a
non-root user, read-only permissions) makes it read-only, and another connection
holds the write lock; PostgreSQL refuses writes in a role whose transactions are
read-only by default, and another session holds the table lock. A full
PostgreSQL disk cannot be produced on a shared server, so the server's answer
(``DiskFull``, SQLSTATE 53100) is raised from the cursor instead. Every refused
write leaves the number of stored events unchanged, counted on a connection of the
test's own; reads are answered throughout.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg
import psycopg.errors
import pytest
from eventsourcing.sqlite import SQLiteConnectionPool
from fastapi.testclient import TestClient

from api.rest.app import create_app
from ledger.settings import Settings, postgres_parts
from tests.api.conftest import Session
from tests.api.test_database_down import _annotation, _prepare, _timed
from tests.conftest import postgres_url


def stored_events(settings: Settings) -> int:
    """The number of stored events, read on the test's own connection."""
    if settings.database_url is None:
        with closing(sqlite3.connect(f"{settings.sqlite_path.as_uri()}?mode=ro", uri=True)) as conn:
            return int(conn.execute("SELECT count(*) FROM stored_events").fetchone()[0])
    schema = postgres_parts(settings.database_url)["schema"]
    with psycopg.connect(postgres_url(), autocommit=True, options=f"-c search_path={schema}") as conn:
        row = conn.execute("SELECT count(*) FROM custody_events").fetchone()
        assert row is not None
        return int(row[0])


def assert_refused(answer: Any, status: int, rule: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert int(answer.headers["Retry-After"]) > 0
    problem = answer.json()
    assert (problem["status"], problem["rule"]) == (status, rule)
    said = "stores nothing twice" if rule == "database_unavailable" else "nothing was stored"
    assert said in problem["detail"]


def assert_reads_answer(nurse: Session, product: uuid.UUID) -> None:
    for path in (f"/products/{product}", f"/products/{product}/timeline", "/products"):
        answer = nurse.get(path)
        assert answer.status_code == 200, f"{path}: {answer.text}"


# -- disk full -------------------------------------------------------------------------------------


@contextmanager
def disk_full(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """SQLite: every new connection may not grow the file; PostgreSQL: every INSERT meets a full disk."""
    with monkeypatch.context() as patch:
        if settings.database_url is None:
            create = SQLiteConnectionPool._create_connection

            def capped(pool: SQLiteConnectionPool) -> Any:
                connection = create(pool)
                raw = connection._sqlite_conn
                pages = raw.execute("PRAGMA page_count").fetchone()[0]
                raw.execute(f"PRAGMA max_page_count = {pages}")
                return connection

            patch.setattr(SQLiteConnectionPool, "_create_connection", capped)
        else:
            execute = psycopg.Cursor.execute

            def full(cursor: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
                if "INSERT" in str(query).upper():
                    raise psycopg.errors.DiskFull("could not extend file: No space left on device")
                return execute(cursor, query, *args, **kwargs)

            patch.setattr(psycopg.Cursor, "execute", full)
        yield


def test_a_full_database_refuses_the_write_with_507_stores_nothing_and_still_answers_reads(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = _prepare(settings)
    with TestClient(create_app(settings)) as client:
        nurse = Session(client, "nurse")
        # Stored but not yet read: the read models are behind the log when the disk fills.
        assert nurse.post(f"/products/{product}/events", _annotation("before", first=True)).status_code == 201
        before = stored_events(settings)
    with disk_full(settings, monkeypatch), TestClient(create_app(settings)) as client:
        nurse = Session(client, "nurse")
        large = _annotation("x" * 4000, first=True)
        assert_refused(nurse.post(f"/products/{product}/events", large), 507, "storage_full")
        assert_reads_answer(nurse, product)
        assert stored_events(settings) == before


# -- read-only -------------------------------------------------------------------------------------


@contextmanager
def read_only_directory(directory: Path) -> Iterator[None]:
    """The directory and its files read-only: a read-only file system for root, permissions otherwise."""
    if os.geteuid() != 0:
        modes = {path: path.stat().st_mode for path in [directory, *directory.iterdir()]}
        for path in modes:
            path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    mounted = subprocess.run(["mount", "--bind", str(directory), str(directory)], capture_output=True, check=False)
    if mounted.returncode != 0:
        reason = f"cannot make a read-only file system here: {mounted.stderr.decode().strip()}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)  # in CI (root, a real mount) the read-only store must be tested, never skipped
        pytest.skip(reason)  # outside CI only: with CI=true the line above fails instead
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(directory)], check=True, capture_output=True)
        yield
    finally:
        subprocess.run(["umount", str(directory)], check=True, capture_output=True)


@contextmanager
def read_only_role(settings: Settings) -> Iterator[Settings]:
    """Settings that connect as a role whose every transaction is read-only, with the same privileges."""
    assert settings.database_url is not None
    schema = postgres_parts(settings.database_url)["schema"]
    role = f"custody_ro_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url(), autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'ALTER ROLE "{role}" SET default_transaction_read_only = on')
        conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        conn.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
        conn.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"')
    parsed = urlparse(settings.database_url)
    host = parsed.netloc.rsplit("@", 1)[-1]
    try:
        yield settings.model_copy(update={"database_url": parsed._replace(netloc=f"{role}@{host}").geturl()})
    finally:
        with psycopg.connect(postgres_url(), autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


@contextmanager
def read_only(settings: Settings) -> Iterator[Settings]:
    """The same ledger, as a server that may not write it sees it."""
    if settings.database_url is None:
        with read_only_directory(settings.home):
            yield settings
    else:
        with read_only_role(settings) as restricted:
            yield restricted


def test_a_read_only_database_is_served_signs_people_in_answers_reads_and_refuses_writes_with_503(
    settings: Settings,
) -> None:
    product = _prepare(settings)
    before = stored_events(settings)
    with read_only(settings) as restricted, TestClient(create_app(restricted)) as client:
        nurse = Session(client, "nurse")
        assert_reads_answer(nurse, product)
        refused = nurse.post(f"/products/{product}/events", _annotation("while read-only", first=True))
        assert_refused(refused, 503, "storage_read_only")
        assert stored_events(settings) == before


# -- lock-wait timeout -----------------------------------------------------------------------------


@contextmanager
def write_lock_held(settings: Settings) -> Iterator[None]:
    """Another connection holds the write lock (SQLite) or the event table's lock (PostgreSQL)."""
    if settings.database_url is None:
        with closing(sqlite3.connect(settings.sqlite_path, isolation_level=None, timeout=5)) as holder:
            holder.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                holder.execute("ROLLBACK")
        return
    schema = postgres_parts(settings.database_url)["schema"]
    with psycopg.connect(postgres_url(), options=f"-c search_path={schema}") as holder:
        holder.execute("LOCK TABLE custody_events IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            holder.rollback()


def test_a_write_lock_held_too_long_is_503_database_locked_with_a_short_retry_and_reads_still_answer(
    settings: Settings,
) -> None:
    settings = settings.model_copy(update={"lock_timeout_seconds": 1})
    product = _prepare(settings)
    with TestClient(create_app(settings)) as client:
        nurse = Session(client, "nurse")
        assert nurse.get(f"/products/{product}").status_code == 200
        before = stored_events(settings)
        with write_lock_held(settings):
            refused, seconds = _timed(
                lambda: nurse.post(f"/products/{product}/events", _annotation("while locked", first=True))
            )
            assert_refused(refused, 503, "database_locked")
            assert int(refused.headers["Retry-After"]) <= 2
            assert seconds < 10, f"the refusal took {seconds:.1f} s"
            assert_reads_answer(nurse, product)
        assert stored_events(settings) == before
        again = nurse.post(f"/products/{product}/events", _annotation("after the lock", first=True))
        assert again.status_code == 201, again.text
        # the step, and the heads commitment of the ledger's first checkpoint, signed right after it
        assert stored_events(settings) == before + 2
