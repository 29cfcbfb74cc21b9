"""Two users record a step on the same product at the same moment: one wins, nothing is lost.

Each user works through their own ``CustodyLedger`` (their own connections) on
the same database. A barrier placed in front of the store's append makes both
decide on the same head before either writes, so the race happens every time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.envelope import Envelope
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import initialise
from ledger.store import ConcurrentChange
from tests.conftest import ADMIN_PASSWORD, make_settings
from tests.integration.journeys import Journey, enrolled, password_of, team, verify

ROUNDS = 20
USERS = ("nurse", "pharmacist")


def _gate(ledger: CustodyLedger, barrier: threading.Barrier) -> None:
    """Make this ledger wait at the barrier just before it appends (after it decided on its head)."""
    append: Callable[..., list[int]] = ledger.store.append

    def gated(envelopes: Sequence[Envelope], in_transaction: Sequence[Any] = ()) -> list[int]:
        barrier.wait()
        return append(envelopes, in_transaction)

    ledger.store.append = gated  # type: ignore[method-assign]


def _race(settings: Settings, journey: Journey) -> list[tuple[str, list[Envelope] | Exception]]:
    """Run ROUNDS rounds of two simultaneous annotations; return every outcome."""
    ledgers = [CustodyLedger(settings) for _ in USERS]
    barrier = threading.Barrier(len(USERS), timeout=30)
    for instance in ledgers:
        _gate(instance, barrier)
    outcomes: list[tuple[str, list[Envelope] | Exception]] = []
    lock = threading.Lock()

    def attempt(instance: CustodyLedger, user: str, round_no: int) -> None:
        try:
            result: list[Envelope] | Exception = instance.record(
                "AnnotationAdded",
                journey.product,
                {"text": f"round {round_no}: note by {user}"},
                user=user,
                meaning="authored",
                password=password_of(user),
            )
        except Exception as error:
            result = error
        with lock:
            outcomes.append((user, result))

    try:
        for round_no in range(ROUNDS):
            threads = [
                threading.Thread(target=attempt, args=(instance, user, round_no))
                for instance, user in zip(ledgers, USERS, strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
                assert not thread.is_alive()
            assert not barrier.broken
    finally:
        for instance in ledgers:
            instance.close()
    return outcomes


def _assert_one_winner_per_round_and_nothing_lost(
    ledger: CustodyLedger, journey: Journey, outcomes: list[tuple[str, list[Envelope] | Exception]], before: int
) -> None:
    successes = [result for _, result in outcomes if not isinstance(result, Exception)]
    errors = [result for _, result in outcomes if isinstance(result, Exception)]
    assert len(outcomes) == 2 * ROUNDS
    assert all(isinstance(error, ConcurrentChange) for error in errors), errors
    assert len(successes) == ROUNDS and len(errors) == ROUNDS
    history = ledger.history(journey.product)
    assert [e.version for e in history] == list(range(1, len(history) + 1))
    assert len(history) == before + ROUNDS
    stored = {e.hash for e in history}
    for envelopes in successes:
        assert isinstance(envelopes, list)
        assert {e.hash for e in envelopes} <= stored
    assert [e.type for e in history[before:]] == ["AnnotationAdded"] * ROUNDS
    report = verify(ledger)
    assert report.intact, report.failures
    # every stored row was checked (PostgreSQL positions may skip the numbers a refused insert took)
    assert report.events == sum(1 for _ in ledger.store.scan())


@pytest.fixture
def postgres_ledger(postgres_schema: str, tmp_path: Path) -> Iterator[CustodyLedger]:
    """An initialised PostgreSQL ledger built here rather than by the two-backend fixture."""
    settings = make_settings("postgresql", tmp_path / "home", postgres_schema)
    instance = CustodyLedger(settings)
    initialise(instance, ADMIN_PASSWORD)
    try:
        yield instance
    finally:
        instance.close()


def _product(ledger: CustodyLedger) -> Journey:
    rec = team(ledger, ("physician", *USERS))
    return enrolled(rec, ledger.clock.now() - timedelta(days=1))


def test_two_users_recording_at_once_on_postgresql_one_wins_and_nothing_is_lost(
    postgres_ledger: CustodyLedger,
) -> None:
    journey = _product(postgres_ledger)
    before = len(postgres_ledger.history(journey.product))
    outcomes = _race(postgres_ledger.settings, journey)
    _assert_one_winner_per_round_and_nothing_lost(postgres_ledger, journey, outcomes, before)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_two_users_recording_at_once_on_sqlite_one_wins_and_nothing_is_lost(ledger: CustodyLedger) -> None:
    journey = _product(ledger)
    before = len(ledger.history(journey.product))
    outcomes = _race(ledger.settings, journey)
    _assert_one_winner_per_round_and_nothing_lost(ledger, journey, outcomes, before)


def test_the_loser_can_reload_and_record_its_step(postgres_ledger: CustodyLedger) -> None:
    """ConcurrentChange means 'reload and try again': the retry is accepted and chained after the winner."""
    journey = _product(postgres_ledger)
    settings = postgres_ledger.settings
    ledgers = [CustodyLedger(settings) for _ in USERS]
    barrier = threading.Barrier(2, timeout=30)
    try:
        for instance in ledgers:
            _gate(instance, barrier)
        results: dict[str, Any] = {}

        def attempt(instance: CustodyLedger, user: str) -> None:
            try:
                results[user] = instance.record(
                    "AnnotationAdded",
                    journey.product,
                    {"text": f"note by {user}"},
                    user=user,
                    meaning="authored",
                    password=password_of(user),
                )
            except ConcurrentChange as error:
                results[user] = error

        threads = [threading.Thread(target=attempt, args=pair) for pair in zip(ledgers, USERS, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        [loser] = [user for user, result in results.items() if isinstance(result, ConcurrentChange)]
        [winner] = [user for user in USERS if user != loser]
        retry_ledger = CustodyLedger(settings)
        try:
            [retried] = retry_ledger.record(
                "AnnotationAdded",
                journey.product,
                {"text": f"note by {loser}"},
                user=loser,
                meaning="authored",
                password=password_of(loser),
            )
        finally:
            retry_ledger.close()
    finally:
        for instance in ledgers:
            instance.close()
    [won] = results[winner]
    assert retried.version == won.version + 1 and retried.body["prev_hash"] == won.hash
    assert verify(postgres_ledger).intact
