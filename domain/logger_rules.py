"""A received shipment's logger file, judged by the ledger: excursions hold the whole shipper, gaps are deviations.

The person importing the file answers only for which file it is (``ShipmentLoggerFileImported``);
the ledger reads it (domain/logger_readings.py), keeps the journey from dispatch to receipt
(domain/logger_journey.py) and judges it against each product's range for the shipper's
temperature class, the one a receipt's figures are judged by (domain/temperature_verdict.py).
What it finds it signs with its own key:

- ``ShipmentReadingsSummarised`` on the shipment, always: the figures and, per product, the
  minutes outside its range and the gaps;
- an excursion (the readings leave a product's range) holds *every* product in the shipper,
  not just the one whose range was left: they shared the box, its failure is a fact about
  all of them until someone assesses each. The product whose range was left gets a
  ``TemperatureExcursionRecorded`` with its figures (which quarantines it); the others a
  ``ProductQuarantined`` naming the excursion. A product already quarantined is not
  quarantined twice; one whose custody ended (infused, destroyed, returned) still gets its
  excursion recorded — its history must show it — but no quarantine;
- a gap longer than the catalogue's ``logger_gap_max_min`` for a product is a major
  ``DeviationRecorded`` on it: the temperature was not known for that long. A deviation,
  not a refusal: the file is still the best record of the journey and refusing it would
  lose it; a major deviation blocks release, dispense, thaw and infusion until it is
  closed or its impact assessed (domain/deviation_gate.py), which is the review a unit
  gives a hole in the cold chain. It does not quarantine: nothing is known to be wrong.

The file is imported once the shipment is received (the journey then has its end), and the
same file once: importing it again would judge the same readings twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from domain import product_exception_events as ex
from domain.errors import OutOfOrder, RuleViolation
from domain.events import NewEvent
from domain.logger_events import (
    SHIPMENT_READINGS_SUMMARISED,
    ProductReadings,
    RecordingGap,
    ShipmentLoggerFileImported,
    ShipmentReadingsSummarised,
)
from domain.logger_journey import Journey, journey
from domain.logger_readings import Reading, logger_serial, parse_logger_csv
from domain.product import TherapyProduct
from domain.product_checks import load_product
from domain.product_specs import DEVIATION_RECORDED, PRODUCT_QUARANTINED, TEMPERATURE_EXCURSION_RECORDED
from domain.shipment import Shipment
from domain.spec import Command, Decider
from domain.temperature_verdict import shipping_range, within_range

SHOWN_GAPS = 5


def import_logger_file(cmd: Command) -> list[NewEvent]:
    """Record the file, then what the ledger reads in it, on the shipment and on each product in it."""
    shipment = cmd.current
    assert isinstance(shipment, Shipment)
    payload: ShipmentLoggerFileImported = cmd.payload
    sha256 = payload.document.sha256
    trip = _journey(cmd, shipment, sha256)
    products = [load_product(cmd.load, unit, f"shipment.units[{i}]") for i, unit in enumerate(shipment.units)]
    readings = [_product_readings(cmd, shipment, trip, product) for product in products]
    events = [cmd.record(), _summary(cmd, shipment, trip, sha256, readings)]
    excursion = [r for r in readings if r.excursion]
    for product, read in zip(products, readings, strict=True):
        events.extend(_held(cmd, shipment, trip, product, read, excursion))
        if read.gaps:
            events.append(_gap_deviation(cmd, shipment, product, read, sha256))
    return events


def _journey(cmd: Command, shipment: Shipment, sha256: str) -> Journey:
    """The journey's readings from the stored file, imported once."""
    check_received(shipment)
    content = logger_file_once(cmd, sha256, shipment.logger_files, "shipment")
    check_serial(shipment, content)
    return journey_of(shipment, parse_logger_csv(content))


def check_serial(shipment: Shipment, content: bytes) -> None:
    """A file that names its logger (HOBOware's ``LGR S/N``) must name the one the shipper left with.

    The serial is read from the file the logger wrote, the logger id from the signed dispatch;
    when they differ the file is another logger's, and judging this journey by it would put
    another shipper's temperatures in this product's history. Compared on letters and digits
    only, so ``LOG-20123456`` at dispatch matches ``20123456`` in the file.
    """
    serial = logger_serial(content)
    if serial is None:
        return
    wanted, named = _alphanumeric(shipment.data_logger_id), _alphanumeric(serial)
    if named and named not in wanted:
        raise RuleViolation(
            f"payload.document: the logger file was written by logger {serial}, but the shipment left with data "
            f"logger {shipment.data_logger_id}: it is another logger's file",
            field="payload.document",
            rule="logger_serial_mismatch",
        )


def _alphanumeric(text: str) -> str:
    return "".join(char for char in text.upper() if char.isalnum())


def logger_file_once(cmd: Command, sha256: str, imported: tuple[str, ...], owner: str) -> bytes:
    """The stored file's bytes, refused when ``owner`` (a shipment, a product) already had this file judged."""
    if sha256 in imported:
        raise OutOfOrder(
            f"payload.document {sha256} is already imported for this {owner}: its readings were judged once",
            field="payload.document.sha256",
            rule="logger_file_already_imported",
        )
    content = cmd.ctx.document_bytes(sha256) if cmd.ctx.document_bytes is not None else None
    if content is None:
        raise RuleViolation(
            f"payload.document {sha256} cannot be read from the document store: run `custody verify`",
            field="payload.document.sha256",
            rule="document_unreadable",
        )
    return content


def check_received(shipment: Shipment) -> None:
    """A logger file is judged against the whole journey, so the shipment must have arrived."""
    if not shipment.received or shipment.received_at is None or shipment.dispatched_at is None:
        raise OutOfOrder(
            "the shipment is not received yet: import its logger file once it is (ShipmentReceived), so that the "
            "journey from dispatch to receipt is known",
            field="shipment_id",
            rule="shipment_not_received",
        )


def journey_of(shipment: Shipment, readings: list[Reading]) -> Journey:
    """The readings of the shipment's journey; refused when the file holds none of it (another journey's file)."""
    check_received(shipment)
    assert shipment.dispatched_at is not None and shipment.received_at is not None
    trip = journey(readings, shipment.dispatched_at, shipment.received_at)
    if trip is None:
        raise RuleViolation(
            f"payload.document: the logger file holds no reading between the dispatch "
            f"({shipment.dispatched_at.isoformat()}) and the receipt ({shipment.received_at.isoformat()}): it is "
            f"not the record of this journey (data logger {shipment.data_logger_id})",
            field="payload.document",
            rule="logger_file_outside_journey",
        )
    return trip


def _product_readings(cmd: Command, shipment: Shipment, trip: Journey, product: TherapyProduct) -> ProductReadings:
    entry = cmd.catalogue.get(product.product_code)
    acceptable = shipping_range(entry, shipment.temperature_class)
    figures = trip.figures(acceptable)
    allowed = entry.logger_gap_max_min
    gaps = trip.gaps(timedelta(minutes=allowed)) if allowed is not None else []
    return ProductReadings(
        product_id=str(product.id),
        product_code=product.product_code,
        acceptable=acceptable.describe(),
        low_c=acceptable.low_c,
        high_c=acceptable.high_c,
        minutes_outside=figures.excursion_min,
        excursion=not within_range(figures, acceptable),
        gap_allowed_min=allowed,
        gaps=[RecordingGap(gap.start.isoformat(), gap.end.isoformat(), gap.minutes) for gap in gaps],
    )


def _summary(cmd: Command, shipment: Shipment, trip: Journey, sha256: str, readings: list[ProductReadings]) -> NewEvent:
    values = [reading.celsius for reading in trip.readings]
    summary = ShipmentReadingsSummarised(
        document_sha256=sha256,
        data_logger_id=shipment.data_logger_id,
        from_at=trip.start.isoformat(),
        to_at=trip.end.isoformat(),
        readings=trip.inside,
        min_c=min(values),
        max_c=max(values),
        longest_gap_min=trip.longest_gap().minutes,
        products=readings,
    )
    return cmd.derive(SHIPMENT_READINGS_SUMMARISED, cmd.aggregate_id, summary, by_ledger=True)


def _held(
    cmd: Command,
    shipment: Shipment,
    trip: Journey,
    product: TherapyProduct,
    read: ProductReadings,
    excursion: list[ProductReadings],
) -> list[NewEvent]:
    """The product's excursion, or its quarantine for another's: nothing when no product's range was left."""
    if read.excursion:
        values = [reading.celsius for reading in trip.readings]
        recorded = ex.TemperatureExcursionRecorded(
            ex.ExcursionContext.SHIPPING, max(values), read.minutes_outside, min(values), shipment.data_logger_id
        )
        return [cmd.derive(TEMPERATURE_EXCURSION_RECORDED, product.id, recorded, by_ledger=True)]
    if not excursion or product.quarantined or product.is_terminal:
        return []
    left = ", ".join(f"{r.product_code} {r.acceptable} ({r.minutes_outside} min outside)" for r in excursion)
    reason = (
        f"held with its shipper {shipment.id}: the logger {shipment.data_logger_id} left the range of another "
        f"product in it ({left}); every product in the shipper is held until assessed"
    )
    return [cmd.derive(PRODUCT_QUARANTINED, product.id, ex.ProductQuarantined(reason), by_ledger=True)]


def _gap_deviation(
    cmd: Command, shipment: Shipment, product: TherapyProduct, read: ProductReadings, sha256: str
) -> NewEvent:
    shown = "; ".join(f"{gap.from_at} → {gap.to_at} ({gap.minutes} min)" for gap in read.gaps[:SHOWN_GAPS])
    more = f"; and {len(read.gaps) - SHOWN_GAPS} more" if len(read.gaps) > SHOWN_GAPS else ""
    description = (
        f"data logger {shipment.data_logger_id} of shipment {shipment.id} recorded nothing for longer than the "
        f"{read.gap_allowed_min} min the catalogue allows for {read.product_code}: {shown}{more}; the temperature "
        f"was not known then (logger file {sha256})"
    )
    deviation = ex.DeviationRecorded(description, ex.Severity.MAJOR, "logger file import")
    return cmd.derive(DEVIATION_RECORDED, product.id, deviation, by_ledger=True)


DECIDERS: Mapping[str, Decider] = {"ShipmentLoggerFileImported": import_logger_file}
