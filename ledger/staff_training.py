"""Recording and reading people's qualifications and specialties (domain/staff_qualification.py).

Each change is a signed event on the person's staff record, recorded through
``CustodyLedger.record`` like any step: the CLI (`custody staff qualify`, `custody staff
show`), the HTTP API (/staff/{username}/qualifications) and the demonstration all come
through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.errors import NotFound
from domain.staff import StaffMember, staff_id_for
from ledger.envelope import Envelope
from ledger.service import CustodyLedger
from ledger.signing_lockout import Channel


def staff_record(ledger: CustodyLedger, username: str) -> StaffMember:
    """A registered person's record, or ``NotFound`` naming the username."""
    member = ledger.load(staff_id_for(username))
    if not isinstance(member, StaffMember):
        raise NotFound(f"no staff member is registered as {username!r}", field="username", rule="unknown_user")
    return member


def record_qualification(
    ledger: CustodyLedger,
    username: str,
    *,
    reference: str,
    evidence: str,
    valid_from: str,
    valid_until: str,
    events: Sequence[str] = (),
    role_wide: bool = False,
    by: str,
    password: str | None = None,
    session: str | None = None,
    channel: Channel = "cli",
) -> list[Envelope]:
    """Record (or renew, under the same reference) a qualification of ``username``, signed by ``by``."""
    member = staff_record(ledger, username)
    payload: dict[str, Any] = {
        "reference": reference,
        "evidence": evidence,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "events": list(events),
        "role_wide": role_wide,
    }
    return ledger.record(
        "StaffQualificationRecorded", member.id, payload, user=by, meaning="approved", password=password,
        session=session, channel=channel,
    )  # fmt: skip


def withdraw_qualification(
    ledger: CustodyLedger,
    username: str,
    *,
    reference: str,
    effective_on: str,
    reason: str,
    by: str,
    password: str | None = None,
    session: str | None = None,
    channel: Channel = "cli",
) -> list[Envelope]:
    """End a qualification of ``username`` from ``effective_on``."""
    member = staff_record(ledger, username)
    payload = {"reference": reference, "effective_on": effective_on, "reason": reason}
    return ledger.record(
        "StaffQualificationWithdrawn", member.id, payload, user=by, meaning="approved", password=password,
        session=session, channel=channel,
    )  # fmt: skip


def record_specialties(
    ledger: CustodyLedger,
    username: str,
    specialties: Sequence[str],
    *,
    evidence: str,
    by: str,
    password: str | None = None,
    session: str | None = None,
    channel: Channel = "cli",
) -> list[Envelope]:
    """Add medical specialties to a physician's record."""
    member = staff_record(ledger, username)
    payload = {"specialties": list(specialties), "evidence": evidence}
    return ledger.record(
        "StaffSpecialtyRecorded", member.id, payload, user=by, meaning="approved", password=password,
        session=session, channel=channel,
    )  # fmt: skip


def qualify_role_wide(
    ledger: CustodyLedger, username: str, *, valid_from: date, valid_until: date, reference: str, evidence: str, by: str
) -> list[Envelope]:
    """Qualify a person for every step of their role (the demonstration's and the test teams' people).

    ``by`` signs without a password prompt only when it is the ledger itself (``system``).
    """
    return record_qualification(
        ledger, username, reference=reference, evidence=evidence, valid_from=valid_from.isoformat(),
        valid_until=valid_until.isoformat(), role_wide=True, by=by,
    )  # fmt: skip


def describe_staff(member: StaffMember, day: date) -> dict[str, Any]:
    """A person's record as `custody staff show` and GET /staff/{username} show it, qualifications judged on ``day``."""
    return {
        "username": member.username,
        "name": member.name,
        "role": member.role,
        "active": member.active,
        "specialties": sorted(member.specialties),
        "qualifications": [
            {
                "reference": q.reference,
                "covers": "role" if q.role_wide else sorted(q.events),
                "evidence": q.evidence,
                "valid_from": q.valid_from.isoformat(),
                "valid_until": q.valid_until.isoformat(),
                "withdrawn_on": q.withdrawn_on.isoformat() if q.withdrawn_on else None,
                "recorded_by": q.recorded_by,
                "state": str(q.state(day)),
            }
            for q in sorted(member.qualifications.values(), key=lambda q: (q.valid_until, q.reference))
        ],
    }
