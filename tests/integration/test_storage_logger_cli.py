"""`custody logger import FILE --product ID…` (a tank's logger over each product's storage), on both backends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from api import demo_journeys as j
from domain.product import TherapyProduct
from ledger.service import CustodyLedger
from ledger.settings import Settings
from tests.conftest import cli_runner, point_cli_at
from tests.integration.journeys import team
from tests.integration.storage_fixtures import Tank


@pytest.fixture
def cli(
    ledger: CustodyLedger, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    point_cli_at(settings, monkeypatch, password="pharmacist-password")
    return cli_runner(capsys)


def test_one_tank_file_for_every_product_the_tank_held(cli: Any, ledger: CustodyLedger, tmp_path: Path) -> None:
    tank = Tank(team(ledger))
    path = tmp_path / "tank-1.csv"
    path.write_bytes(tank.csv(warm=(600, 660)))
    coi = ledger.load(tank.kymriah)
    assert isinstance(coi, TherapyProduct)
    argv = (
        "logger", "import", str(path), "--product", coi.coi, "--product", str(tank.tecartus),
        "--tank", j.LN2_TANK, "--user", "pharmacist",
    )  # fmt: skip
    code, out, err = cli(*argv)
    assert code == 0, err
    lines = out.splitlines()
    assert f"product {tank.kymriah}, tank LN2-TANK-1 at CHU-F9999 PUI: 283 readings, min -185 °C, max -130 °C, " \
        "limit ≤ -120 °C, 0 min outside — within range; longest gap 10 min" in lines  # fmt: skip
    assert f"product {tank.tecartus}, tank LN2-TANK-1 at CHU-F9999 PUI: 283 readings, min -185 °C, max -130 °C, " \
        "limit ≤ -150 °C, 60 min outside — EXCURSION; longest gap 10 min" in lines  # fmt: skip
    assert (
        sum(line.startswith("recorded ") for line in lines) == 2 + 3
    )  # Kymriah: import, summary; Tecartus: +excursion
    size = ledger.store.size()
    code, out, _ = cli(*argv, "--json")
    answers = json.loads(out)
    assert code == 0 and [a["already_imported"] for a in answers] == [True, True]
    assert ledger.store.size() == size


def test_a_tank_one_product_never_sat_in_stores_nothing_for_any(
    cli: Any, ledger: CustodyLedger, tmp_path: Path
) -> None:
    rec = team(ledger)
    tank = Tank(rec)
    other = Tank(rec, store=False)
    path = tmp_path / "tank-1.csv"
    path.write_bytes(tank.csv())
    size = ledger.store.size()
    code, out, _ = cli(
        "logger", "import", str(path), "--product", str(tank.kymriah), "--product", str(other.kymriah),
        "--user", "pharmacist", "--json",
    )  # fmt: skip
    answer = json.loads(out)
    assert (code, answer["rule"]) == (2, "product_never_in_tank")
    assert ledger.store.size() == size  # the first product, which did sit in the tank, got nothing either


def test_tank_without_product_is_refused(cli: Any, ledger: CustodyLedger, tmp_path: Path) -> None:
    path = tmp_path / "tank-1.csv"
    path.write_bytes(b"timestamp,temperature\n2026-12-01T10:00:00Z,-185\n")
    code, out, _ = cli(
        "logger", "import", str(path), "--shipment", "4b0d8f2e-6a55-4c7e-9a71-0c3e5d2f9b11", "--tank", "T",
        "--user", "pharmacist", "--json",
    )  # fmt: skip
    assert (code, json.loads(out)["field"]) == (2, "tank")
