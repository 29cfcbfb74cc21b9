"""Shared fixtures: one ledger per test on each backend (SQLite file, fresh PostgreSQL schema)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import initialise

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
ADMIN_PASSWORD = "admin-password"
# Argon2id at test strength: the production default (64 MiB) would make the suite slow, not safer.
FAST_KDF = {"kdf_time_cost": 1, "kdf_memory_kib": 1024, "kdf_parallelism": 1}


def postgres_url() -> str:
    """The server the PostgreSQL tests use."""
    return os.environ.get("CUSTODY_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


def require_postgres() -> None:
    """Skip outside CI when no server answers; in CI a missing server is a failure."""
    try:
        with psycopg.connect(postgres_url(), connect_timeout=3):
            return
    except psycopg.OperationalError as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required in CI and unreachable at {postgres_url()}: {error}")
        pytest.skip(f"PostgreSQL unreachable at {postgres_url()} (outside CI): {error}")


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A fresh schema, dropped after the test."""
    require_postgres()
    schema = f"custody_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with psycopg.connect(postgres_url(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def make_settings(backend: str, home: Path, schema: str | None = None) -> Settings:
    """Settings for one backend, with a private CUSTODY_HOME."""
    url = None
    if backend == "postgresql":
        assert schema is not None
        url = f"{postgres_url()}?schema={schema}"
    return Settings(home=home, database_url=url, **FAST_KDF)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each storage test runs on both backends."""
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings for the backend under test."""
    schema = request.getfixturevalue("postgres_schema") if backend == "postgresql" else None
    return make_settings(backend, tmp_path / "home", schema)


@pytest.fixture
def ledger(settings: Settings) -> Iterator[CustodyLedger]:
    """An initialised ledger with an admin."""
    instance = CustodyLedger(settings)
    initialise(instance, ADMIN_PASSWORD)
    try:
        yield instance
    finally:
        instance.close()


def point_cli_at(settings: Settings, monkeypatch: pytest.MonkeyPatch, **more: str) -> None:
    """The environment a `custody` command reads, pointed at this test's store (and nothing inherited)."""
    for name in list(os.environ):
        if name.startswith("CUSTODY_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CUSTODY_HOME", str(settings.home))
    if settings.database_url:
        monkeypatch.setenv("CUSTODY_DATABASE_URL", settings.database_url)
    for key, value in {**FAST_KDF, **more}.items():
        monkeypatch.setenv("CUSTODY_" + key.upper(), str(value))


def cli_runner(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``run(*argv)`` → (exit code, stdout, stderr) of `custody` run in this process."""
    from api.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run
