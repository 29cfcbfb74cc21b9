"""The web interface over the same scratch ledger and application as the API tests."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import client, clock, password, team  # noqa: F401


def browse_as(client: TestClient, username: str) -> TestClient:  # noqa: F811
    """Sign in through the form; the client keeps the session cookie."""
    client.cookies.clear()
    answer = client.post(
        "/ui/sign-in",
        data={"username": username, "password": password(username), "next": "/ui/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client


@pytest.fixture
def browser_of(client: TestClient) -> Any:  # noqa: F811
    """``browser_of("nurse")`` → the test client, signed in as that person."""
    return lambda username: browse_as(client, username)
