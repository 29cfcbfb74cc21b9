"""Hand-overs on the way: the shipper passes from its custodian to a registered party, signed by both.

Each signature in the ledger is one person's act, made with their own key when they
record an event, so one event cannot carry two signatures. A hand-over is therefore two
events, as the bedside check is: the giver records ``ShipmentHandedOver`` naming the next
party, and the shipper is only offered; the receiver records ``ShipmentHandOverAccepted``
and becomes the custodian. A person accepts in person (only they may sign the
acceptance); a registered site accepts through any of its staff, or by receiving the
shipment when it is the destination. Until the offer is accepted nothing else may
happen to the shipper, so custody is never in two hands or in none.
"""

from __future__ import annotations

from domain.errors import NotFound, OutOfOrder, RuleViolation
from domain.events import NewEvent
from domain.shipment import Shipment, ShipmentHandedOver
from domain.site import Site, site_id_for
from domain.spec import Command
from domain.staff import StaffMember, staff_id_for


def is_person(cmd: Command, party: str) -> bool:
    """True when the party is a registered staff member (by username)."""
    return isinstance(cmd.load(staff_id_for(party)), StaffMember)


def _is_site(cmd: Command, party: str) -> bool:
    """True when the party is a registered site (by code)."""
    return bool(party.strip()) and isinstance(cmd.load(site_id_for(party)), Site)


def check_no_pending_handover(shipment: Shipment, cmd: Command, step: str) -> None:
    """Nothing happens to a shipper offered to a person until that person accepts it."""
    pending = shipment.handing_over_to
    if pending is None:
        return
    if step == "ShipmentReceived" and not is_person(cmd, pending) and pending == shipment.to_site:
        return
    raise OutOfOrder(
        f"cannot record {step}: the shipper was handed over to {pending}, who has not accepted it yet; "
        f"{pending} records ShipmentHandOverAccepted first",
        rule="handover_not_accepted",
    )


def hand_over(cmd: Command) -> list[NewEvent]:
    """The custodian offers the shipper to a registered person or site; a person custodian signs it."""
    assert isinstance(cmd.current, Shipment)
    shipment, payload = cmd.current, cmd.payload
    assert isinstance(payload, ShipmentHandedOver)
    if shipment.received:
        raise OutOfOrder("the shipment has already been received", rule="already_received")
    check_no_pending_handover(shipment, cmd, "ShipmentHandedOver")
    if payload.from_party != shipment.custodian:
        raise RuleViolation(
            f"payload.from_party {payload.from_party!r} is not the shipper's custodian ({shipment.custodian!r}): "
            "only who holds the shipper can hand it over",
            field="payload.from_party",
            rule="not_the_custodian",
        )
    if is_person(cmd, shipment.custodian) and cmd.ctx.actor.user_id != shipment.custodian:
        raise RuleViolation(
            f"the hand-over is signed by the giver, {shipment.custodian}, not by {cmd.ctx.actor.user_id}",
            field="user",
            rule="handover_signed_by_giver",
        )
    if not (is_person(cmd, payload.to_party) or _is_site(cmd, payload.to_party)):
        raise NotFound(
            f"payload.to_party {payload.to_party!r} is neither a registered staff member (username) nor a registered "
            "site (code): custody passes only to a party the ledger knows",
            field="payload.to_party",
            rule="unknown_party",
        )
    return [cmd.record()]


def accept_hand_over(cmd: Command) -> list[NewEvent]:
    """The party offered the shipper takes it: a person signs for themselves, a site through its staff."""
    assert isinstance(cmd.current, Shipment)
    shipment = cmd.current
    pending = shipment.handing_over_to
    if pending is None:
        raise OutOfOrder(
            "cannot record ShipmentHandOverAccepted: no hand-over of this shipper is waiting",
            rule="no_pending_handover",
        )
    if is_person(cmd, pending) and cmd.ctx.actor.user_id != pending:
        raise RuleViolation(
            f"the shipper was handed over to {pending}: only {pending} can accept it, not {cmd.ctx.actor.user_id}",
            field="user",
            rule="accepted_by_receiver",
        )
    return [cmd.record()]
