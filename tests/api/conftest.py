"""An HTTP API over a scratch ledger on each backend, with a registered team, driven through httpx."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.rest.app import create_app
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import register_staff
from tests.conftest import ADMIN_PASSWORD
from tests.integration.journeys import TEAM, Recorder, password_of, register_team

ROLES = ("nurse", "physician", "pharmacist", "qp", "courier", "sponsor", "auditor", "admin")
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def password(username: str) -> str:
    """Every API test user's password (the admin's is the fixtures' own)."""
    return ADMIN_PASSWORD if username == "admin" else password_of(username)


@pytest.fixture
def team(ledger: CustodyLedger) -> Recorder:
    """The ledger's team (every role, a sponsor included), registered directly on the ledger."""
    passwords = register_team(ledger)
    register_staff(ledger, "sponsor", "Sam Sponsor", "sponsor", password_of("sponsor"), registrar="ledger")
    passwords["sponsor"] = password_of("sponsor")
    return Recorder(ledger, passwords)


class MovableClock:
    """The application's clock, moved by the test (token expiry, lockout, signing idle time)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        """The real time, moved by what the test asked."""
        return datetime.now(UTC) + self.offset

    def advance(self, by: timedelta) -> None:
        """Move time forward."""
        self.offset += by


@pytest.fixture
def clock() -> MovableClock:
    """The clock of the application under test."""
    return MovableClock()


@pytest.fixture
def client(settings: Settings, team: Recorder, clock: MovableClock) -> Iterator[TestClient]:
    """A client of a fresh application on the same store as ``ledger``."""
    with TestClient(create_app(settings, clock=clock)) as test_client:
        yield test_client


class Session:
    """One signed-in person: their bearer header, and a shortcut to record steps."""

    def __init__(self, client: TestClient, username: str) -> None:
        self.client = client
        self.username = username
        answer = client.post("/auth/token", data={"username": username, "password": password(username)})
        assert answer.status_code == 200, answer.text
        self.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def get(self, path: str, **kwargs: Any) -> Any:
        """GET as this person."""
        return self.client.get(path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> Any:
        """POST JSON as this person."""
        return self.client.post(path, json=body, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)


@pytest.fixture
def sign_in(client: TestClient) -> Any:
    """``sign_in("nurse")`` → a Session."""
    return lambda username: Session(client, username)


assert {TEAM[user][1] for user in TEAM} | {"sponsor", "admin"} == set(ROLES)
