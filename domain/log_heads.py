"""The ledger's own statement of every aggregate's head, recorded in the log at each checkpoint.

An inclusion proof shows that an event is in the signed log, not that no later event
of the same aggregate is. So at each checkpoint the ledger records, signed with its
own key, the root of a map from every aggregate id to its head (last version and the
hash of that stored event). A bundle that proves its product's head against that map
proves it holds the whole history up to the checkpoint. Only the ledger itself
(role ``system``) records it, like its own key events (domain/staff.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID, uuid5

from domain.aggregate import Aggregate
from domain.errors import InvalidInput, RuleViolation, UnknownEventType
from domain.events import Context, EventRecord, Meaning, NewEvent, Role

HEADS_NAMESPACE = UUID("8d4f2b61-0a7c-4e53-9b1e-6c3d2f9a7e40")
HEADS_AGGREGATE_ID = uuid5(HEADS_NAMESPACE, "aggregate-heads")
HEADS_EVENT_TYPES = ("AggregateHeadsCommitted",)
HEADS_SIGNERS = frozenset({Role.SYSTEM.value})


class LogHeads(Aggregate):
    """The ledger-owned aggregate holding one commitment per checkpoint."""

    kind = "log"

    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(aggregate_id)
        self.tree_size = 0

    def when_AggregateHeadsCommitted(self, record: EventRecord) -> None:
        """The log size the latest commitment describes."""
        self.tree_size = int(record.payload["tree_size"])


def decide_heads(event_type: str, aggregate_id: UUID, payload: Mapping[str, Any], ctx: Context) -> list[NewEvent]:
    """Check a head commitment (the ledger's, at a checkpoint) and return what to sign and store."""
    if event_type not in HEADS_EVENT_TYPES:
        raise UnknownEventType(f"unknown log event type {event_type!r}", field="type")
    if ctx.actor.role not in HEADS_SIGNERS:
        raise RuleViolation(
            f"only the ledger itself commits aggregate heads (you are {ctx.actor.role})",
            field="user",
            rule="role_not_allowed",
        )
    if aggregate_id != HEADS_AGGREGATE_ID:
        raise InvalidInput("aggregate heads are committed on the ledger's own log aggregate", field="aggregate_id")
    data: dict[str, Any] = {}
    for name in ("tree_size", "aggregates"):
        value = payload.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidInput(f"payload.{name} must be a non-negative integer", field=f"payload.{name}")
        data[name] = value
    root = payload.get("map_root")
    if not isinstance(root, str) or len(root) != 44:
        raise InvalidInput("payload.map_root must be a base64 SHA-256 root (44 characters)", field="payload.map_root")
    data["map_root"] = root
    return [
        NewEvent(
            aggregate_id=aggregate_id,
            type=event_type,
            payload=data,
            occurred_at=ctx.occurred_at,
            meaning=Meaning.RECORDED,
            aggregate_kind=LogHeads.kind,
        )
    ]
