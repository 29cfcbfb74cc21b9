"""An unreachable or locked database: 503 problem+json with Retry-After, nothing stored, and service resumes
without restart — within the Retry-After announced.

PostgreSQL: a small TCP proxy (threads, below) stands between the application and
the server. Closing it refuses new connections and cuts the open ones, as a
database restart or a network cut would; reopening it on the same port brings the
database back. Event counts are read directly from PostgreSQL, never through the
proxy. SQLite: another connection holds an exclusive lock on the database file
(``BEGIN EXCLUSIVE``) for longer than the ledger's lock timeout.
"""

from __future__ import annotations

import contextlib
import select
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.rest.app import create_app
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import initialise
from tests.api.conftest import START, Session
from tests.conftest import ADMIN_PASSWORD, FAST_KDF, postgres_url, require_postgres
from tests.integration.journeys import Recorder, enrolled, password_of, register_team

# How long the application may take to answer while its database is away: the
# PostgreSQL pool waits its connect timeout (5 s) for a connection, SQLite its lock timeout.
DOWN_ANSWER_SECONDS = 15.0
# How long the database stays away: long enough for the pool's reconnect backoff to reach 8 s
# and more, which is what once kept the server refusing for ~20 s after the database was back.
OUTAGE_SECONDS = 12.0


class TcpProxy:
    """Forwards TCP connections from a local port to ``upstream``, until closed; can be reopened on the same port."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._accepting = threading.Event()
        self._thread: threading.Thread | None = None
        self.open()

    @property
    def is_open(self) -> bool:
        """Whether new connections are accepted."""
        return self._listener is not None

    def open(self) -> None:
        """Listen (again, on the same port once one was chosen) and forward every new connection."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accepting.set()
        self._thread = threading.Thread(target=self._accept_loop, args=(listener,), name="tcp-proxy", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Refuse new connections (nothing listens on the port) and cut every open one."""
        listener, self._listener = self._listener, None
        self._accepting.clear()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if listener is not None:
            listener.close()
        with self._lock:
            cut, self._sockets = self._sockets, set()
        for sock in cut:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept_loop(self, listener: socket.socket) -> None:
        while self._accepting.is_set():
            ready, _, _ = select.select([listener], [], [], 0.05)
            if not ready or not self._accepting.is_set():
                continue
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets.update({client, server})
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxied_schema() -> Iterator[tuple[str, TcpProxy]]:
    """A fresh PostgreSQL schema, and a proxy in front of its server."""
    require_postgres()
    parsed = urlparse(postgres_url())
    proxy = TcpProxy((parsed.hostname or "127.0.0.1", parsed.port or 5432))
    schema = f"custody_down_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema, proxy
    finally:
        proxy.close()
        with psycopg.connect(postgres_url(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _proxied_url(schema: str, proxy: TcpProxy) -> str:
    parsed = urlparse(postgres_url())
    netloc = parsed.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    return parsed._replace(
        netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host, query=f"schema={schema}"
    ).geturl()


def _prepare(settings: Settings) -> uuid.UUID:
    """Initialise the store, register a team, and enrol one product; returns the product id."""
    ledger = CustodyLedger(settings)
    try:
        initialise(ledger, ADMIN_PASSWORD)
        passwords = register_team(ledger)
        return enrolled(Recorder(ledger, passwords), START).product
    finally:
        ledger.close()


def _annotation(text: str, first: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "AnnotationAdded", "payload": {"text": text}, "meaning": "authored"}
    if first:
        body["password"] = password_of("nurse")
    return body


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def _assert_unavailable(answer: Any, seconds: float, rule: str = "database_unavailable") -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert int(answer.headers["Retry-After"]) > 0
    problem = answer.json()
    assert problem["status"] == 503
    assert problem["rule"] == rule
    assert seconds < DOWN_ANSWER_SECONDS, f"the answer took {seconds:.1f} s"


def _serves_again_within(client: TestClient, retry_after: int) -> None:
    """The server answers 200 again no later than the Retry-After it announced, counted from the database's return."""
    back = time.monotonic()
    while True:
        answer = client.get("/health")
        if answer.status_code == 200:
            return
        assert answer.status_code == 503, answer.text
        waited = time.monotonic() - back
        assert waited < retry_after, f"still {answer.status_code} {waited:.1f} s after the database came back"
        time.sleep(0.2)


def test_postgresql_unreachable_answers_503_stores_nothing_and_recovers_without_restart(
    proxied_schema: tuple[str, TcpProxy], tmp_path: Path
) -> None:
    schema, proxy = proxied_schema
    settings = Settings(home=tmp_path / "home", database_url=_proxied_url(schema, proxy), **FAST_KDF)  # type: ignore[arg-type]
    product = _prepare(settings)

    def stored() -> int:
        with psycopg.connect(postgres_url(), autocommit=True, options=f"-c search_path={schema}") as conn:
            row = conn.execute("SELECT count(*) FROM custody_events").fetchone()
            assert row is not None
            return int(row[0])

    with TestClient(create_app(settings)) as client:
        nurse = Session(client, "nurse")
        assert nurse.post(f"/products/{product}/events", _annotation("before the cut", first=True)).status_code == 201
        before = stored()

        proxy.close()
        cut = time.monotonic()
        write, write_seconds = _timed(
            lambda: nurse.post(
                f"/products/{product}/events",
                _annotation("during the cut", first=False),
                headers={"Idempotency-Key": "during-the-cut"},
            )
        )
        read, read_seconds = _timed(lambda: nurse.get(f"/products/{product}"))
        health, health_seconds = _timed(lambda: client.get("/health"))

        _assert_unavailable(write, write_seconds)
        _assert_unavailable(read, read_seconds)
        _assert_unavailable(health, health_seconds)
        assert stored() == before
        announced = int(write.headers["Retry-After"])
        while time.monotonic() < cut + OUTAGE_SECONDS:
            assert client.get("/health").status_code == 503
            time.sleep(1.0)

        proxy.open()
        _serves_again_within(client, announced)
        again = nurse.post(
            f"/products/{product}/events",
            _annotation("during the cut", first=False),
            headers={"Idempotency-Key": "during-the-cut"},
        )
        assert again.status_code == 201, again.text
        assert again.headers.get("Idempotent-Replayed") is None
        assert stored() == before + 1
        assert nurse.get(f"/products/{product}").json()["version"] == again.json()["version"]


def test_sqlite_locked_database_answers_503_database_locked_stores_nothing_then_serves_when_released(
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path / "home", lock_timeout_seconds=1, **FAST_KDF)  # type: ignore[arg-type]
    product = _prepare(settings)

    def stored() -> int:
        with closing(sqlite3.connect(settings.sqlite_path)) as conn:
            return int(conn.execute("SELECT count(*) FROM stored_events").fetchone()[0])

    with TestClient(create_app(settings)) as client:
        nurse = Session(client, "nurse")
        assert nurse.post(f"/products/{product}/events", _annotation("before the lock", first=True)).status_code == 201
        before = stored()

        locker = sqlite3.connect(settings.sqlite_path, isolation_level=None, timeout=5)
        try:
            locker.execute("BEGIN EXCLUSIVE")
            write, write_seconds = _timed(
                lambda: nurse.post(f"/products/{product}/events", _annotation("during the lock", first=False))
            )
            keyed, keyed_seconds = _timed(
                lambda: nurse.post(
                    f"/products/{product}/events",
                    _annotation("during the lock, with a key", first=False),
                    headers={"Idempotency-Key": "during-the-lock"},
                )
            )
            _assert_unavailable(write, write_seconds, "database_locked")
            _assert_unavailable(keyed, keyed_seconds, "database_locked")
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert stored() == before

        again = nurse.post(
            f"/products/{product}/events",
            _annotation("during the lock, with a key", first=False),
            headers={"Idempotency-Key": "during-the-lock"},
        )
        assert again.status_code == 201, again.text
        assert stored() == before + 1
        assert client.get("/health").json()["events"] == before + 1
