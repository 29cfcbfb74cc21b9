"""Integration fixtures shared by the backup tests: the empty store a backup is restored into, and opening it."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from ledger.service import CustodyLedger
from ledger.settings import Settings
from tests.conftest import make_settings, postgres_url


@pytest.fixture
def target(ledger: CustodyLedger, backend: str, tmp_path: Path) -> Iterator[Settings]:
    """An empty store of the same backend whose home holds the source's master.key only (never identity.kek)."""
    home = tmp_path / "restored-home"
    home.mkdir()
    shutil.copy(ledger.settings.home / "master.key", home / "master.key")
    if backend == "sqlite":
        yield make_settings("sqlite", home)
        return
    schema = f"custody_restored_{uuid.uuid4().hex[:12]}"
    try:
        yield make_settings("postgresql", home, schema)
    finally:
        with psycopg.connect(postgres_url(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def open_target(target: Settings) -> Iterator[Callable[[], CustodyLedger]]:
    """Open the restored ledger (after the test restored it); closed afterwards."""
    opened: list[CustodyLedger] = []

    def make() -> CustodyLedger:
        opened.append(CustodyLedger(target))
        return opened[-1]

    yield make
    for instance in opened:
        instance.close()
