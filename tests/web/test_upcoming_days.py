"""The worklist shows the care team the open orders' days of the next two weeks; others see no such section."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from freezegun import freeze_time

from api import demo_journeys as j
from domain.pathway import pathway_id_for
from tests.api.conftest import START
from tests.api.test_orders_and_schedule import FIRST, SECOND, _declared
from tests.integration.journeys import Recorder


def _rows(page: str) -> list[tuple[str, str, str]]:
    table = page.split('id="upcoming-days"')[1].split("</table>")[0]
    found = re.findall(r'<tr data-kind="([a-z_]+)"><td>([0-9-]+)</td>.*?patients/([A-Z0-9-]+)"', table, re.S)
    return [(day, kind, patient) for kind, day, patient in found]


def test_the_next_two_weeks_of_planned_days_on_the_worklist(browser_of: Any, team: Recorder) -> None:
    _declared(team)
    order = {"manufacturer": j.MANUFACTURER}
    team("physician", "TreatmentOrdered", pathway_id_for(FIRST), START + timedelta(hours=1), "requested",
         apheresis_on="2026-03-09", slot_on="2026-03-16", infusion_on="2026-04-06", **order)  # fmt: skip
    team("physician", "TreatmentOrdered", pathway_id_for(SECOND), START + timedelta(hours=1), "requested",
         apheresis_on="2026-03-12", slot_on="2026-03-23", **order)  # fmt: skip
    with freeze_time("2026-03-09 08:00:00"):  # today at the site; the window ends on 23 March, included
        page = browser_of("nurse").get("/ui/").text
        assert _rows(page) == [
            ("2026-03-09", "apheresis", FIRST),
            ("2026-03-12", "apheresis", SECOND),
            ("2026-03-16", "manufacturing_slot", FIRST),
            ("2026-03-23", "manufacturing_slot", SECOND),
        ]  # the infusion on 6 April is beyond the two weeks
        assert "Prochaines dates de traitement" in page and "créneau de fabrication" in page
        courier = browser_of("courier").get("/ui/").text
        assert 'id="upcoming-days"' not in courier and "Prochaines dates de traitement" not in courier
