"""What a notification says of an event, and who may be told of it.

Notifications (the server-sent event stream, webhooks) tell that something was
recorded, never what a patient is: the notice carries the log position, the event's
type, its aggregate, version, times and the signer's user id, and no payload (a
payload may hold a pseudonym, a wristband check's outcome, figures a receiver has
no need for). A receiver that needs the facts reads them through the API with its
own rights. Who is told follows who may read: product events go to the product
readers (a sponsor's user only for its trials' products), staff records to the
administrators and auditors, a deadline alert to the roles it names (a sponsor's user only
for its trials' products), everything else to the register readers but sponsors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from api.rest import access
from api.rest.tokens import Principal
from domain.events import Role
from ledger.envelope import Envelope

STAFF_READERS = frozenset({str(Role.ADMIN), str(Role.AUDITOR)})


def notice(position: int, envelope: Envelope) -> dict[str, Any]:
    """The notification of one stored event: identifiers and times only."""
    body = envelope.body
    return {
        "position": position,
        "type": body["type"],
        "aggregate_kind": body["aggregate_kind"],
        "aggregate_id": body["aggregate_id"],
        "version": body["version"],
        "occurred_at": body["occurred_at"],
        "recorded_at": body["recorded_at"],
        "signed_by": body["actor"]["user_id"],
        "hash": envelope.hash,
    }


def may_be_told(principal: Principal, envelope: Envelope, product_visible: Callable[[UUID], bool]) -> bool:
    """Whether this person may learn that the event was recorded."""
    kind = envelope.body["aggregate_kind"]
    role = principal.role
    if kind == "product":
        readers = {str(r) for r in access.PRODUCT_READERS}
        return role in readers and (role != Role.SPONSOR or product_visible(envelope.aggregate_id))
    if kind == "staff":
        return role in STAFF_READERS
    if kind == "alert":  # a deadline alert goes to the roles it names (domain/deadline_alert.py)
        payload = envelope.body["payload"]
        told = role in payload.get("roles", ())
        return told and (role != Role.SPONSOR or product_visible(UUID(str(payload["product_id"]))))
    return role in {str(r) for r in access.REGISTER_READERS} and role != Role.SPONSOR
