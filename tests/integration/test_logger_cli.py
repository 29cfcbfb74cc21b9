"""`custody logger import FILE --shipment ID` in-process, on both backends."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.service import CustodyLedger
from ledger.settings import Settings
from tests.conftest import cli_runner, point_cli_at
from tests.integration.journeys import team
from tests.integration.logger_fixtures import Trip


@pytest.fixture
def cli(
    ledger: CustodyLedger, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    """``cli(*argv)`` → (exit code, stdout, stderr), signing as the pharmacist."""
    point_cli_at(settings, monkeypatch, password="pharmacist-password")
    return cli_runner(capsys)


def test_import_prints_the_verdicts_then_records_nothing_for_the_same_file(
    cli: Any, ledger: CustodyLedger, tmp_path: Path
) -> None:
    trip = Trip(team(ledger))
    path = tmp_path / "LOG-9120.csv"
    path.write_bytes(trip.csv(warm=(120, 180)))
    argv = ("logger", "import", str(path), "--shipment", str(trip.shipment), "--user", "pharmacist")
    code, out, err = cli(*argv)
    assert code == 0, err
    assert "logger LOG-9120: 121 readings" in out and "min -180.5 °C, max -130 °C, longest gap 10 min" in out
    assert f"{trip.tecartus} TECARTUS ≤ -150 °C: 60 min outside — EXCURSION" in out
    assert f"{trip.kymriah} KYMRIAH ≤ -120 °C: 0 min outside — within range" in out
    assert sum(line.startswith("recorded ") for line in out.splitlines()) == 4
    size = ledger.store.size()
    code, out, _ = cli(*argv, "--json")
    answer = json.loads(out)
    assert (code, answer["already_imported"]) == (0, True)
    assert answer["document"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ledger.store.size() == size


def test_a_bad_file_exits_2_naming_the_line_and_stores_nothing(cli: Any, ledger: CustodyLedger, tmp_path: Path) -> None:
    trip = Trip(team(ledger))
    path = tmp_path / "LOG-9120.csv"
    path.write_bytes(trip.csv().replace(b"-180,5;", b";", 1))  # the first reading has no temperature
    size = ledger.store.size()
    code, out, _ = cli(
        "logger", "import", str(path), "--shipment", str(trip.shipment), "--user", "pharmacist", "--json"
    )
    answer = json.loads(out)
    assert (code, answer["rule"], answer["field"]) == (2, "invalid_logger_file", "readings[0].temperature")
    assert "line 3" in answer["message"]
    assert ledger.store.size() == size
