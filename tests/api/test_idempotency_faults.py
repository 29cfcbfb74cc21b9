"""A retried write stores nothing twice, whatever fails and wherever: faults injected at each point."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from api.rest import writes
from api.rest.context import ApiContext
from ledger.envelope import Envelope
from ledger.idempotency import CLAIM_EXPIRY, ClaimLost, IdempotencyKeys
from ledger.service import CustodyLedger
from tests.api.conftest import START, MovableClock, password
from tests.integration.journeys import Recorder, enrolled


def note(text: str = "bag label re-checked") -> dict[str, Any]:
    return {"type": "AnnotationAdded", "meaning": "authored", "payload": {"text": text}, "password": password("nurse")}


def api_context(client: Any) -> ApiContext:
    context: ApiContext = client.app.state.context
    return context


def notes_on(ledger: CustodyLedger, product: uuid.UUID) -> int:
    return sum(1 for envelope in ledger.history(product) if envelope.type == "AnnotationAdded")


def test_a_failure_after_the_commit_still_answers_the_stored_step(
    client: Any, sign_in: Any, team: Recorder, ledger: CustodyLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    journey = enrolled(team, START)
    session = sign_in("nurse")

    def checkpoint_fails(_: Any) -> None:
        raise OperationalError("the checkpoint could not be written")

    monkeypatch.setattr(writes, "checkpoint_if_due", checkpoint_fails)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    answer = session.post(f"/products/{journey.product}/events", note(), headers=key)
    assert answer.status_code == 201, "the step is stored: the answer says so, not 503"
    again = session.post(f"/products/{journey.product}/events", note(), headers=key)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert notes_on(ledger, journey.product) == 1


def test_an_acknowledgement_lost_after_the_commit_is_answered_from_the_store_on_retry(
    client: Any, sign_in: Any, team: Recorder, ledger: CustodyLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    journey = enrolled(team, START)
    session = sign_in("nurse")
    store = api_context(client).ledger.store
    real_append = store.append

    def append_then_lose_the_connection(envelopes: Sequence[Envelope], in_transaction: Sequence[Any] = ()) -> Any:
        real_append(envelopes, in_transaction)
        lost = psycopg.OperationalError("server closed the connection unexpectedly")
        raise OperationalError(str(lost)) from lost

    monkeypatch.setattr(store, "append", append_then_lose_the_connection)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    lost = session.post(f"/products/{journey.product}/events", note(), headers=key)
    assert lost.status_code == 503
    monkeypatch.setattr(store, "append", real_append)
    retry = session.post(f"/products/{journey.product}/events", note(), headers=key)
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["events"][0]["hash"] == ledger.history(journey.product)[-1].hash
    assert notes_on(ledger, journey.product) == 1, "the retry stored nothing twice"


def test_a_failure_inside_the_transaction_stores_neither_step_nor_answer_and_the_retry_stores_once(
    client: Any, sign_in: Any, team: Recorder, ledger: CustodyLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    journey = enrolled(team, START)
    session = sign_in("nurse")
    keys = api_context(client).idempotency
    real_answer = keys.answer_in_transaction

    def answer_then_fail(*args: Any, **kwargs: Any) -> Callable[[Any], None]:
        write = real_answer(*args, **kwargs)

        def failing(cursor: Any) -> None:
            write(cursor)
            raise OperationalError("disk I/O error") from sqlite3.OperationalError("disk I/O error")

        return failing

    monkeypatch.setattr(keys, "answer_in_transaction", answer_then_fail)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    size = ledger.store.size()
    failed = session.post(f"/products/{journey.product}/events", note(), headers=key)
    assert failed.status_code == 503
    assert ledger.store.size() == size, "the events rolled back with the answer"
    monkeypatch.setattr(keys, "answer_in_transaction", real_answer)
    retry = session.post(f"/products/{journey.product}/events", note(), headers=key)
    assert retry.status_code == 201 and "idempotent-replayed" not in retry.headers
    assert notes_on(ledger, journey.product) == 1


def test_a_claim_left_by_a_crashed_request_is_in_progress_then_taken_over_once_it_expires(
    client: Any,
    sign_in: Any,
    team: Recorder,
    ledger: CustodyLedger,
    clock: MovableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    journey = enrolled(team, START)
    session = sign_in("nurse")
    context = api_context(client)

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the server process died here")

    # A crash runs no clean-up: the claim is neither answered nor released.
    monkeypatch.setattr(context.ledger, "record", crash)
    monkeypatch.setattr(context.idempotency, "release", lambda *args: None)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    with pytest.raises(RuntimeError):
        session.post(f"/products/{journey.product}/events", note(), headers=key)
    monkeypatch.undo()

    pending = session.post(f"/products/{journey.product}/events", note(), headers=key)
    assert pending.status_code == 409 and pending.json()["rule"] == "idempotency_in_progress"
    assert 1 <= int(pending.headers["retry-after"]) <= CLAIM_EXPIRY.total_seconds() + 1
    assert notes_on(ledger, journey.product) == 0

    clock.advance(CLAIM_EXPIRY + timedelta(seconds=1))
    taken_over = session.post(f"/products/{journey.product}/events", note(), headers=key)
    assert taken_over.status_code == 201, taken_over.text
    replay = session.post(f"/products/{journey.product}/events", note(), headers=key)
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert notes_on(ledger, journey.product) == 1


def test_a_request_that_wakes_after_its_claim_was_taken_over_stores_nothing(
    team: Recorder, ledger: CustodyLedger
) -> None:
    journey = enrolled(team, START)
    keys = IdempotencyKeys(ledger.store)
    now = ledger.clock.now()
    slow = keys.claim("nurse", "k-1", "request-hash", now)
    retry = keys.claim("nurse", "k-1", "request-hash", now + CLAIM_EXPIRY + timedelta(seconds=1))
    assert retry.token != slow.token
    size = ledger.store.size()
    with pytest.raises(ClaimLost):
        ledger.record(
            "AnnotationAdded", journey.product, {"text": "late copy"},
            user="nurse", meaning="authored", password=password("nurse"),
            with_events=lambda _: [keys.answer_in_transaction(slow, "nurse", "k-1", 201, {"late": True})],
        )  # fmt: skip
    assert ledger.store.size() == size
    ledger.record(
        "AnnotationAdded", journey.product, {"text": "the retry"},
        user="nurse", meaning="authored", password=password("nurse"),
        with_events=lambda _: [keys.answer_in_transaction(retry, "nurse", "k-1", 201, {"retry": True})],
    )  # fmt: skip
    assert keys.claim("nurse", "k-1", "request-hash", now).response == {"retry": True}
    assert notes_on(ledger, journey.product) == 1
