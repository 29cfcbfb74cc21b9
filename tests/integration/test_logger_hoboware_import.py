"""A HOBOware export imported for a received shipper as any logger file is, on both backends.

The file is what HOBOware writes by default: a plot title line, its own header with the export's zone
(GMT+01:00) in the time heading, US dates on a 12-hour clock, and event rows (coupler
detached, coupler attached, logger stopped) that are not readings.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from domain.errors import CustodyError
from ledger.service import CustodyLedger
from tests.integration.journeys import Recorder, team, verify
from tests.integration.logger_fixtures import Trip

EXPORT_ZONE = timezone(timedelta(hours=1))
SERIAL = "(LGR S/N: 20123456, SEN S/N: 20123456)"
HEADER = (
    f'"#","Date Time, GMT+01:00","Temp, °C {SERIAL}","Coupler Detached (LGR S/N: 20123456)",'
    '"Coupler Attached (LGR S/N: 20123456)","Stopped (LGR S/N: 20123456)","End Of File (LGR S/N: 20123456)"'
)


@pytest.fixture
def rec(ledger: CustodyLedger) -> Recorder:
    return team(ledger)


def hoboware_time(moment: datetime) -> str:
    """How HOBOware writes a moment of a GMT+01:00 export: MM/DD/YY hh:mm:ss AM/PM."""
    local = moment.astimezone(EXPORT_ZONE)
    return f"{local:%m/%d/%y} {local.hour % 12 or 12:02d}:{local:%M:%S} {'AM' if local.hour < 12 else 'PM'}"


def hoboware_export(trip: Trip) -> bytes:
    """A reading every 10 min from 20 min before dispatch to 10 min after receipt, at -185.2 °C but -160.5 °C at
    minute 600; a coupler detached before the first reading, attached at 605 min, and the logger stopped at the end."""
    rows: list[tuple[int, str, str]] = [(-25, "", "Logged,,,")]
    for minute in range(-20, 20 * 60 + 11, 10):
        rows.append((minute, "-160.5" if minute == 600 else "-185.2", ",,,"))
        if minute == 600:
            rows.append((605, "", ",Logged,,"))
    rows.append((20 * 60 + 15, "", ",,Logged,Logged"))
    lines = ['"Plot Title: LN2 shipper 20123456"', HEADER]
    for number, (minute, celsius, events) in enumerate(rows, start=1):
        lines.append(f"{number},{hoboware_time(trip.sent + timedelta(minutes=minute))},{celsius},{events}")
    return ("\n".join(lines) + "\n").encode()


def test_a_hoboware_export_is_imported_and_summarised_for_a_received_shipment(rec: Recorder) -> None:
    trip = Trip(rec, data_logger_id="HOBO 20123456")  # the serial the file names, as the dispatch wrote it
    before = [len(rec.ledger.history(one)) for one in (trip.kymriah, trip.tecartus)]
    content = hoboware_export(trip)
    done = trip.run(content)
    assert not done.already_imported
    figures = done.summary
    assert figures["document_sha256"] == hashlib.sha256(content).hexdigest()
    assert (figures["min_c"], figures["max_c"]) == (-185.2, -160.5)
    assert figures["readings"] == 20 * 6 + 1  # dispatch to receipt inclusive, every 10 min; no event row counted
    assert figures["longest_gap_min"] == 10
    by_code = {p["product_code"]: p for p in figures["products"]}
    for code in ("KYMRIAH", "TECARTUS"):
        assert (by_code[code]["minutes_outside"], by_code[code]["excursion"], by_code[code]["gaps"]) == (0, False, [])
    assert [len(rec.ledger.history(one)) for one in (trip.kymriah, trip.tecartus)] == before
    assert verify(rec.ledger).intact


def test_a_file_another_logger_wrote_is_refused_and_stores_nothing(rec: Recorder) -> None:
    trip = Trip(rec, data_logger_id="LOG-9120")
    content = hoboware_export(trip)  # written by logger 20123456
    size = rec.ledger.store.size()
    with pytest.raises(CustodyError) as caught:
        trip.run(content)
    assert (caught.value.rule, caught.value.field) == ("logger_serial_mismatch", "payload.document")
    assert "20123456" in caught.value.message and "LOG-9120" in caught.value.message
    assert rec.ledger.store.size() == size
    assert rec.ledger.documents.info(hashlib.sha256(content).hexdigest()) is None
