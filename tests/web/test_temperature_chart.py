"""The product page's temperature chart: drawn from the logger file, beside the figures the ledger signed."""

from __future__ import annotations

import re
from typing import Any

from ledger.logger_import import import_logger_file
from tests.integration.journeys import Recorder
from tests.integration.logger_fixtures import Trip
from tests.integration.storage_fixtures import Tank


def section(page: str, shipment: object) -> str:
    found = re.search(rf'<section[^>]*id="temperature-{shipment}"[^>]*>.*?</section>', page, re.S)
    assert found is not None, page
    return found.group(0)


def test_each_product_shows_its_own_range_and_verdict_for_the_shared_journey(browser_of: Any, team: Recorder) -> None:
    trip = Trip(team)
    content = trip.csv(warm=(120, 180), silent=(600, 660))  # 60 min at -130 °C; nothing from 590 to 660 min
    import_logger_file(team.ledger, trip.shipment, content, user="pharmacist", meaning="recorded",
                       password="pharmacist-password")  # fmt: skip
    client = browser_of("pharmacist")
    client.cookies.set("lang", "en")
    tecartus = section(client.get(f"/ui/products/{trip.tecartus}").text, trip.shipment)
    assert 'data-excursion="true"' in tecartus
    assert "≤ -150 °C" in tecartus and "60 min — <strong>Excursion</strong>" in tecartus
    assert "(70 min)" in tecartus and "(30 min allowed)" in tecartus  # the gap, 590 → 660 min
    # Sample and hold: two points per reading; the one before dispatch and the 115 during the journey.
    points = re.search(r'<polyline points="([^"]+)"', tecartus)
    assert points is not None and len(points.group(1).split()) == 2 * (1 + 121 - 6)
    assert tecartus.count('class="gap"') == 1 and tecartus.count('class="limit"') == 1
    kymriah = section(client.get(f"/ui/products/{trip.kymriah}").text, trip.shipment)
    assert 'data-excursion="false"' in kymriah and "≤ -120 °C" in kymriah and "0 min — Within range" in kymriah


def test_a_product_whose_shipper_logged_nothing_shows_no_chart(browser_of: Any, team: Recorder) -> None:
    trip = Trip(team)
    page = browser_of("pharmacist").get(f"/ui/products/{trip.kymriah}").text
    assert f'id="temperature-{trip.shipment}"' not in page


def test_a_tank_file_draws_the_stay_it_covered_with_the_storage_limit(browser_of: Any, team: Recorder) -> None:
    tank = Tank(team)
    tank.run(tank.tecartus, tank.csv(warm=(600, 660), silent=(1000, 1060)))
    client = browser_of("pharmacist")
    client.cookies.set("lang", "en")
    slug = f"{tank.tecartus}-R3-B12-{tank.positions[tank.tecartus]}"
    stay = section(client.get(f"/ui/products/{tank.tecartus}").text, slug)
    assert 'data-source="storage"' in stay and 'data-excursion="true"' in stay
    assert (
        "Temperature in LN2 storage" in stay and "≤ -150 °C" in stay and "60 min — <strong>Excursion</strong>" in stay
    )
    assert "(70 min)" in stay and "(30 min allowed)" in stay  # 990 → 1060 min without a reading
    # Sample and hold from the stay's start (60 min) to the file's last reading (2880 min): the reading at 50 min
    # held into the stay, then 283 − 6 during it.
    points = re.search(r'<polyline points="([^"]+)"', stay)
    assert points is not None and len(points.group(1).split()) == 2 * (1 + 283 - 6)
    client.cookies.set("lang", "fr")
    french = section(client.get(f"/ui/products/{tank.tecartus}").text, slug)
    assert "Température pendant le stockage en azote liquide" in french and "Période couverte" in french
