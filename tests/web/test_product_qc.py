"""The product page shows each QC test beside its criterion with the verdict in words (French and English), a
missing test, and a QC result corrected out of specification beside the value first signed (both backends)."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ledger.clock import parse_instant
from ledger.service import CustodyLedger
from tests.api.conftest import START
from tests.integration.corrected_qc import correct_viability, manufactured_without_potency, version_of
from tests.integration.journeys import PATIENT, Recorder, released_and_stored


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def _qc_row(page: str, test: str) -> list[str]:
    """The cells of the QC table's row for that test, as read (tags removed)."""
    found = re.search(rf'<tr class="qc-test[^"]*" data-test="{re.escape(test)}"[^>]*>(.*?)</tr>', page, re.DOTALL)
    assert found is not None, f"no QC row for {test}"
    return [_text(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", found.group(1), re.DOTALL)]


def _changes(page: str, version: int) -> list[list[str]]:
    found = re.search(rf'id="correction-v{version}">(.*?)</article>', page, re.DOTALL)
    assert found is not None, f"no correction chain for v{version}"
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", found.group(1), re.DOTALL)
    return [[_text(cell) for cell in re.split(r"</t[hd]>", row) if _text(cell)] for row in rows]


def test_a_qc_result_corrected_out_of_specification_shows_both_values_and_the_verdict_in_words(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = released_and_stored(team, START)
    qc = version_of(ledger, journey.product, "QcResultsRecorded")
    fix = correct_viability(team, journey.product, qc, 61, "viability misread", ledger.clock.now() - timedelta(hours=1))
    client = browser_of("pharmacist")
    client.cookies.set("lang", "en")
    page = client.get(f"/ui/products/{journey.product}").text

    assert _qc_row(page, "viability") == [
        "viability", "61 %", "≥ 80 %", "✗ out of specification",
        f"92 % — ✓ in specification (first signed at v{qc}, corrected at v{fix})",
    ]  # fmt: skip
    assert _qc_row(page, "sterility") == ["sterility", "no growth", "no growth", "✓ in specification", "—"]
    assert '<th scope="col">Acceptance criterion</th>' in page
    summary = _text(page.split('id="qc-summary">')[1].split("</p>")[0])
    assert summary == f"Lot LOT-{journey.coi.sequence} · panel complete · out of specification: viability"
    changes = _changes(page, qc)
    assert ["tests[viability].result", "92 %", "61 %"] in changes
    assert ["tests[viability].in_spec", "true", "false"] in changes
    chain = page.split(f'id="correction-v{qc}">')[1].split("</ol>")[0]
    assert f"v{fix}" in chain and "Quinn Qc (qp)" in chain and f"corrects v{qc}" in chain
    assert "viability misread" in chain

    client.cookies.set("lang", "fr")
    page = client.get(f"/ui/products/{journey.product}").text
    assert _qc_row(page, "viability") == [
        "viability", "61 %", "≥ 80 %", "✗ hors spécification",
        f"92 % — ✓ conforme à la spécification (signé initialement en v{qc}, corrigé en v{fix})",
    ]  # fmt: skip
    assert '<th scope="col">Critère d&#39;acceptation</th>' in page or "Critère d'acceptation" in page
    assert "Faits corrigés" in page


def test_a_test_missing_from_the_panel_is_listed_as_missing(browser_of: Any, team: Recorder) -> None:
    journey = manufactured_without_potency(team, START)
    client = browser_of("qp")
    client.cookies.set("lang", "en")
    page = client.get(f"/ui/products/{journey.product}").text
    assert _qc_row(page, "potency") == ["potency", "—", "conforms", "⚠ missing — release needs the whole panel", "—"]
    summary = _text(page.split('id="qc-summary">')[1].split("</p>")[0])
    incomplete = "panel incomplete: release needs the whole panel (missing: potency)"
    assert summary == f"Lot LOT-{journey.coi.sequence} · {incomplete}"
    assert 'id="corrections-title"' not in page, "nothing was corrected"


def test_the_patient_timeline_shows_the_chain_under_the_corrected_fact_and_the_audit_replay_before_and_after(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = released_and_stored(team, START)
    qc = version_of(ledger, journey.product, "QcResultsRecorded")
    before = (ledger.clock.now() + timedelta(seconds=1)).replace(microsecond=0)  # the replay form reads seconds
    time.sleep(max(0.0, (before - ledger.clock.now()).total_seconds()) + 0.05)
    fix = correct_viability(team, journey.product, qc, 61, "viability misread", ledger.clock.now() - timedelta(hours=1))
    client = browser_of("auditor")
    client.cookies.set("lang", "en")
    page = client.get(f"/ui/patients/{PATIENT}").text
    corrected = page.split(f'id="corrected-{journey.product}-v{qc}">')[1].split("</div>")[0]
    items = [_text(item) for item in re.findall(r"<li>(.*?)</li>", corrected, re.DOTALL)]
    assert items[:3] == [
        "tests[viability].in_spec: Original value true → Value in force false",
        "tests[viability].result: Original value 92 % → Value in force 61 %",
        "tests[viability].value: Original value 92 → Value in force 61",
    ]
    assert items[3].startswith(f"v{fix} Quinn Qc (qp), ") and items[3].endswith(f", corrects v{qc}: viability misread")
    assert f"Correction of v{qc} QcResultsRecorded — Reason: viability misread" in _text(page)

    assert parse_instant(ledger.history(journey.product)[fix - 1].body["recorded_at"]) > before
    moment = before.astimezone(ZoneInfo("Europe/Paris")).strftime("%Y-%m-%dT%H:%M:%S")
    replay = client.get("/ui/audit", params={"product": journey.coi.value, "as_of": moment}).text
    then, now = (_text(cell) for cell in re.findall(r'<td class="replay-qc">(.*?)</td>', replay, re.DOTALL))
    assert (then, now) == ("panel complete", "panel complete; out of specification: viability")
    then, now = (_text(cell) for cell in re.findall(r'<td class="replay-corrections">(.*?)</td>', replay, re.DOTALL))
    assert (then, now) == ("none", f"v{qc} QcResultsRecorded (corrected at v{fix})")
