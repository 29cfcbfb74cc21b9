"""`GET /events/stream`: server-sent events of what each person may read, resumable by log position."""

from __future__ import annotations

import json
import threading
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import START, Session, password
from tests.integration.journeys import Recorder, enrolled, enrolled_outside_any_trial


def _read(
    client: TestClient,
    session: Session,
    params: dict[str, Any],
    headers: dict[str, str] | None = None,
    opened: threading.Event | None = None,
) -> list:
    """The messages of a bounded stream: (id, event, data) each; ``opened`` is set once the stream has begun."""
    found = []
    with client.stream("GET", "/events/stream", params=params, headers={**session.headers, **(headers or {})}) as got:
        assert got.status_code == 200, got.read()
        assert got.headers["content-type"].startswith("text/event-stream")
        message: dict[str, str] = {}
        for line in got.iter_lines():
            if opened is not None and line.startswith("retry:"):
                opened.set()  # the server has taken its starting position: what is written now is pushed
            if line == "":
                if "id" in message:
                    found.append((int(message["id"]), message["event"], json.loads(message["data"])))
                message = {}
                continue
            name, _, value = line.partition(": ")
            message[name] = value
    return found


def _annotation(text: str) -> dict[str, Any]:
    return {"type": "AnnotationAdded", "payload": {"text": text}, "meaning": "authored", "password": password("nurse")}


def test_the_stream_replays_from_a_position_and_carries_no_payload(client: TestClient, team: Recorder) -> None:
    journey = enrolled(team, START)
    nurse = Session(client, "nurse")
    size = team.ledger.store.size()
    messages = _read(client, nurse, {"after": size - 1, "limit": 1})
    assert len(messages) == 1
    position, event, data = messages[0]
    assert (position, event) == (size, "ProductEnrolled")
    assert data["aggregate_id"] == str(journey.product) and data["position"] == size
    assert "payload" not in data and "patient_pseudonym" not in json.dumps(data), "no payload in a notice"


def test_a_new_event_is_pushed_and_a_reconnection_resumes_after_the_last_id(client: TestClient, team: Recorder) -> None:
    journey = enrolled(team, START)
    nurse = Session(client, "nurse")
    received: list = []
    asked: dict[str, Any] = {"limit": 2, "types": "AnnotationAdded", "idle": 20}
    opened = threading.Event()
    listener = threading.Thread(target=lambda: received.extend(_read(client, nurse, asked, opened=opened)))
    listener.start()
    assert opened.wait(timeout=30), "the stream did not open"
    for text in ("first", "second", "third"):
        posted = nurse.post(f"/products/{journey.product}/events", _annotation(text) if text == "first" else
                            {**_annotation(text), "password": None})  # fmt: skip
        assert posted.status_code == 201, posted.text
    listener.join(timeout=30)
    assert not listener.is_alive()
    assert [event for _, event, _ in received] == ["AnnotationAdded", "AnnotationAdded"]
    last = received[-1][0]
    resumed = _read(client, nurse, asked | {"limit": 1}, headers={"Last-Event-ID": str(last)})
    assert [e for _, e, _ in resumed] == ["AnnotationAdded"] and resumed[0][0] > last, "nothing twice"
    third = [p for p, e, _ in _read(client, nurse, asked | {"after": last, "limit": 1})]
    assert [p for p, _, _ in resumed] == third, "nothing missed: the next one after the last id"


def test_a_sponsor_is_told_only_of_its_trials_products(client: TestClient, team: Recorder) -> None:
    start = team.ledger.store.size()
    in_trial = enrolled(team, START)  # the demo trial, whose sponsor user is "sponsor"
    outside = enrolled_outside_any_trial(team, START).product
    end = team.ledger.store.size()
    sponsor, nurse = Session(client, "sponsor"), Session(client, "nurse")
    told = {data["aggregate_id"] for _, _, data in _read(client, sponsor, {"after": start, "idle": 2})}
    assert told == {str(in_trial.product)}
    # The nurse is told of both products, and of the register events between them.
    nurse_told = _read(client, nurse, {"after": start, "limit": end - start, "idle": 2})
    ids = {data["aggregate_id"] for _, _, data in nurse_told}
    assert {str(in_trial.product), str(outside)} <= ids
    sponsor_kinds = {data["aggregate_kind"] for _, _, data in _read(client, sponsor, {"after": start, "idle": 2})}
    assert sponsor_kinds == {"product"}


def test_a_bad_last_event_id_is_refused_naming_the_header(client: TestClient, team: Recorder) -> None:
    nurse = Session(client, "nurse")
    answer = client.get("/events/stream", headers={**nurse.headers, "Last-Event-ID": "yesterday"})
    assert answer.status_code == 422
    assert (answer.json()["rule"], answer.json()["field"]) == ("invalid_log_position", "Last-Event-ID")


def test_an_unknown_event_type_is_refused_naming_the_field(client: TestClient, team: Recorder) -> None:
    nurse = Session(client, "nurse")
    answer = client.get("/events/stream", params={"types": "AnnotationAdded,Teleported"}, headers=nurse.headers)
    assert answer.status_code == 422
    assert (answer.json()["rule"], answer.json()["field"]) == ("unknown_event_type", "types")
    assert "Teleported" in answer.json()["detail"]
    # Every type the log holds may be asked for, the staff record's and the ledger's own included.
    admin = Session(client, "admin")
    told = _read(client, admin, {"after": 0, "idle": 1, "types": "StaffMemberRegistered,AggregateHeadsCommitted"})
    assert told and {event for _, event, _ in told} <= {"StaffMemberRegistered", "AggregateHeadsCommitted"}
    assert "StaffMemberRegistered" in {event for _, event, _ in told}


def test_idle_closes_a_caught_up_stream(client: TestClient, team: Recorder) -> None:
    enrolled(team, START)
    nurse = Session(client, "nurse")
    caught_up = _read(client, nurse, {"after": 0, "idle": 1, "types": "ProductEnrolled"})
    assert [event for _, event, _ in caught_up] == ["ProductEnrolled"]


def test_the_stream_needs_a_reader(client: TestClient) -> None:
    assert client.get("/events/stream").status_code == 401
