"""Staff members, their signing keys, training and specialties, recorded as signed events like every custody step.

Keeping the key history inside the ledger means a verifier needs nothing but
the log and the ledger's own public key to know which key was valid when.
Only an administrator (or the ledger itself, at initialisation) registers
people and keys; nobody signs for somebody else. A person's qualifications
(domain/staff_qualification.py) live on the same record, so the check made when they
sign (domain/signer_qualification.py) reads one aggregate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from uuid import UUID, uuid5

from domain.aggregate import Aggregate, Loader
from domain.errors import InvalidInput, NotFound, OutOfOrder, RuleViolation, UnknownEventType
from domain.events import Context, EventRecord, Meaning, NewEvent, Role
from domain.payloads import parse_date
from domain.printed_names import PrintedName, printed_name_id_for
from domain.staff_qualification import QUALIFICATION_EVENT_TYPES, Qualification
from domain.staff_qualification_rules import qualification_payload

STAFF_NAMESPACE = UUID("5b0c3c1e-8f0e-4c1a-9d43-2f7a5e0b9c11")
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
REGISTRARS = {Role.ADMIN.value, Role.SYSTEM.value}
KEY_EVENT_TYPES = ("StaffMemberRegistered", "SigningKeyRegistered", "SigningKeyRevoked")
STAFF_EVENT_TYPES = (*KEY_EVENT_TYPES, *QUALIFICATION_EVENT_TYPES)
"""Every event of a staff record: who the person is, their keys, their training and specialties.

All of them are key events to a bundle (docs/bundle-format.md): a bundle carries whole staff records."""


def staff_id_for(username: str) -> UUID:
    """A staff member's aggregate id, derived from the username so it can be found by name."""
    return uuid5(STAFF_NAMESPACE, username)


class StaffMember(Aggregate):
    """A person (or the ledger itself) who signs, with the keys they signed with."""

    kind = "staff"

    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(aggregate_id)
        self.username = ""
        self.name = ""
        self.role = ""
        self.keys: dict[str, bool] = {}
        self.qualifications: dict[str, Qualification] = {}
        self.specialties: frozenset[str] = frozenset()

    @property
    def active_keys(self) -> list[str]:
        """Key ids that are registered and not revoked."""
        return [key_id for key_id, revoked in self.keys.items() if not revoked]

    @property
    def active(self) -> bool:
        """Still able to sign, or about to be: no key yet (registration pending) or an unrevoked one.

        The staff record has no deactivation event: revoking a person's last key is how they leave.
        """
        return not self.keys or bool(self.active_keys)

    def qualifications_for(self, event_type: str) -> list[Qualification]:
        """Every qualification whose scope names this step (or the whole role), whatever its dates."""
        return [q for q in self.qualifications.values() if q.scope_covers(event_type)]

    def when_StaffMemberRegistered(self, record: EventRecord) -> None:
        """Name and role become known."""
        self.username = str(record.payload["username"])
        self.name = str(record.payload["name"])
        self.role = str(record.payload["role"])

    def when_SigningKeyRegistered(self, record: EventRecord) -> None:
        """A key becomes valid for this person."""
        self.keys[str(record.payload["key_id"])] = False

    def when_SigningKeyRevoked(self, record: EventRecord) -> None:
        """A key stops being valid: later signatures with it fail verification."""
        self.keys[str(record.payload["key_id"])] = True

    def when_StaffQualificationRecorded(self, record: EventRecord) -> None:
        """A new (or renewed) qualification replaces one with the same reference."""
        p = record.payload
        self.qualifications[str(p["reference"])] = Qualification(
            reference=str(p["reference"]),
            evidence=str(p["evidence"]),
            events=frozenset(p.get("events", ())),
            role_wide=bool(p.get("role_wide", False)),
            valid_from=parse_date(p["valid_from"]),
            valid_until=parse_date(p["valid_until"]),
            recorded_by=record.actor.user_id,
        )

    def when_StaffQualificationWithdrawn(self, record: EventRecord) -> None:
        """The qualification covers nothing from the day given."""
        held = self.qualifications.get(str(record.payload["reference"]))
        if held is not None:
            self.qualifications[held.reference] = replace(held, withdrawn_on=parse_date(record.payload["effective_on"]))

    def when_StaffSpecialtyRecorded(self, record: EventRecord) -> None:
        """The specialties join those already known."""
        self.specialties = self.specialties | frozenset(str(s) for s in record.payload["specialties"])


STAFF_AGGREGATES: Mapping[str, type[Aggregate]] = {StaffMember.kind: StaffMember, PrintedName.kind: PrintedName}
"""The aggregates staff events land on, by kind, for the ledger's loader."""


def _text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"payload.{name} is required and must be non-empty text", field=f"payload.{name}")
    return value.strip()


def _check_registrar(ctx: Context) -> None:
    if ctx.actor.role not in REGISTRARS:
        raise RuleViolation(
            f"only an administrator registers staff and keys (you are {ctx.actor.role})", rule="admin_only"
        )


def decide_staff(
    event_type: str, aggregate_id: UUID, payload: Mapping[str, Any], ctx: Context, load: Loader
) -> list[NewEvent]:
    """Check a staff, key, qualification or specialty event and return what to sign and store.

    A registration also claims the person's printed name (domain/printed_names.py).
    """
    if event_type not in STAFF_EVENT_TYPES:
        raise UnknownEventType(f"unknown staff event type {event_type!r}", field="type")
    _check_registrar(ctx)
    current = load(aggregate_id)
    if current is not None and not isinstance(current, StaffMember):
        raise InvalidInput("that id is not a staff member", field="aggregate_id")
    data: dict[str, Any]
    claims: list[NewEvent] = []
    if event_type == "StaffMemberRegistered":
        username = _text(payload, "username")
        if not USERNAME.match(username):
            raise InvalidInput(
                f"payload.username {username!r} must be 2-64 lower-case letters, digits, '.', '_' or '-'",
                field="payload.username",
            )
        role = _text(payload, "role")
        if role not in {r.value for r in Role}:
            raise InvalidInput(
                f"payload.role {role!r} is not one of {', '.join(r.value for r in Role)}",
                field="payload.role",
            )
        if aggregate_id != staff_id_for(username):
            raise InvalidInput("aggregate id does not match the username", field="aggregate_id")
        if current is not None:
            raise OutOfOrder(f"staff member {username!r} is already registered", rule="already_exists")
        name = _text(payload, "name")
        claims.append(_claim_printed_name(name, username, ctx, load))
        data = {"username": username, "name": name, "role": role}
    elif current is None:
        raise NotFound("no such staff member", field="aggregate_id")
    elif event_type in QUALIFICATION_EVENT_TYPES:
        data = qualification_payload(
            event_type, payload, username=current.username, role=current.role, held=current.qualifications
        )
    else:
        key_id = _text(payload, "key_id")
        if event_type == "SigningKeyRegistered":
            if key_id in current.keys:
                raise OutOfOrder(f"key {key_id} is already registered", rule="already_exists")
            data = {"key_id": key_id, "public_key": _text(payload, "public_key"), "algorithm": "ed25519"}
        else:
            if current.keys.get(key_id) is not False:
                raise OutOfOrder(f"key {key_id} is not an active key of {current.username}", rule="key_not_active")
            data = {"key_id": key_id, "reason": _text(payload, "reason")}
    return [
        NewEvent(
            aggregate_id=aggregate_id,
            type=event_type,
            payload=data,
            occurred_at=ctx.occurred_at,
            meaning=ctx.meaning or Meaning.APPROVED,
            aggregate_kind=StaffMember.kind,
        ),
        *claims,
    ]


def _claim_printed_name(name: str, username: str, ctx: Context, load: Loader) -> NewEvent:
    """Refuse a printed name another active person already signs under; otherwise claim it (domain/printed_names.py).

    Loading the name's aggregate makes the claim land on the version seen here: a
    concurrent registration of the same name is refused by the store, not let through.
    """
    name_id = printed_name_id_for(name)
    claimed = load(name_id)
    for holder in claimed.holders if isinstance(claimed, PrintedName) else []:
        member = load(staff_id_for(holder)) if holder != username else None
        if isinstance(member, StaffMember) and member.active:
            raise RuleViolation(
                f"payload.name {name!r} is already the printed name of {holder} ({member.name}), an active staff "
                "member: printed names identify one person (21 CFR 11.100); add a middle initial or a "
                f"qualifier, or revoke {holder}'s key first",
                field="payload.name",
                rule="printed_name_not_unique",
            )
    return NewEvent(
        aggregate_id=name_id,
        type="PrintedNameClaimed",
        payload={"name": name, "username": username},
        occurred_at=ctx.occurred_at,
        meaning=ctx.meaning or Meaning.APPROVED,
        aggregate_kind=PrintedName.kind,
    )
