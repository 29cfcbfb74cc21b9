"""A locked sign-in says until when, in the site's time, in the person's language."""

from __future__ import annotations

from fastapi.testclient import TestClient
from freezegun import freeze_time

from tests.api.conftest import password


@freeze_time("2026-03-02 08:00:00")  # 09:00 in Paris (UTC+1 in March)
def test_the_lockout_page_names_the_time_it_ends_in_the_sites_zone(client: TestClient) -> None:
    for n in range(4):
        wrong = client.post("/ui/sign-in", data={"username": "nurse", "password": f"wrong-{n}", "next": "/ui/"})
        assert wrong.status_code == 401 and "Identifiant inconnu ou mot de passe erroné" in wrong.text
    locked = client.post("/ui/sign-in", data={"username": "nurse", "password": "wrong-5", "next": "/ui/"})
    assert locked.status_code == 429
    # Five failures lock for 15 minutes (the shipped defaults): until 08:15 UTC, 09:15 at the site.
    assert "la connexion est bloquée jusqu&#39;à" in locked.text and "09:15" in locked.text
    assert "08:15" not in locked.text, "the site's time, not UTC"
    right = client.post("/ui/sign-in", data={"username": "nurse", "password": password("nurse"), "next": "/ui/"})
    assert right.status_code == 429 and "09:15" in right.text, "the right password is refused while locked"
    client.cookies.set("lang", "en")
    english = client.post("/ui/sign-in", data={"username": "nurse", "password": "x", "next": "/ui/"})
    assert "signing in is locked until" in english.text and "09:15" in english.text
