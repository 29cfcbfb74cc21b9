"""Property: whatever sequence of steps users attempt, what was accepted verifies and replays to the same state.

Commands are drawn from a small vocabulary on two products; some are valid at
that point, some are refused (wrong state, wrong role, back-dated, no meaning,
wrong password). After the run: refusals stored nothing, the ledger holds
exactly the envelopes ``record`` returned, each product replayed from those
envelopes equals the product the ledger loads (and a simple model of holds and
open deviations), and the whole store verifies intact.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api import demo_journeys as j
from domain.errors import CustodyError
from domain.identifiers import Coi, product_id_for
from domain.product import TherapyProduct
from ledger.envelope import Envelope
from ledger.service import CustodyLedger
from ledger.setup import initialise
from ledger.signing_session import SignatureRefused
from tests.conftest import ADMIN_PASSWORD, make_settings, postgres_url, require_postgres
from tests.integration.journeys import PATIENT, Recorder, password_of, ready, register_team, verify

COMMANDS = (
    "enrol",
    "collect",
    "annotate",
    "deviation",
    "close_deviation",
    "quarantine",
    "lift_quarantine",
    "destroy",
    "wrong_role",
    "back_dated",
    "no_meaning",
    "wrong_password",
)
steps = st.lists(st.tuples(st.sampled_from(COMMANDS), st.integers(min_value=0, max_value=1)), max_size=14)


@contextmanager
def fresh_ledger(backend: str) -> Iterator[CustodyLedger]:
    """A new initialised ledger per example (a temporary home, and a fresh schema on PostgreSQL)."""
    schema = f"custody_prop_{uuid.uuid4().hex[:12]}" if backend == "postgresql" else None
    with tempfile.TemporaryDirectory() as home:
        if schema:
            with psycopg.connect(postgres_url(), autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
        ledger = CustodyLedger(make_settings(backend, Path(home) / "home", schema))
        try:
            initialise(ledger, ADMIN_PASSWORD)
            passwords = register_team(ledger, ("nurse", "physician", "pharmacist", "qp", "auditor"))
            ready(Recorder(ledger, passwords), ledger.clock.now() - timedelta(days=1), diagnosis="systemic_sclerosis")
            yield ledger
        finally:
            ledger.close()
            if schema:
                with psycopg.connect(postgres_url(), autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@dataclass
class Model:
    """What the test expects of one product from the steps the ledger accepted."""

    coi: Coi
    accepted: list[Envelope] = field(default_factory=list)
    quarantined: bool = False
    open_deviations: set[int] = field(default_factory=set)
    last_at: datetime | None = None


def _attempt(ledger: CustodyLedger, model: Model, command: str, when: datetime, serial: int) -> list[Envelope]:
    product = product_id_for(model.coi)

    def record(event_type: str, user: str, meaning: str | None, payload: dict[str, Any], **kw: Any) -> list[Envelope]:
        password = kw.pop("password", password_of(user))
        occurred_at = kw.pop("occurred_at", when)
        return ledger.record(
            event_type, product, payload, user=user, meaning=meaning, password=password, occurred_at=occurred_at
        )

    if command == "enrol":
        return record(
            "ProductEnrolled",
            "physician",
            "approved",
            {
                "coi": model.coi.value,
                "product_kind": "car_t",
                "product_code": "ACADEMIC-CD19",
                "patient_pseudonym": PATIENT,
                "indication": "systemic_sclerosis",
                "treating_physician": "physician",
                "collection_site": j.APHERESIS_SITE,
            },
        )
    if command == "collect":
        return record(
            "ApheresisCollected",
            "nurse",
            "performed",
            {
                "din": f"G123426{serial:06d}",
                "site": j.APHERESIS_SITE,
                "volume_ml": 200 + serial,
                "started_at": (when - timedelta(minutes=1)).isoformat(),
                "ended_at": when.isoformat(),
                "preservation": "fresh",
            },
        )
    if command == "annotate":
        return record("AnnotationAdded", "pharmacist", "authored", {"text": f"note {serial}"})
    if command == "deviation":
        return record(
            "DeviationRecorded", "nurse", "recorded", {"description": f"deviation {serial}", "severity": "minor"}
        )
    if command == "close_deviation":
        version = min(model.open_deviations, default=99)
        return record(
            "DeviationClosed", "pharmacist", "approved", {"deviation_version": version, "resolution": "retrained"}
        )
    if command == "quarantine":
        # The QP holds, the pharmacist lifts: who quarantined never lifts (four eyes).
        return record("ProductQuarantined", "qp", "recorded", {"reason": f"hold {serial}"})
    if command == "lift_quarantine":
        return record("QuarantineLifted", "pharmacist", "approved", {"reason": "assessed", "assessment_ref": "RA-1"})
    if command == "destroy":
        return record(
            "ProductDestroyed",
            "pharmacist",
            "performed",
            {"reason": "patient withdrew", "method": "incineration", "waste_stream": "gmo"},
        )
    if command == "wrong_role":
        return record("AnnotationAdded", "auditor", "authored", {"text": "auditors record nothing"})
    if command == "back_dated":
        earlier = (model.last_at or when) - timedelta(minutes=30)
        return record("AnnotationAdded", "nurse", "authored", {"text": "back-dated"}, occurred_at=earlier)
    if command == "no_meaning":
        return record("AnnotationAdded", "nurse", None, {"text": "unsigned meaning"})
    if command == "wrong_password":
        return record("AnnotationAdded", "nurse", "authored", {"text": "wrong password"}, password="not-the-password")
    raise AssertionError(command)


def _fold(model: Model, envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        if envelope.aggregate_id != product_id_for(model.coi):
            continue  # derived on another aggregate (the DIN's, an LN2 position's): not this product's history
        model.accepted.append(envelope)
        model.last_at = max(model.last_at or envelope.to_record().occurred_at, envelope.to_record().occurred_at)
        if envelope.type == "ProductQuarantined":
            model.quarantined = True
        elif envelope.type == "QuarantineLifted":
            model.quarantined = False
        elif envelope.type == "DeviationRecorded":
            model.open_deviations.add(envelope.version)
        elif envelope.type == "DeviationClosed":
            model.open_deviations.discard(envelope.body["payload"]["deviation_version"])


def _run(backend: str, commands: list[tuple[str, int]]) -> list[bool]:
    """Attempt every command, check the property, and return which commands were accepted."""
    outcomes: list[bool] = []
    with fresh_ledger(backend) as ledger:
        base = ledger.clock.now() - timedelta(days=1)
        models = [Model(j.new_coi("F9999", 26)) for _ in range(2)]
        for serial, (command, index) in enumerate(commands):
            model = models[index]
            size = ledger.store.size()
            try:
                envelopes = _attempt(ledger, model, command, base + timedelta(minutes=serial), serial)
            except (CustodyError, SignatureRefused):
                assert ledger.store.size() == size, f"refused {command} stored something"
                outcomes.append(False)
                continue
            outcomes.append(True)
            assert command not in {"wrong_role", "no_meaning", "wrong_password"}, f"{command} was accepted"
            assert not (command == "back_dated" and model.last_at is not None), "a back-dated step was accepted"
            _fold(model, envelopes)

        for model in models:
            product_id = product_id_for(model.coi)
            history = ledger.history(product_id)
            assert [e.stored for e in history] == [e.stored for e in model.accepted]
            assert [e.version for e in history] == list(range(1, len(history) + 1))
            loaded = ledger.load(product_id)
            if not model.accepted:
                assert loaded is None
                continue
            replayed = TherapyProduct.replay(product_id, (e.to_record() for e in model.accepted))
            assert isinstance(loaded, TherapyProduct)
            assert vars(loaded) == vars(replayed)
            assert loaded.quarantined == model.quarantined
            assert set(loaded.open_deviations) == model.open_deviations
        report = verify(ledger)
        assert report.intact, report.failures
        assert report.events == sum(1 for _ in ledger.store.scan())
    return outcomes


@settings(max_examples=15, deadline=None, database=None)
@given(commands=steps)
def test_any_accepted_history_verifies_and_replays_to_the_same_state_on_sqlite(commands: list[tuple[str, int]]) -> None:
    _run("sqlite", commands)


def test_any_accepted_history_verifies_and_replays_to_the_same_state_on_postgresql() -> None:
    require_postgres()

    @settings(max_examples=4, deadline=None, database=None)
    @given(commands=steps)
    def check(commands: list[tuple[str, int]]) -> None:
        _run("postgresql", commands)

    check()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_mixed_history_of_accepted_and_refused_steps_verifies(backend: str) -> None:
    """One fixed run exercising every command, so each backend sees accepted and refused steps every time."""
    if backend == "postgresql":
        require_postgres()
    script = [
        ("annotate", 0, False),  # no such product yet
        ("enrol", 0, True),
        ("enrol", 0, False),  # already exists
        ("collect", 0, True),
        ("deviation", 0, True),
        ("quarantine", 0, True),
        ("quarantine", 0, False),  # already quarantined
        ("close_deviation", 0, True),
        ("close_deviation", 0, False),  # none open any more
        ("wrong_role", 0, False),
        ("back_dated", 0, False),
        ("no_meaning", 0, False),
        ("wrong_password", 0, False),
        ("enrol", 1, True),
        ("lift_quarantine", 1, False),  # not quarantined
        ("destroy", 1, True),
        ("collect", 1, False),  # destroyed: terminal
        ("annotate", 1, True),  # annotations still allowed
        ("lift_quarantine", 0, True),
    ]
    accepted = _run(backend, [(command, index) for command, index, _ in script])
    assert accepted == [expected for _, _, expected in script]
