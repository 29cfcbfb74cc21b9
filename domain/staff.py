"""Staff members and their signing keys, recorded as signed events like every custody step.

Keeping the key history inside the ledger means a verifier needs nothing but
the log and the ledger's own public key to know which key was valid when.
Only an administrator (or the ledger itself, at initialisation) registers
people and keys; nobody signs for somebody else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from uuid import UUID, uuid5

from domain.aggregate import Aggregate, Loader
from domain.errors import InvalidInput, NotFound, OutOfOrder, RuleViolation, UnknownEventType
from domain.events import Context, EventRecord, Meaning, NewEvent, Role

STAFF_NAMESPACE = UUID("5b0c3c1e-8f0e-4c1a-9d43-2f7a5e0b9c11")
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
REGISTRARS = {Role.ADMIN.value, Role.SYSTEM.value}
STAFF_EVENT_TYPES = ("StaffMemberRegistered", "SigningKeyRegistered", "SigningKeyRevoked")


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

    @property
    def active_keys(self) -> list[str]:
        """Key ids that are registered and not revoked."""
        return [key_id for key_id, revoked in self.keys.items() if not revoked]

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
    """Check a staff or key event and return what to sign and store."""
    if event_type not in STAFF_EVENT_TYPES:
        raise UnknownEventType(f"unknown staff event type {event_type!r}", field="type")
    _check_registrar(ctx)
    current = load(aggregate_id)
    if current is not None and not isinstance(current, StaffMember):
        raise InvalidInput("that id is not a staff member", field="aggregate_id")
    data: dict[str, Any]
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
        data = {"username": username, "name": _text(payload, "name"), "role": role}
    else:
        if current is None:
            raise NotFound("no such staff member", field="aggregate_id")
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
        )
    ]
