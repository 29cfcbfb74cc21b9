"""The COI label: a DataMatrix that decodes back to the COI's ISBT 128 data structure, on a label-sized page."""

from __future__ import annotations

import re
from typing import Any

import zxingcpp
from PIL import Image, ImageDraw

from api.web.barcode import datamatrix_svg
from tests.api.conftest import START
from tests.integration.journeys import Recorder, enrolled, enrolled_outside_any_trial

RECTANGLE = re.compile(r"M(\d+) (\d+)h(\d+)v(\d+)h-\d+Z")


def rasterised(svg: str, border: int = 8) -> Image.Image:
    """The SVG's dark rectangles painted on a white bitmap: what a label printer would print."""
    width = int(re.search(r'<svg width="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    height = int(re.search(r'height="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    image = Image.new("L", (width + 2 * border, height + 2 * border), 255)
    draw = ImageDraw.Draw(image)
    path = re.search(r'<path d="([^"]+)"', svg).group(1)  # type: ignore[union-attr]
    rectangles = RECTANGLE.findall(path)
    assert rectangles and "".join(f"M{x} {y}h{w}v{h}h-{w}Z" for x, y, w, h in rectangles) == path
    for x, y, w, h in rectangles:
        left, top = int(x) + border, int(y) + border
        draw.rectangle((left, top, left + int(w) - 1, top + int(h) - 1), fill=0)
    return image.resize((image.width * 4, image.height * 4), Image.Resampling.NEAREST)


def decoded(svg: str) -> list[tuple[str, str]]:
    found = zxingcpp.read_barcodes(rasterised(svg))
    return [(str(code.format), code.text) for code in found]


def test_the_datamatrix_decodes_to_the_data_it_was_given() -> None:
    assert decoded(datamatrix_svg("&/CHG123425AB12CD").decode()) == [("Data Matrix", "&/CHG123425AB12CD")]


def test_two_cois_give_two_different_symbols() -> None:
    assert datamatrix_svg("&/CHG123425AB12CD") != datamatrix_svg("&/CHG123425AB12CE")


def test_the_product_datamatrix_carries_the_coi_data_structure(browser_of: Any, team: Recorder) -> None:
    journey = enrolled(team, START)
    nurse = browser_of("nurse")
    answer = nurse.get(f"/ui/products/{journey.product}/datamatrix.svg")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/svg+xml"
    assert decoded(answer.text) == [("Data Matrix", f"&/{journey.coi.value}")]


def test_the_label_page_is_label_sized_and_shows_both_codes_and_no_identity(browser_of: Any, team: Recorder) -> None:
    journey = enrolled(team, START)
    page = browser_of("nurse").get(f"/ui/products/{journey.product}/label").text
    assert "@page { size: 100mm 50mm" in page
    assert f'src="/ui/products/{journey.product}/label.svg"' in page
    assert f'src="/ui/products/{journey.product}/datamatrix.svg"' in page
    assert journey.coi.eye_readable in page and "Imprimer l&#39;étiquette" in page
    product = browser_of("nurse").get(f"/ui/products/{journey.product}").text
    assert f'href="/ui/products/{journey.product}/label"' in product and 'id="coi-datamatrix"' in product


def test_a_sponsor_gets_no_label_of_a_product_outside_its_trials(browser_of: Any, team: Recorder) -> None:
    in_trial = enrolled(team, START)  # the demo trial, whose sponsor user is "sponsor"
    outside = enrolled_outside_any_trial(team, START).product
    sponsor = browser_of("sponsor")
    assert sponsor.get(f"/ui/products/{in_trial.product}/datamatrix.svg").status_code == 200
    assert sponsor.get(f"/ui/products/{outside}/datamatrix.svg").status_code == 404
    assert sponsor.get(f"/ui/products/{outside}/label").status_code == 404
