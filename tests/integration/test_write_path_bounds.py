"""The write path on both backends: a step's default time is read when it is decided, and no event is too big."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import TimeRuleViolation
from ledger.envelope import event_body, seal
from ledger.ledger_meta import LEDGER_USER
from ledger.service import CustodyLedger
from ledger.store import MAX_APPEND_BYTES, MAX_EVENT_BYTES, ConcurrentChange, EventTooLarge
from tests.integration.journeys import TEAM, Recorder, enrolled, password_of, register_team

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class SteppingClock:
    """A clock the test sets; ``stale_once`` makes the next reading lag behind, as a slow request's would."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment
        self.stale: list[datetime] = []

    def now(self) -> datetime:
        """The stale reading first, if one is queued; then the current moment."""
        return self.stale.pop(0) if self.stale else self.moment


@pytest.fixture
def stepping(ledger: CustodyLedger) -> tuple[CustodyLedger, SteppingClock, Recorder]:
    clock = SteppingClock(START)
    ledger.clock = clock
    return ledger, clock, Recorder(ledger, register_team(ledger))


def note(ledger: CustodyLedger, product: object, user: str = "nurse", **kwargs: object) -> list[object]:
    return list(
        ledger.record(
            "AnnotationAdded", product, {"text": f"note by {user}"},  # type: ignore[arg-type]
            user=user, meaning="authored", password=password_of(user), **kwargs,  # type: ignore[arg-type]
        )
    )  # fmt: skip


def test_a_step_without_a_time_is_not_refused_for_a_colleague_s_step_recorded_meanwhile(
    stepping: tuple[CustodyLedger, SteppingClock, Recorder],
) -> None:
    ledger, clock, team = stepping
    journey = enrolled(team, START - timedelta(hours=1))
    clock.moment = START + timedelta(seconds=10)
    note(ledger, journey.product, "physician")  # the colleague's step, at 08:00:10
    clock.stale.append(START + timedelta(seconds=5))  # the nurse's request read "now" at 08:00:05
    clock.moment = START + timedelta(seconds=11)
    [envelope] = note(ledger, journey.product)
    assert envelope.body["occurred_at"] == "2026-03-02T08:00:11.000000Z"  # type: ignore[attr-defined]


def test_a_step_whose_user_gave_the_time_is_still_refused_before_the_previous_step(
    stepping: tuple[CustodyLedger, SteppingClock, Recorder],
) -> None:
    ledger, clock, team = stepping
    journey = enrolled(team, START - timedelta(hours=1))
    clock.moment = START + timedelta(seconds=10)
    note(ledger, journey.product, "physician")
    with pytest.raises(TimeRuleViolation) as refused:
        note(ledger, journey.product, occurred_at=START + timedelta(seconds=5))
    assert refused.value.rule == "before_previous_step"


def test_a_default_time_that_keeps_losing_the_race_is_a_concurrent_change(
    stepping: tuple[CustodyLedger, SteppingClock, Recorder],
) -> None:
    ledger, clock, team = stepping
    journey = enrolled(team, START - timedelta(hours=1))
    clock.moment = START + timedelta(seconds=10)
    note(ledger, journey.product, "physician")
    clock.stale.extend([START + timedelta(seconds=5), START + timedelta(seconds=6)])
    size = ledger.store.size()
    with pytest.raises(ConcurrentChange):
        note(ledger, journey.product)
    assert ledger.store.size() == size


def _ledger_note(ledger: CustodyLedger, text: str, version: int = 1) -> object:
    pair = ledger.meta.ledger_key_pair()
    actor = ledger.actor(LEDGER_USER)[0]
    body = event_body(
        ledger_id=ledger.meta.ledger_id(), aggregate_id=uuid.uuid4(), aggregate_kind="product",
        version=version, event_type="AnnotationAdded", payload={"text": text}, occurred_at=START,
        recorded_at=START, actor=actor, meaning="authored", prev_hash=None, key_id=pair.key_id,
    )  # fmt: skip
    return seal(body, pair)


def test_an_event_larger_than_the_stored_maximum_is_refused_and_nothing_is_stored(ledger: CustodyLedger) -> None:
    register_team(ledger, tuple(TEAM)[:1])
    size = ledger.store.size()
    fits = _ledger_note(ledger, "x" * (MAX_EVENT_BYTES - 2_000))
    too_big = _ledger_note(ledger, "x" * MAX_EVENT_BYTES)
    with pytest.raises(EventTooLarge) as refused:
        ledger.store.append([fits, too_big])  # type: ignore[list-item]
    assert (refused.value.rule, refused.value.field) == ("event_too_large", "payload")
    assert ledger.store.size() == size
    count = MAX_APPEND_BYTES // MAX_EVENT_BYTES + 1
    many = [_ledger_note(ledger, "y" * (MAX_EVENT_BYTES - 2_000)) for _ in range(count)]
    with pytest.raises(EventTooLarge):
        ledger.store.append(many)  # type: ignore[arg-type]
    assert ledger.store.size() == size
    ledger.store.append([fits])  # type: ignore[list-item]
    assert ledger.store.size() == size + 1
