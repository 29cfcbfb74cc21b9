"""`custody status PRODUCT` shows each logger file's temperature history: the signed figures, a one-line chart and,
with --chart-dir, an SVG file per leg; in-process, on both backends."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from api import demo_journeys as j
from ledger.service import CustodyLedger
from ledger.settings import Settings
from tests.conftest import cli_runner, point_cli_at
from tests.integration.document_fixtures import replace_document
from tests.integration.journeys import free_position, team
from tests.integration.logger_fixtures import Trip
from tests.integration.storage_fixtures import Tank

SITE_ZONE = "Asia/Tokyo"  # not the default zone: the section must read the site's setting
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def cli(
    ledger: CustodyLedger, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    """``cli(*argv)`` → (exit code, stdout, stderr), the site in Tokyo."""
    point_cli_at(settings, monkeypatch, password="pharmacist-password", timezone=SITE_ZONE)
    return cli_runner(capsys)


def local(moment: datetime) -> str:
    """How the site writes an instant: day first, to the minute, in its own zone."""
    return moment.astimezone(ZoneInfo(SITE_ZONE)).strftime("%d/%m/%Y %H:%M")


def imported(ledger: CustodyLedger) -> tuple[Trip, str]:
    """Tecartus and Kymriah shipped together; the logger read -130 °C from minute 120 to 180 and nothing from 590 to
    660; the file imported. Returns the trip and the file's SHA-256."""
    trip = Trip(team(ledger))
    done = trip.run(trip.csv(warm=(120, 180), silent=(600, 660)))
    return trip, done.document.sha256


def test_status_prints_the_signed_figures_and_a_one_line_chart_of_the_journey(cli: Any, ledger: CustodyLedger) -> None:
    trip, sha256 = imported(ledger)
    code, out, err = cli("status", str(trip.tecartus))
    assert code == 0, err
    section = out[out.index("  temperature (1 logger file(s); local times Asia/Tokyo):") :].splitlines()
    assert section[1:] == [
        f"    temperature in transport (shipment {trip.shipment}): logger LOG-9120",
        f"      journey {local(trip.sent)} → {local(trip.arrived)}",
        "      115 readings, lowest -180.5 °C, highest -130 °C, allowed ≤ -150 °C",
        "      60 min outside the range — EXCURSION",
        f"      gaps over the 30 min allowed: from {local(trip.sent + timedelta(minutes=590))} (70 min)",
        f"      logger file sha256 {sha256}",
        # 60 columns of 20 min sampled at their middle (minute 10, 30, …): -130 °C at 130, 150 and 170.
        "      " + "▁" * 6 + "█" * 3 + "▁" * 51 + "  ▁ -180.5 °C … █ -130 °C",
    ]
    code, out, _ = cli("status", str(trip.kymriah))
    assert "      0 min outside the range — within range" in out.splitlines()
    assert "allowed ≤ -120 °C" in out


def test_chart_dir_writes_one_svg_per_leg_with_a_step_per_reading_and_the_dashed_limit(
    cli: Any, ledger: CustodyLedger, tmp_path: Path
) -> None:
    trip, sha256 = imported(ledger)
    charts = tmp_path / "charts" / "new"
    code, out, err = cli("status", str(trip.tecartus), "--chart-dir", str(charts))
    assert code == 0, err
    path = charts / f"temperature-{trip.shipment}-{sha256[:12]}.svg"
    assert f"      chart written to {path}" in out.splitlines()
    assert [p.name for p in charts.iterdir()] == [path.name]
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    [line] = root.iter(f"{SVG}polyline")
    # Sample and hold: two points per reading held, the one before dispatch and the 115 during the journey.
    assert len(line.attrib["points"].split()) == 2 * 116
    [limit] = [e for e in root.iter(f"{SVG}line") if e.get("stroke-dasharray")]
    assert limit.findtext(f"{SVG}title") == "-150 °C"
    assert len([e for e in root.iter(f"{SVG}rect") if e.get("class") == "gap"]) == 1
    assert root.findtext(f"{SVG}title") == "Temperature in transport, data logger LOG-9120"
    desc = root.findtext(f"{SVG}desc") or ""
    assert "lowest and highest -180.5 / -130 °C" in desc and "time outside the range 60 min (excursion)" in desc


def test_json_carries_the_temperature_list_with_the_svg_path(cli: Any, ledger: CustodyLedger, tmp_path: Path) -> None:
    trip, sha256 = imported(ledger)
    code, out, _ = cli("status", str(trip.tecartus), "--json", "--chart-dir", str(tmp_path))
    [leg] = json.loads(out)["temperature"]
    assert code == 0 and leg["svg_path"] == str(tmp_path / f"temperature-{trip.shipment}-{sha256[:12]}.svg")
    named = (leg["source"], leg["shipment_id"], leg["document_sha256"], leg["data_logger_id"])
    assert named == ("shipment", str(trip.shipment), sha256, "LOG-9120")
    assert (leg["readings"], leg["min_c"], leg["max_c"], leg["chart_drawable"]) == (115, -180.5, -130, True)
    mine = leg["product"]
    judged = (mine["product_id"], mine["minutes_outside"], mine["excursion"], mine["high_c"])
    assert judged == (str(trip.tecartus), 60, True, -150)
    assert [gap["minutes"] for gap in mine["gaps"]] == [70]
    code, out, _ = cli("status", str(trip.tecartus), "--json")
    assert "svg_path" not in json.loads(out)["temperature"][0]


def test_a_product_whose_shipper_logged_nothing_has_no_temperature_section(
    cli: Any, ledger: CustodyLedger, tmp_path: Path
) -> None:
    trip = Trip(team(ledger))
    code, out, err = cli("status", str(trip.kymriah), "--chart-dir", str(tmp_path / "charts"))
    assert code == 0, err
    assert "  temperature (" not in out and "LOG-9120" not in out
    assert list((tmp_path / "charts").iterdir()) == []
    code, out, _ = cli("status", str(trip.kymriah), "--json")
    assert json.loads(out)["temperature"] == []


def test_as_of_shows_only_the_summaries_recorded_by_then(cli: Any, ledger: CustodyLedger) -> None:
    trip, _ = imported(ledger)
    [summary] = [e for e in ledger.history(trip.shipment) if e.type == "ShipmentReadingsSummarised"]
    just_before = (summary.recorded_at - timedelta(microseconds=1)).isoformat()
    code, out, err = cli("status", str(trip.tecartus), "--as-of", just_before)
    assert code == 0, err
    assert "  temperature (" not in out and "LOG-9120" not in out
    code, out, _ = cli("status", str(trip.tecartus), "--as-of", summary.recorded_at.isoformat(), "--json")
    assert [leg["data_logger_id"] for leg in json.loads(out)["temperature"]] == ["LOG-9120"]


@pytest.mark.parametrize("content", [None, b"Date/Time;Temperature [\xc2\xb0C]\n"], ids=["missing", "altered"])
def test_a_logger_file_that_no_longer_reads_back_keeps_its_signed_figures_and_says_to_verify(
    cli: Any, ledger: CustodyLedger, tmp_path: Path, content: bytes | None
) -> None:
    trip, sha256 = imported(ledger)
    replace_document(ledger, sha256, content)
    code, out, err = cli("status", str(trip.tecartus), "--chart-dir", str(tmp_path / "charts"))
    assert code == 0, err
    lines = out.splitlines()
    assert "      60 min outside the range — EXCURSION" in lines
    assert (
        "      chart cannot be drawn: the logger file cannot be read back from the document store (missing or "
        "altered); run `custody verify`"
    ) in lines
    assert list((tmp_path / "charts").iterdir()) == []
    code, out, _ = cli("status", str(trip.tecartus), "--json")
    [leg] = json.loads(out)["temperature"]
    assert (leg["chart_drawable"], leg["product"]["minutes_outside"]) == (False, 60)


def test_a_chart_dir_that_is_a_file_exits_2_naming_the_option(cli: Any, ledger: CustodyLedger, tmp_path: Path) -> None:
    trip, _ = imported(ledger)
    taken = tmp_path / "taken"
    taken.write_text("not a directory")
    code, _, err = cli("status", str(trip.tecartus), "--chart-dir", str(taken))
    assert code == 2 and "field: chart_dir; rule: chart_dir_not_writable" in err


def test_a_tank_file_shows_one_leg_per_stay_it_covered(cli: Any, ledger: CustodyLedger, tmp_path: Path) -> None:
    """Stored one hour after receipt, moved within the tank at 24 h; the tank's file covers 0 → 48 h, -130 °C from
    600 to 660 min (in the first stay)."""
    rec = team(ledger)
    tank = Tank(rec)
    moved = tank.t0 + timedelta(hours=24)
    second = free_position(ledger)
    j.store(rec, tank.tecartus, moved, second)
    sha256 = tank.run(tank.tecartus, tank.csv(warm=(600, 660))).document.sha256
    charts = tmp_path / "charts"
    code, out, err = cli("status", str(tank.tecartus), "--chart-dir", str(charts))
    assert code == 0, err
    lines = out.splitlines()
    first = f"tank LN2-TANK-1 rack R3 box B12 position {tank.positions[tank.tecartus]}"
    header = f"    temperature in LN2 storage ({first}): logger tank LN2-TANK-1 (CHU-F9999 PUI)"
    at = lines.index(header)
    assert lines[at + 1 : at + 4] == [
        f"      covered {local(tank.t0 + timedelta(hours=1))} → {local(moved)}",
        "      139 readings, lowest -185 °C, highest -130 °C, allowed ≤ -150 °C",
        "      60 min outside the range — EXCURSION",
    ]
    later = lines.index(
        f"    temperature in LN2 storage (tank LN2-TANK-1 rack R3 box B12 position {second}): "
        "logger tank LN2-TANK-1 (CHU-F9999 PUI)"
    )
    assert lines[later + 3] == "      0 min outside the range — within range"
    written = sorted(p.name for p in charts.iterdir())
    assert written == sorted(
        f"temperature-{tank.tecartus}-R3-B12-{position}-{sha256[:12]}.svg"
        for position in (tank.positions[tank.tecartus], second)
    )
