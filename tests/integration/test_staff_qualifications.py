"""Training records and printed names through the real ledger, on both backends.

A step signed by someone whose qualification has lapsed on the clock's date is refused
with nothing stored, and accepted once an administrator renews it; the staff record, the
printed-name claims and every step still verify; two registrations of one printed name
racing each other cannot both land.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time

from api import demo_journeys as j
from domain.errors import RuleViolation
from domain.printed_names import PrintedName, printed_name_id_for
from domain.staff import StaffMember, staff_id_for
from ledger.envelope import Envelope
from ledger.ledger_meta import LEDGER_USER
from ledger.service import CustodyLedger
from ledger.setup import register_staff, revoke_key
from ledger.staff_training import describe_staff, record_qualification, staff_record, withdraw_qualification
from ledger.store import ConcurrentChange
from tests.integration.journeys import Journey, enrolled, team, verify

NOON = (datetime.now(UTC) + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
"""Tomorrow at noon: after the team's registration, so every history reads in the order it was recorded."""
TODAY = NOON.date()


def collect(ledger: CustodyLedger, journey: Journey, at: datetime) -> list[Envelope]:
    """The nurse records the apheresis of ``journey``'s patient."""
    return ledger.record(
        "ApheresisCollected", journey.product, {
            "din": "G123498654321", "site": j.APHERESIS_SITE, "volume_ml": 245, "preservation": "fresh",
            "started_at": (at - timedelta(hours=4)).isoformat(), "ended_at": at.isoformat(),
        }, user="nurse", meaning="performed", password="nurse-password", occurred_at=at,
    )  # fmt: skip


def limit_nurse(ledger: CustodyLedger, until: date, **changes: Any) -> None:
    """Replace the nurse's team training (same reference) by one ending on ``until``."""
    fields: dict[str, Any] = {"role_wide": True, **changes}
    record_qualification(
        ledger, "nurse", reference="TR-nurse", evidence="apheresis course", valid_from="2025-01-01",
        valid_until=until.isoformat(), by=LEDGER_USER, **fields,
    )  # fmt: skip


def test_a_lapsed_qualification_refuses_the_step_storing_nothing_and_a_renewal_lets_it_through(
    ledger: CustodyLedger,
) -> None:
    rec = team(ledger)
    with freeze_time(NOON):
        journey = enrolled(rec, NOON - timedelta(days=3))
        limit_nurse(ledger, until=TODAY - timedelta(days=1))
        size = ledger.store.size()
        with pytest.raises(RuleViolation) as refused:
            collect(ledger, journey, NOON - timedelta(hours=1))
        assert (refused.value.rule, refused.value.field) == ("qualification_expired", "user")
        yesterday = (TODAY - timedelta(days=1)).isoformat()
        assert "'TR-nurse' of nurse" in refused.value.message and f"valid until {yesterday}" in refused.value.message
        assert ledger.store.size() == size
        limit_nurse(ledger, until=TODAY + timedelta(days=300))
        stored = collect(ledger, journey, NOON - timedelta(hours=1))
        assert [envelope.type for envelope in stored] == ["ApheresisCollected", "DinAssigned"]
    assert verify(ledger).intact


def test_a_qualification_for_other_steps_only_is_missing_for_this_one(ledger: CustodyLedger) -> None:
    rec = team(ledger)
    with freeze_time(NOON):
        journey = enrolled(rec, NOON - timedelta(days=3))
        limit_nurse(ledger, until=TODAY + timedelta(days=300), role_wide=False, events=["Thawed", "Infused"])
        size = ledger.store.size()
        with pytest.raises(RuleViolation) as refused:
            collect(ledger, journey, NOON - timedelta(hours=1))
        assert refused.value.rule == "qualification_missing"
        assert ledger.store.size() == size


def test_the_staff_record_shows_each_qualification_as_it_stands_today(ledger: CustodyLedger) -> None:
    team(ledger, ("nurse",))
    with freeze_time(NOON):
        limit_nurse(ledger, until=TODAY + timedelta(days=30))
        record_qualification(
            ledger, "nurse", reference="TR-OLD", evidence="old course", valid_from="2024-01-01",
            valid_until="2025-01-01", events=["Thawed"], by=LEDGER_USER,
        )  # fmt: skip
        record_qualification(
            ledger, "nurse", reference="TR-LONG", evidence="long course", valid_from="2025-01-01",
            valid_until=(TODAY + timedelta(days=700)).isoformat(), events=["Infused"], by=LEDGER_USER,
        )  # fmt: skip
        withdraw_qualification(
            ledger, "nurse", reference="TR-LONG", effective_on=TODAY.isoformat(), reason="failed audit", by=LEDGER_USER
        )
        shown = describe_staff(staff_record(ledger, "nurse"), ledger.clock.now().date())
    states = {held["reference"]: held["state"] for held in shown["qualifications"]}
    assert states == {"TR-OLD": "expired", "TR-nurse": "expiring", "TR-LONG": "withdrawn"}
    assert [held["reference"] for held in shown["qualifications"]] == ["TR-OLD", "TR-nurse", "TR-LONG"]
    assert shown["active"] is True and shown["specialties"] == []


def test_a_printed_name_is_held_until_its_holders_key_is_revoked(ledger: CustodyLedger) -> None:
    register_staff(ledger, "nurse.a", "Léa Bernard", "nurse", "nurse-a-password", registrar=LEDGER_USER)
    size = ledger.store.size()
    with pytest.raises(RuleViolation) as refused:
        register_staff(ledger, "nurse.b", "LEA  BERNARD", "nurse", "nurse-b-password", registrar=LEDGER_USER)
    assert (refused.value.rule, refused.value.field) == ("printed_name_not_unique", "payload.name")
    assert "nurse.a" in refused.value.message
    assert ledger.store.size() == size and ledger.load(staff_id_for("nurse.b")) is None
    revoke_key(ledger, "nurse.a", "left the unit", by=LEDGER_USER)
    envelopes = register_staff(ledger, "nurse.b", "Lea Bernard", "nurse", "nurse-b-password", registrar=LEDGER_USER)
    assert [e.type for e in envelopes] == ["StaffMemberRegistered", "PrintedNameClaimed", "SigningKeyRegistered"]
    claimed = ledger.load(printed_name_id_for("léa bernard"))
    assert isinstance(claimed, PrintedName) and claimed.holders == ["nurse.a", "nurse.b"]
    assert verify(ledger).intact


def test_two_registrations_of_one_name_racing_each_other_cannot_both_land(
    ledger: CustodyLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second registration is decided, then the first lands before it is signed and stored: it is refused."""
    append_signed = ledger.append_signed

    def first_lands_in_between(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(ledger, "append_signed", append_signed)
        register_staff(ledger, "nurse.first", "Marie Curie", "nurse", "first-password", registrar=LEDGER_USER)
        return append_signed(*args, **kwargs)

    monkeypatch.setattr(ledger, "append_signed", first_lands_in_between)
    size_before = ledger.store.size()
    with pytest.raises(ConcurrentChange):
        register_staff(ledger, "nurse.second", "marie curie", "nurse", "second-password", registrar=LEDGER_USER)
    assert ledger.load(staff_id_for("nurse.second")) is None
    assert isinstance(ledger.load(staff_id_for("nurse.first")), StaffMember)
    assert ledger.store.size() == size_before + 3
    claimed = ledger.load(printed_name_id_for("Marie Curie"))
    assert isinstance(claimed, PrintedName) and claimed.holders == ["nurse.first"]
