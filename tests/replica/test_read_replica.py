"""Reads served by a real streaming replica; writes and signatures on the primary; read-your-writes kept.

The replica's WAL replay is paused by the test (``pg_wal_replay_pause``) to make it
lag on purpose: the writer's own next read must then come from the primary and show
the write, while another person's read still comes from the replica, without it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.rest.app import create_app
from ledger.settings import Settings
from tests.api.conftest import Session
from tests.api.test_database_down import _annotation, _prepare
from tests.conftest import FAST_KDF
from tests.replica.clusters import Pair, primary_and_replica


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    with primary_and_replica() as started:
        yield started


@pytest.fixture
def settings(pair: Pair, tmp_path: Path) -> Settings:
    schema = f"custody_{uuid.uuid4().hex[:10]}"
    return Settings(
        home=tmp_path / "home", database_url=pair.url(pair.primary_port, schema),
        read_database_url=pair.url(pair.replica_port, schema), replica_wait_ms=300, **FAST_KDF,
    )  # type: ignore[arg-type]  # fmt: skip


def _replay(pair: Pair, action: str) -> None:
    with psycopg.connect(f"host=127.0.0.1 port={pair.replica_port} user=postgres dbname=postgres") as conn:
        conn.execute(f"SELECT pg_wal_replay_{action}()")


def _events(session: Session, product: uuid.UUID) -> tuple[int, str]:
    answer = session.get(f"/products/{product}/timeline")
    assert answer.status_code == 200, answer.text
    return len(answer.json()["events"]), answer.headers["X-Read-From"]


def _until_replica(session: Session, product: uuid.UUID, count: int) -> None:
    deadline = time.monotonic() + 30
    while _events(session, product) != (count, "replica"):
        assert time.monotonic() < deadline, "the replica never caught up"
        time.sleep(0.1)


def test_reads_come_from_the_replica_and_a_writer_always_sees_their_write(settings: Settings, pair: Pair) -> None:
    product = _prepare(settings)
    with TestClient(create_app(settings)) as client:
        nurse, physician = Session(client, "nurse"), Session(client, "physician")
        _until_replica(physician, product, 1)  # enrolled: one event, read from the replica
        status = physician.get(f"/products/{product}")
        assert status.status_code == 200 and status.headers["X-Read-From"] == "replica"

        written = nurse.post(f"/products/{product}/events", _annotation("seen at once by its writer", first=True))
        assert written.status_code == 201, written.text
        assert int(written.headers["X-Log-Position"]) > 0
        assert _events(nurse, product)[0] == 2, "read-your-writes: the writer's next read shows the write"

        _replay(pair, "pause")
        try:
            again = nurse.post(f"/products/{product}/events", _annotation("while the replica is paused", first=False))
            assert again.status_code == 201, again.text
            assert _events(nurse, product) == (3, "primary"), "the replica is behind: the writer reads the primary"
            assert _events(physician, product) == (2, "replica"), "another person reads the (lagging) replica"
            told = physician.get(
                f"/products/{product}/timeline", headers={"X-Min-Log-Position": again.headers["X-Log-Position"]}
            )
            assert (len(told.json()["events"]), told.headers["X-Read-From"]) == (3, "primary")
        finally:
            _replay(pair, "resume")
        _until_replica(physician, product, 3)

        auditor = Session(client, "auditor")
        verified = auditor.get("/verify")
        assert verified.status_code == 200 and verified.json()["intact"] is True
        assert verified.headers["X-Read-From"] == "replica"


def test_a_bad_log_position_is_refused_naming_the_header(settings: Settings) -> None:
    product = _prepare(settings)
    with TestClient(create_app(settings)) as client:
        answer = Session(client, "nurse").get(f"/products/{product}", headers={"X-Min-Log-Position": "soon"})
    assert answer.status_code == 422
    assert (answer.json()["rule"], answer.json()["field"]) == ("invalid_log_position", "X-Min-Log-Position")


def test_a_replica_needs_a_postgresql_primary(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CUSTODY_READ_DATABASE_URL needs CUSTODY_DATABASE_URL"):
        Settings(home=tmp_path, read_database_url="postgresql://postgres@127.0.0.1:5432/test")
    with pytest.raises(ValueError, match="must start with postgresql://"):
        Settings(home=tmp_path, database_url="postgresql://x@h/db", read_database_url="mysql://h/db")
