"""What an administrator may record about a person's training and specialty (``domain/staff_qualification.py``).

A qualification names real custody steps the person's role may sign — a nurse is not
trained to release a product, and a qualification for a misspelt step would cover
nothing — or the whole role. Only people who sign custody steps hold qualifications;
only physicians hold a medical specialty.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from domain.errors import InvalidInput, OutOfOrder, RuleViolation
from domain.events import Role
from domain.payloads import parse_date, parse_payload, payload_to_json
from domain.staff_qualification import (
    QUALIFIED_KINDS,
    Qualification,
    StaffQualificationRecorded,
    StaffQualificationWithdrawn,
    StaffSpecialtyRecorded,
)

SIGNING_ROLES = frozenset({Role.NURSE, Role.PHYSICIAN, Role.PHARMACIST, Role.QP, Role.COURIER})
"""The roles that sign custody steps, hence the only ones a qualification means something for."""


def qualification_payload(
    event_type: str, payload: Mapping[str, Any], *, username: str, role: str, held: Mapping[str, Qualification]
) -> dict[str, Any]:
    """Check a qualification or specialty event about ``username`` and return its payload as stored."""
    if event_type == "StaffSpecialtyRecorded":
        specialty = parse_payload(StaffSpecialtyRecorded, payload)
        if role != Role.PHYSICIAN:
            raise RuleViolation(
                f"{username} is a {role}: a medical specialty is recorded for physicians only",
                field="payload.specialties",
                rule="specialty_for_physicians",
            )
        return payload_to_json(specialty)
    if role not in SIGNING_ROLES:
        raise RuleViolation(
            f"{username} is a {role} and signs no custody step: there is nothing to qualify them for",
            field="aggregate_id",
            rule="role_signs_no_step",
        )
    if event_type == "StaffQualificationWithdrawn":
        withdrawal = parse_payload(StaffQualificationWithdrawn, payload)
        current = held.get(withdrawal.reference)
        if current is None:
            raise OutOfOrder(
                f"{username} holds no qualification {withdrawal.reference!r}",
                field="payload.reference",
                rule="qualification_unknown",
            )
        if current.withdrawn_on is not None:
            raise OutOfOrder(
                f"qualification {withdrawal.reference!r} of {username} was already withdrawn on "
                f"{current.withdrawn_on.isoformat()}",
                field="payload.reference",
                rule="qualification_withdrawn",
            )
        return payload_to_json(withdrawal)
    recorded = parse_payload(StaffQualificationRecorded, payload)
    _check_window(parse_date(recorded.valid_from), parse_date(recorded.valid_until))
    _check_scope(recorded, role)
    return payload_to_json(recorded)


def _check_window(valid_from: date, valid_until: date) -> None:
    if valid_until < valid_from:
        raise InvalidInput(
            f"payload.valid_until {valid_until.isoformat()} is before payload.valid_from {valid_from.isoformat()}",
            field="payload.valid_until",
            rule="valid_until_before_valid_from",
        )


def _check_scope(recorded: StaffQualificationRecorded, role: str) -> None:
    """Named steps or the whole role, never both nor neither; each named step is one the role signs."""
    if recorded.role_wide == bool(recorded.events):
        raise InvalidInput(
            "a qualification covers either named steps (payload.events) or the whole role (payload.role_wide: "
            "true), not both and not neither",
            field="payload.events",
            rule="qualification_scope",
        )
    from domain.registry import EVENT_TYPES  # here, not at the top: the registry's rules import the staff record

    for index, name in enumerate(recorded.events):
        spec = EVENT_TYPES.get(name)
        field = f"payload.events[{index}]"
        if spec is None or spec.derived_from is not None or spec.kind not in QUALIFIED_KINDS:
            raise InvalidInput(
                f"{field} {name!r} is not a custody step one signs (see `custody event-types`: steps on "
                f"{', '.join(sorted(QUALIFIED_KINDS))})",
                field=field,
                rule="not_a_custody_step",
            )
        if not spec.allows_role(role):
            raise RuleViolation(
                f"{field} {name} is not signed by a {role}: a {role} cannot be qualified for it",
                field=field,
                rule="role_cannot_sign",
            )
