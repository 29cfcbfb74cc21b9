"""A tank's logger file over a product's LN2 storage, judged by the ledger stay by stay.

The pharmacist answers only for which file it is and which tank it monitors
(``StorageLoggerFileImported``); the ledger reads the file (domain/logger_readings.py)
and judges it over each of the product's stays in that tank (domain/storage_stay.py)
against the catalogue's storage limit for the product (domain/temperature_verdict.py),
the limit a storage step's own reading is judged by. What it finds it signs itself:

- ``StorageReadingsSummarised`` on the product, always: per stay, the stretch the file
  covers, its readings, the minutes above the limit and the gaps;
- an excursion (a held reading above the limit during a stay) is a
  ``TemperatureExcursionRecorded`` in the ``storage`` context, which quarantines the
  product until someone assesses it; it is recorded even once the product's custody has
  ended (its history must show it);
- a gap longer than the catalogue's ``logger_gap_max_min`` is a major
  ``DeviationRecorded``: the temperature was not known for that long.

A tank's file is an export of a window of time, not a journey with a known end: each
stay is judged over the part of it the file covers, from the later of the stay's start
and the first reading to the earlier of the stay's end and the last reading (sample and
hold, domain/logger_journey.py), and the summary says which stretch that was. A file
that covers none of the product's stays in the tank is refused: it is not the record of
this product's storage. The same file once per product.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import product_exception_events as ex
from domain.errors import RuleViolation
from domain.events import NewEvent
from domain.logger_events import RecordingGap
from domain.logger_journey import Journey, journey
from domain.logger_readings import Reading, parse_logger_csv
from domain.logger_rules import logger_file_once
from domain.product import TherapyProduct
from domain.product_checks import for_product
from domain.product_specs import DEVIATION_RECORDED, TEMPERATURE_EXCURSION_RECORDED
from domain.spec import Command, Decider
from domain.storage_logger_events import (
    STORAGE_READINGS_SUMMARISED,
    JudgedStay,
    StorageLoggerFileImported,
    StorageReadingsSummarised,
)
from domain.storage_stay import StorageStay
from domain.temperature_verdict import AcceptableRange, storage_range, within_range

SHOWN_GAPS = 5


@dataclass(frozen=True)
class _Judged:
    stay: StorageStay
    trip: Journey
    minutes_outside: int
    excursion: bool
    gaps: list[RecordingGap]


def import_storage_logger_file(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """Record the file, then what the ledger reads in it over the product's stays in the tank."""
    payload: StorageLoggerFileImported = cmd.payload
    sha256 = payload.document.sha256
    stays = stays_in_tank(product, payload.site, payload.tank)
    content = logger_file_once(cmd, sha256, product.storage_logger_files, "product")
    entry = cmd.catalogue.get(product.product_code)
    acceptable = storage_range(entry)
    allowed = entry.logger_gap_max_min
    judged = judge_stays(stays, parse_logger_csv(content), cmd.ctx.occurred_at, acceptable, allowed, payload.tank)
    summary = _summary(sha256, payload, acceptable, allowed, judged)
    events = [cmd.record(), cmd.derive(STORAGE_READINGS_SUMMARISED, product.id, summary, by_ledger=True)]
    if summary.excursion:
        recorded = ex.TemperatureExcursionRecorded(
            ex.ExcursionContext.STORAGE, summary.max_c, summary.minutes_outside, summary.min_c, f"tank {payload.tank}"
        )
        events.append(cmd.derive(TEMPERATURE_EXCURSION_RECORDED, product.id, recorded, by_ledger=True))
    if any(j.gaps for j in judged):
        events.append(_gap_deviation(cmd, product, payload, allowed, judged))
    return events


def stays_in_tank(product: TherapyProduct, site: str, tank: str) -> list[StorageStay]:
    """The product's stays in this tank; refused when it never sat in it."""
    stays = [s for s in product.storage_stays if s.site == site.strip() and s.tank == tank.strip()]
    if not stays:
        known = sorted({f"tank {s.tank} at {s.site}" for s in product.storage_stays})
        where = f"it was stored in: {', '.join(known)}" if known else "it was never stored in LN2"
        raise RuleViolation(
            f"payload.tank {tank} at {site}: the product was never stored in this tank ({where}); import the file "
            "of a tank it sat in",
            field="payload.tank",
            rule="product_never_in_tank",
        )
    return stays


def judge_stays(
    stays: list[StorageStay],
    readings: list[Reading],
    now: datetime,
    acceptable: AcceptableRange,
    gap_allowed_min: int | None,
    tank: str,
) -> list[_Judged]:
    """Each stay over the stretch the file covers; refused when it covers none of them."""
    first, last = readings[0].at, readings[-1].at
    judged = []
    for stay in stays:
        start = max(stay.start, first)
        end = min(stay.end or now, last, now)
        if end < start:
            continue
        trip = journey(readings, start, end)
        if trip is None:
            continue
        figures = trip.figures(acceptable)
        gaps = trip.gaps(timedelta(minutes=gap_allowed_min)) if gap_allowed_min is not None else []
        judged.append(
            _Judged(
                stay,
                trip,
                figures.excursion_min,
                not within_range(figures, acceptable),
                [RecordingGap(g.start.isoformat(), g.end.isoformat(), g.minutes) for g in gaps],
            )
        )
    if not judged:
        covered = ", ".join(f"{s.start.isoformat()} → {s.end.isoformat() if s.end else 'now'}" for s in stays)
        raise RuleViolation(
            f"payload.document: the logger file ({first.isoformat()} → {last.isoformat()}) holds no reading while "
            f"the product sat in tank {tank} ({covered}): it is not the record of this product's storage",
            field="payload.document",
            rule="logger_file_outside_storage",
        )
    return judged


def _summary(
    sha256: str,
    payload: StorageLoggerFileImported,
    acceptable: AcceptableRange,
    allowed: int | None,
    judged: list[_Judged],
) -> StorageReadingsSummarised:
    values = [reading.celsius for j in judged for reading in j.trip.readings]
    return StorageReadingsSummarised(
        document_sha256=sha256,
        site=payload.site.strip(),
        tank=payload.tank.strip(),
        acceptable=acceptable.describe(),
        high_c=acceptable.high_c,
        readings=sum(j.trip.inside for j in judged),
        min_c=min(values),
        max_c=max(values),
        minutes_outside=sum(j.minutes_outside for j in judged),
        excursion=any(j.excursion for j in judged),
        gap_allowed_min=allowed,
        longest_gap_min=max(j.trip.longest_gap().minutes for j in judged),
        stays=[
            JudgedStay(
                rack=j.stay.rack,
                box=j.stay.box,
                position=j.stay.position,
                from_at=j.trip.start.isoformat(),
                to_at=j.trip.end.isoformat(),
                readings=j.trip.inside,
                minutes_outside=j.minutes_outside,
                gaps=j.gaps,
            )
            for j in judged
        ],
    )


def _gap_deviation(
    cmd: Command,
    product: TherapyProduct,
    payload: StorageLoggerFileImported,
    allowed: int | None,
    judged: list[_Judged],
) -> NewEvent:
    gaps = [gap for j in judged for gap in j.gaps]
    shown = "; ".join(f"{gap.from_at} → {gap.to_at} ({gap.minutes} min)" for gap in gaps[:SHOWN_GAPS])
    more = f"; and {len(gaps) - SHOWN_GAPS} more" if len(gaps) > SHOWN_GAPS else ""
    description = (
        f"the logger of tank {payload.tank} at {payload.site} recorded nothing for longer than the {allowed} min "
        f"the catalogue allows for {product.product_code} while the product was stored there: {shown}{more}; the "
        f"temperature was not known then (logger file {payload.document.sha256})"
    )
    deviation = ex.DeviationRecorded(description, ex.Severity.MAJOR, "logger file import")
    return cmd.derive(DEVIATION_RECORDED, product.id, deviation, by_ledger=True)


DECIDERS: Mapping[str, Decider] = {"StorageLoggerFileImported": for_product(import_storage_logger_file)}
