"""The COI label as the browser draws it: both barcodes decoded back from the screen with zxing-cpp."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image

from tests.browser.conftest import STORED_PATIENT, Artefacts, Desks, Ward, as_user, require_browser

require_browser()  # skip (or, with CI=true, fail) before playwright is imported

from playwright.sync_api import Locator, expect  # noqa: E402


def decoded(element: Locator) -> list[tuple[str, str]]:
    """What a scanner would read from the element as rendered (a screenshot of it, in grey)."""
    picture = Image.open(io.BytesIO(element.screenshot())).convert("L")
    return [(str(code.format), code.text) for code in zxingcpp.read_barcodes(picture)]


def test_the_printed_label_carries_the_coi_in_code_128_and_datamatrix(
    ward: Ward, desks: Desks, artefacts: Artefacts
) -> None:
    # A label printer prints at 300 dpi or more: the page is drawn at 4 device pixels per CSS pixel (≈ 384 dpi).
    context = desks.browser.new_context(
        base_url=desks.base_url, locale="fr-FR", timezone_id="Europe/Paris",
        viewport={"width": 1366, "height": 900}, device_scale_factor=4,
    )  # fmt: skip
    desks.contexts["label-printer"] = context
    page = as_user(context.new_page(), "pharmacist")
    desks.pages["label-printer"] = page
    coi = ward.stored.coi
    page.goto(f"/ui/products/{coi.value}")
    page.locator("#print-label").click()
    expect(page.locator("#label-eye-readable")).to_have_text(coi.eye_readable)
    page.emulate_media(media="print")
    artefacts.shot(page, "label-printed")
    assert decoded(page.locator("#label-datamatrix")) == [("Data Matrix", f"&/{coi.value}")]
    assert decoded(page.locator("#label-code128")) == [("Code 128", coi.value)]
    # The label names the patient by pseudonym only: the identity stays sealed.
    assert STORED_PATIENT in page.locator("#label").inner_text()
