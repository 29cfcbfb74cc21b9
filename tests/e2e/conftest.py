"""End-to-end fixtures: the `custody` command run as a real subprocess against a private ledger.

Every run gets its own environment: a private CUSTODY_HOME, a test-strength
Argon2id, and for PostgreSQL a fresh schema; no CUSTODY_* variable of the
developer's shell leaks in, and standard input is never a terminal.

A demonstration ledger costs two subprocesses (init, demo), so read-only tests
share one per backend for the whole session (`demo_ledger`); tests that record
share one per module (`scratch_ledger`) and only assert relative changes; tests
that tamper, or need an empty home, get their own (`fresh_demo`, `empty_ledger`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import postgres_url, require_postgres

REPO = Path(__file__).resolve().parents[2]
BACKENDS = ["sqlite", "postgresql"]
FAST_KDF_ENV = {"CUSTODY_KDF_MEMORY_KIB": "1024", "CUSTODY_KDF_TIME_COST": "1", "CUSTODY_KDF_PARALLELISM": "1"}
TIMEOUT_SECONDS = 120


def custody_command() -> list[str]:
    """The CLI as users run it, through the interpreter of this test run (works in any venv)."""
    return [sys.executable, "-m", "api.cli"]


@dataclass
class Custody:
    """One private ledger (home directory, backend, schema) and the CLI pointed at it."""

    backend: str
    home: Path
    schema: str | None = None
    demo: dict[str, Any] = field(default_factory=dict)

    @property
    def database_url(self) -> str | None:
        """CUSTODY_DATABASE_URL for this ledger (None: SQLite in the home)."""
        return f"{postgres_url()}?schema={self.schema}" if self.backend == "postgresql" else None

    @property
    def sqlite_path(self) -> Path:
        """The SQLite file the CLI uses when no database URL is set."""
        return self.home / "custody.sqlite3"

    def env(self, **extra: str) -> dict[str, str]:
        """The subprocess environment: the caller's, minus every CUSTODY_* variable, plus this ledger's."""
        env = {name: value for name, value in os.environ.items() if not name.startswith("CUSTODY_")}
        env.update(FAST_KDF_ENV)
        env["CUSTODY_HOME"] = str(self.home)
        if self.database_url:
            env["CUSTODY_DATABASE_URL"] = self.database_url
        env.update(extra)
        return env

    def run(
        self, *args: str, stdin: str | None = None, expect: int | None = 0, **extra_env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run `custody ARGS…`; assert the exit code unless ``expect`` is None."""
        result = subprocess.run(
            [*custody_command(), *args],
            cwd=REPO,
            env=self.env(**extra_env),
            input=stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
        if expect is not None:
            assert result.returncode == expect, (
                f"`custody {' '.join(args)}` exited {result.returncode}, expected {expect}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def run_json(self, *args: str, stdin: str | None = None, expect: int | None = 0, **extra_env: str) -> Any:
        """Run with --json and parse standard output, which must be exactly one JSON document on one line."""
        result = self.run(*args, "--json", stdin=stdin, expect=expect, **extra_env)
        lines = result.stdout.splitlines()
        assert len(lines) == 1, f"expected one JSON line, got {len(lines)}:\n{result.stdout}"
        return json.loads(lines[0])

    def ledger_size(self) -> int:
        """Events in the ledger, as `custody verify --json` counts them."""
        return int(self.run_json("verify")["events"])

    def stored_rows(self) -> int:
        """Rows in the event table, read directly (no subprocess)."""
        if self.backend == "sqlite":
            with closing(sqlite3.connect(self.sqlite_path)) as conn:
                return int(conn.execute("SELECT count(*) FROM stored_events").fetchone()[0])
        with self.pg() as conn:
            row = conn.execute("SELECT count(*) FROM custody_events").fetchone()
            assert row is not None
            return int(row[0])

    def pg(self) -> psycopg.Connection[Any]:
        """A direct autocommit connection to this ledger's PostgreSQL schema."""
        assert self.schema is not None, "not a PostgreSQL ledger"
        return psycopg.connect(postgres_url(), autocommit=True, options=f"-c search_path={self.schema}")

    def admin_password(self) -> str:
        """The generated admin password `custody init` saved in the home."""
        return (self.home / "admin-password.txt").read_text().strip()

    def initialise_with_demo(self) -> Custody:
        """`custody init` then `custody demo --json`; keeps the demo summary."""
        self.run("init")
        self.demo = self.run_json("demo")
        return self


@contextmanager
def private_store(backend: str, base: Path) -> Iterator[Custody]:
    """An empty home under ``base`` and, for PostgreSQL, a fresh schema dropped afterwards."""
    if backend == "sqlite":
        yield Custody(backend, base / "home")
        return
    require_postgres()
    schema = f"custody_e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield Custody(backend, base / "home", schema)
    finally:
        with psycopg.connect(postgres_url(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def empty_ledger(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Custody:
    """A home with nothing in it yet (and an empty schema), on each backend."""
    schema = request.getfixturevalue("postgres_schema") if backend == "postgresql" else None
    return Custody(backend, tmp_path / "home", schema)


@pytest.fixture
def fresh_demo(empty_ledger: Custody) -> Custody:
    """A demonstration ledger of this test's own, free to tamper with."""
    return empty_ledger.initialise_with_demo()


@pytest.fixture(scope="session", params=BACKENDS)
def demo_ledger(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Custody]:
    """One demonstration ledger per backend, shared by every test that only reads it."""
    with private_store(request.param, tmp_path_factory.mktemp(f"demo-{request.param}")) as custody:
        yield custody.initialise_with_demo()


@pytest.fixture(scope="module", params=BACKENDS)
def scratch_ledger(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Custody]:
    """A demonstration ledger per backend for one module's tests that record (they assert relative changes)."""
    with private_store(request.param, tmp_path_factory.mktemp(f"scratch-{request.param}")) as custody:
        yield custody.initialise_with_demo()
