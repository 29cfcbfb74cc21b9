"""The product page's label shows an MSC dose's Single European Code as printed: "SEC" and its parts (both backends)."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import START
from tests.integration.journeys import Recorder, enrolled
from tests.integration.msc_dose import msc_dose_with_sec


def test_the_label_shows_the_dose_sec_eye_readable(browser_of: Any, team: Recorder) -> None:
    dose = msc_dose_with_sec(team, START)
    page = browser_of("pharmacist").get(f"/ui/products/{dose.product}")
    assert page.status_code == 200
    assert f'<p id="product-sec"><code>SEC FR000123 {dose.donor_din} E0000123 002 20271231</code></p>' in page.text


def test_a_product_without_a_sec_shows_none(browser_of: Any, team: Recorder) -> None:
    journey = enrolled(team, START)
    page = browser_of("nurse").get(f"/ui/products/{journey.product}")
    assert page.status_code == 200 and 'id="product-sec"' not in page.text
