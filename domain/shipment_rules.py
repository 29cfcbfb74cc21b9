"""The rules of a shipment: what may leave together, and a receipt that accounts for every product."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from domain.errors import InvalidInput, OutOfOrder, RuleViolation
from domain.events import NewEvent
from domain.product_checks import load_product
from domain.product_events import Leg, ProductShipped
from domain.product_specs import PRODUCT_SHIPPED
from domain.product_transport import check_shippable, receipt_events
from domain.shipment import Shipment, ShipmentDispatched, ShipmentReceived
from domain.shipment_handover import accept_hand_over, check_no_pending_handover, hand_over
from domain.spec import Command, Decider
from domain.temperature_verdict import LoggerFigures, check_figures


def _shipment(cmd: Command) -> Shipment:
    assert isinstance(cmd.current, Shipment)
    return cmd.current


def dispatch(cmd: Command) -> list[NewEvent]:
    """Every product listed must exist, be ready for the leg, and suit the shipper's temperature class."""
    payload: ShipmentDispatched = cmd.payload
    if len(set(payload.units)) != len(payload.units):
        raise InvalidInput("payload.units lists a product twice", field="payload.units", rule="duplicate_unit")
    events = [cmd.record()]
    for index, unit in enumerate(payload.units):
        field = f"payload.units[{index}]"
        product = load_product(cmd.load, UUID(unit), field)
        check_shippable(product, payload.leg, payload.temperature_class, field)
        shipped = ProductShipped(str(cmd.aggregate_id), payload.leg, payload.to_site)
        events.append(cmd.derive(PRODUCT_SHIPPED, product.id, shipped))
    return events


def receive(cmd: Command) -> list[NewEvent]:
    """A shipment is received once, at its destination, data logger read, every product accounted for."""
    shipment = _shipment(cmd)
    payload: ShipmentReceived = cmd.payload
    _check_receipt(shipment, payload)
    check_no_pending_handover(shipment, cmd, "ShipmentReceived")
    events = [cmd.record()]
    for index, unit in enumerate(payload.received_units):
        field = f"payload.received_units[{index}]"
        product = load_product(cmd.load, UUID(unit.product_id), f"{field}.product_id")
        events.extend(receipt_events(cmd, product, shipment, unit, field))
    return events


def _check_receipt(shipment: Shipment, payload: ShipmentReceived) -> None:
    """The receipt's own checks, before any product is looked at."""
    if shipment.received:
        raise OutOfOrder("the shipment has already been received", rule="already_received")
    if payload.site != shipment.to_site:
        raise RuleViolation(
            f"payload.site {payload.site} is not the shipment's destination {shipment.to_site}",
            field="payload.site",
            rule="wrong_destination",
        )
    if not payload.data_logger_reviewed:
        raise RuleViolation(
            f"payload.data_logger_reviewed must be true: read data logger {shipment.data_logger_id} first",
            field="payload.data_logger_reviewed",
            rule="data_logger_review_required",
        )
    if shipment.leg == Leg.TO_PHARMACY and payload.certificate_of_release_checked is not True:
        raise RuleViolation(
            "payload.certificate_of_release_checked must be true: the pharmacy checks the certificate of "
            "release on receipt",
            field="payload.certificate_of_release_checked",
            rule="certificate_of_release_not_checked",
        )
    check_figures(LoggerFigures(payload.min_c, payload.max_c, payload.excursion_min))
    _check_units_accounted(shipment, payload)


def _check_units_accounted(shipment: Shipment, payload: ShipmentReceived) -> None:
    """Every product dispatched is found, once, and nothing else."""
    seen: set[UUID] = set()
    for index, unit in enumerate(payload.received_units):
        product_id = UUID(unit.product_id)
        field = f"payload.received_units[{index}].product_id"
        if product_id not in shipment.units:
            raise RuleViolation(
                f"{field} {product_id} was not dispatched in this shipment",
                field=field,
                rule="unit_not_in_shipment",
            )
        if product_id in seen:
            raise InvalidInput(f"{field} {product_id} is listed twice", field=field, rule="duplicate_unit")
        seen.add(product_id)
    missing = [str(unit) for unit in shipment.units if unit not in seen]
    if missing:
        raise RuleViolation(
            f"payload.received_units does not account for {', '.join(missing)}: every product dispatched "
            "must be found and scanned on receipt",
            field="payload.received_units",
            rule="units_not_accounted",
        )


DECIDERS: Mapping[str, Decider] = {
    "ShipmentDispatched": dispatch,
    "ShipmentHandedOver": hand_over,
    "ShipmentHandOverAccepted": accept_hand_over,
    "ShipmentReceived": receive,
}
