"""No input can halt or bloat the ledger: sizes, depth, text and times are refused cleanly, nothing stored."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from api.rest.body_limits import BodyLimit
from ledger.service import CustodyLedger
from tests.api.conftest import START, password
from tests.integration.journeys import Recorder, enrolled


def note(text: str = "bag label re-checked") -> dict[str, Any]:
    return {"type": "AnnotationAdded", "meaning": "authored", "payload": {"text": text}, "password": password("nurse")}


def test_a_body_announced_larger_than_the_limit_is_413_before_anyone_is_authenticated(
    client: Any, ledger: CustodyLedger
) -> None:
    limit = ledger.settings.max_body_bytes
    size = ledger.store.size()
    answer = client.post(
        "/products/00000000-0000-0000-0000-00000000beef/events",
        content=b"x" * (limit + 1),
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert (answer.json()["rule"], answer.json()["field"]) == ("body_too_large", "body")
    assert ledger.store.size() == size


def test_a_huge_signed_in_write_is_refused_and_the_next_write_answers_at_once(
    client: Any, sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = enrolled(team, START)
    session = sign_in("nurse")
    size = ledger.store.size()
    huge = json.dumps(note("x" * 10_000_000)).encode()
    refused = client.post(
        f"/products/{journey.product}/events",
        content=huge,
        headers={**session.headers, "content-type": "application/json"},
    )
    assert refused.status_code == 413
    assert ledger.store.size() == size
    started = time.monotonic()
    accepted = session.post(f"/products/{journey.product}/events", note())
    assert accepted.status_code == 201, accepted.text
    assert time.monotonic() - started < 5, "a refused huge request must leave nothing holding the write lock"


def test_a_note_too_long_for_its_field_is_422_naming_it(sign_in: Any, team: Recorder, ledger: CustodyLedger) -> None:
    journey = enrolled(team, START)
    size = ledger.store.size()
    answer = sign_in("nurse").post(f"/products/{journey.product}/events", note("x" * 4001))
    assert answer.status_code == 422
    assert (answer.json()["field"], answer.json()["rule"]) == ("payload.text", "text_too_long")
    assert ledger.store.size() == size


def test_a_body_nested_thousands_deep_is_422_not_a_server_error(
    client: Any, sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = enrolled(team, START)
    session = sign_in("nurse")
    size = ledger.store.size()
    for depth in (40, 50_000):
        body = b'{"type": "AnnotationAdded", "payload": ' + b"[" * depth + b"]" * depth + b"}"
        answer = client.post(
            f"/products/{journey.product}/events",
            content=body,
            headers={**session.headers, "content-type": "application/json"},
        )
        assert answer.status_code == 422, (depth, answer.text)
        assert (answer.json()["rule"], answer.json()["field"]) == ("too_deep", "body")
    admin = sign_in("admin")
    staff = client.post(
        "/staff", content=b"[" * 50_000 + b"]" * 50_000, headers={**admin.headers, "content-type": "application/json"}
    )
    assert staff.status_code == 422 and staff.headers["content-type"] == "application/problem+json"
    assert ledger.store.size() == size


def test_control_characters_and_lone_surrogates_are_refused_naming_their_field(
    client: Any, sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = enrolled(team, START)
    session = sign_in("nurse")
    size = ledger.store.size()
    nul = session.post(f"/products/{journey.product}/events", note("seal\u0000intact"))
    assert nul.status_code == 422
    assert (nul.json()["field"], nul.json()["rule"]) == ("payload.text", "control_character")
    surrogate = client.post(
        f"/products/{journey.product}/events",
        content=b'{"type": "AnnotationAdded", "meaning": "authored", "payload": {"text": "half \\ud800"}}',
        headers={**session.headers, "content-type": "application/json"},
    )
    assert surrogate.status_code == 422
    assert (surrogate.json()["field"], surrogate.json()["rule"]) == ("payload.text", "invalid_unicode")
    assert ledger.store.size() == size
    assert session.get("/products").status_code == 200
    assert session.get(f"/products/{journey.product}/timeline").status_code == 200


def test_times_that_overflow_once_in_utc_are_422_wherever_they_are_given(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = enrolled(team, START)
    session = sign_in("nurse")
    size = ledger.store.size()
    extreme = "0001-01-01T00:00:00+14:00"
    step = session.post(f"/products/{journey.product}/events", {**note(), "occurred_at": extreme})
    assert step.status_code == 422 and step.json()["field"] == "occurred_at"
    as_of = session.get(f"/products/{journey.product}", params={"as_of": extreme})
    assert as_of.status_code == 422 and as_of.json()["field"] == "as_of"
    since = sign_in("auditor").get("/audit", params={"since": extreme})
    assert since.status_code == 422 and since.json()["field"] == "since"
    ancient = session.post(f"/products/{journey.product}/events", {**note(), "occurred_at": "0001-01-02T00:00:00Z"})
    assert ancient.status_code == 409 and ancient.json()["rule"] == "occurred_too_long_ago"
    assert ledger.store.size() == size


def test_enrolment_with_another_type_names_type(sign_in: Any, ledger: CustodyLedger) -> None:
    size = ledger.store.size()
    answer = sign_in("physician").post("/products", {**note(), "password": password("physician")})
    assert answer.status_code == 422
    assert (answer.json()["field"], answer.json()["rule"]) == ("type", "unknown_event_type")
    assert ledger.store.size() == size


def test_a_nul_in_a_sign_in_username_is_a_plain_401(client: Any) -> None:
    answer = client.post("/auth/token", data={"username": "nurse\u0000", "password": "whatever-it-is"})
    assert answer.status_code == 401
    assert answer.json()["rule"] == "bad_credentials"


def test_an_idempotent_replay_carries_the_etag(sign_in: Any, team: Recorder) -> None:
    journey = enrolled(team, START)
    session = sign_in("nurse")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = session.post(f"/products/{journey.product}/events", note(), headers=key)
    again = session.post(f"/products/{journey.product}/events", note(), headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["etag"] == first.headers["etag"] == f'"{first.json()["version"]}"'


async def _reading_app(scope: Scope, receive: Receive, send: Send) -> None:
    body = await Request(scope, receive).body()
    await Response(f"read {len(body)} bytes")(scope, receive, send)


def test_a_streamed_body_is_refused_as_it_passes_the_limit_never_read_whole() -> None:
    limit, chunk = 64 * 1024, b"x" * 16 * 1024
    chunks_sent = 0

    async def receive() -> Message:
        nonlocal chunks_sent
        chunks_sent += 1
        return {"type": "http.request", "body": chunk, "more_body": chunks_sent < 6400}  # 100 MiB offered

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    asyncio.run(BodyLimit(_reading_app, limit)(scope, receive, send))
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["rule"] == "body_too_large"
    assert chunks_sent == limit // len(chunk) + 1, "reading stops at the first chunk past the limit"
    assert len(sent) == 2, "nothing the application tried to send afterwards reaches the client"


def test_a_streamed_body_within_the_limit_reaches_the_application_whole() -> None:
    parts = [b"a" * 1000, b"b" * 1000, b""]

    async def receive() -> Message:
        part = parts.pop(0)
        return {"type": "http.request", "body": part, "more_body": bool(parts)}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    asyncio.run(BodyLimit(_reading_app, 4096)(scope, receive, send))
    assert sent[0]["status"] == 200 and sent[1]["body"] == b"read 2000 bytes"
