"""The staff record's event types as `custody event-types` lists them, beside the custody steps.

A person's registration, keys, training and specialties are signed events like every
custody step (domain/staff.py), but they have no EventSpec: domain/staff.py decides them,
and only an administrator (or the ledger itself, at initialisation) records them, with
`custody staff ...` (README, "Keys and signing sessions"). Listing them with the steps tells
whoever reads the log who may have signed each one and what it carries.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from domain.events import Meaning
from domain.staff import REGISTRARS
from domain.staff_qualification import StaffQualificationRecorded, StaffQualificationWithdrawn, StaffSpecialtyRecorded

_KEY_EVENTS: tuple[tuple[str, list[str], str], ...] = (
    (
        "StaffMemberRegistered", ["username", "name", "role"],
        "Registers a person who signs, with their printed name and role (`custody staff add`); the printed name "
        "is claimed for them alone.",
    ),
    (
        "SigningKeyRegistered", ["key_id", "public_key", "algorithm"],
        "Registers a person's Ed25519 public key: what they sign from then on verifies with it.",
    ),
    (
        "SigningKeyRevoked", ["key_id", "reason"],
        "Revokes a person's key (`custody staff revoke-key`): nothing signed with it afterwards verifies; revoking "
        "the last key is how a person leaves.",
    ),
)  # fmt: skip
"""The key events' stored fields (domain/staff.py builds these payloads) and what each records."""

_TRAINING_EVENTS: tuple[tuple[str, type[Any], str], ...] = (
    (
        "StaffQualificationRecorded", StaffQualificationRecorded,
        "Records or renews a person's training for named steps or their whole role, with its evidence and "
        "validity (`custody staff qualify`): a custody step is signed only by someone trained for it that day "
        "(notes and alarms excepted).",
    ),
    (
        "StaffQualificationWithdrawn", StaffQualificationWithdrawn,
        "Ends a qualification from a day on (`custody staff withdraw-qualification`): a failed competency check, "
        "a suspension.",
    ),
    (
        "StaffSpecialtyRecorded", StaffSpecialtyRecorded,
        "Records a physician's medical specialties with their evidence (`custody staff specialty`).",
    ),
)  # fmt: skip
"""The training events, whose payloads are the dataclasses of domain/staff_qualification.py."""


def staff_event_rows() -> list[dict[str, Any]]:
    """One `custody event-types` row per staff event type, in the shape of the custody steps' rows."""
    listed = [
        *_KEY_EVENTS,
        *((name, [f.name for f in dataclasses.fields(payload)], text) for name, payload, text in _TRAINING_EVENTS),
    ]
    return [
        {
            "type": name,
            "kind": "staff",
            "meanings": [Meaning.APPROVED.value],
            "roles": sorted(REGISTRARS),
            "fields": fields,
            "derived_from": None,
            "description": description,
        }
        for name, fields, description in listed
    ]
