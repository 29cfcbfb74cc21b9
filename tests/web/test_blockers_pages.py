"""Before the irreversible step: the product page and the thaw form show why infusion would be refused, the thaw
takes a deliberate tick that the signed thaw keeps, and the exceptional release is decided on the QC figures, the
QP's form waiting for the physician's request (both backends)."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from api import demo_journeys as j
from api.demo_journeys import UNIT
from ledger.service import CustodyLedger
from tests.api.conftest import START, password
from tests.integration.journeys import PATIENT, Recorder, conditioned, enrolled, released_and_stored


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "every signed-in page carries the session's CSRF token"
    return found.group(1)


def prefilled(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"the form prefills {name}"
    return found.group(1)


def readiness(page: str) -> str:
    """The blockers section of a page, as read (entities decoded)."""
    return html.unescape(page.split('id="infusion-readiness"')[1].split("</section>")[0])


def dispensed(team: Recorder, ledger: CustodyLedger) -> Any:
    """A released, stored product of a patient with no lymphodepletion recorded, dispensed to the unit an hour ago."""
    journey = released_and_stored(team, START)
    team(
        "pharmacist", "Dispensed", journey.product, datetime.now(UTC) - timedelta(hours=1), "verified",
        to_unit=UNIT, scanned_coi=journey.coi.value, scanned_patient=PATIENT, release_verified=True,
    )  # fmt: skip
    return journey


def test_the_product_page_lists_each_blocker_with_the_remedy_linked_for_who_records_it(
    browser_of: Any, team: Recorder
) -> None:
    journey = released_and_stored(team, START)
    page = browser_of("physician").get(f"/ui/products/{journey.product}", headers={"accept-language": "en"}).text
    section = readiness(page)
    assert 'data-blockers="lymphodepletion_missing"' in page
    assert "Infusion would not be allowed now" in section
    override = f'href="/ui/products/{journey.product}/steps/LymphodepletionOverrideRecorded"'
    assert override in section  # the physician records the override: linked
    assert 'data-step="LymphodepletionRecorded">LymphodepletionRecorded (recorded by' in section  # a pathway step

    nurse = browser_of("nurse").get(f"/ui/products/{journey.product}").text
    section = readiness(nurse)
    assert override not in section  # a nurse does not record it: who does is said instead
    assert "La perfusion ne serait pas permise maintenant" in section
    assert "Aucune lymphodéplétion n'est enregistrée avant la perfusion." in section

    conditioned(team, PATIENT, datetime.now(UTC))
    page = browser_of("nurse").get(f"/ui/products/{journey.product}").text
    assert 'data-blockers=""' in page and "La perfusion serait permise maintenant" in readiness(page)


def test_no_readiness_is_shown_before_release(browser_of: Any, team: Recorder) -> None:
    journey = enrolled(team, START)
    page = browser_of("nurse").get(f"/ui/products/{journey.product}").text
    assert 'id="infusion-readiness"' not in page


def test_the_thaw_form_takes_a_deliberate_tick_and_the_signed_thaw_keeps_it(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = dispensed(team, ledger)
    client = browser_of("nurse")
    url = f"/ui/products/{journey.product}/steps/Thawed"
    form = client.get(url).text
    tick = re.search(r'<input type="checkbox" id="acknowledge-blockers"[^>]*>', form)
    assert tick is not None
    assert 'value="lymphodepletion_missing"' in tick.group(0) and "required" in tick.group(0)
    assert 'form="step-form"' in tick.group(0)
    assert "infusion_blockers_acknowledged." not in form  # never a list to type
    now = prefilled(form, "started_at")
    thaw = {
        "csrf": csrf(form), "method": "dry_thawer", "started_at": now, "completed_at": now,
        "bag_id": f"LOT-{journey.coi.sequence}-B1", "meaning": "performed", "password": password("nurse"),
    }  # fmt: skip
    size = ledger.store.size()

    refused = client.post(url, data=thaw)
    assert refused.status_code == 409, refused.text
    assert "thaw_blockers_not_acknowledged" in refused.text
    assert 'id="acknowledge-blockers"' in refused.text  # the reasons and the tick, shown again
    assert ledger.store.size() == size

    ticked = {**thaw, "infusion_blockers_acknowledged": "lymphodepletion_missing"}
    answer = client.post(url, data=ticked, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    [signed] = [e for e in ledger.history(journey.product) if e.type == "Thawed"]
    assert signed.body["payload"]["infusion_blockers_acknowledged"] == ["lymphodepletion_missing"]
    assert signed.body["actor"]["user_id"] == "nurse"


def test_a_thaw_form_with_nothing_blocking_has_no_tick(browser_of: Any, team: Recorder, ledger: CustodyLedger) -> None:
    journey = dispensed(team, ledger)
    conditioned(team, PATIENT, datetime.now(UTC))
    form = browser_of("nurse").get(f"/ui/products/{journey.product}/steps/Thawed").text
    assert 'data-blockers=""' in form and 'id="acknowledge-blockers"' not in form


def out_of_specification(team: Recorder) -> Any:
    journey = enrolled(team, START)
    din = f"G1234{START.year % 100:02d}{uuid.uuid4().int % 1_000_000:06d}"
    qc_at = j.collect_and_manufacture(team, journey.product, journey.coi, din, START + timedelta(days=1))
    j.qc(team, journey.product, qc_at, viability=61)
    return journey


def qc_row(page: str, test: str) -> str:
    found = re.search(rf'<tr class="qc-test[^"]*" data-test="{test}"[^>]*>(.*?)</tr>', page, re.DOTALL)
    assert found is not None, f"no QC row for {test}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def test_the_exceptional_release_forms_show_the_qc_and_the_approval_waits_for_the_request(
    browser_of: Any, team: Recorder
) -> None:
    journey = out_of_specification(team)
    approval = f"/ui/products/{journey.product}/steps/ExceptionalReleaseApproved"
    qp = browser_of("qp")
    qp.cookies.set("lang", "en")
    page = qp.get(f"/ui/products/{journey.product}").text
    assert 'id="release-waiting"' in page and "no request yet" in page
    assert approval not in page
    waiting = qp.get(approval)
    assert waiting.status_code == 409 and 'id="step-form"' not in waiting.text
    assert "once the treating physician has requested the exceptional release in writing" in waiting.text

    physician = browser_of("physician")
    physician.cookies.set("lang", "en")
    request = physician.get(f"/ui/products/{journey.product}/steps/ExceptionalReleaseRequested").text
    assert 'id="step-form"' in request
    assert qc_row(request, "viability") == "viability 61 % ≥ 80 % ✗ out of specification —"
    team(
        "physician", "ExceptionalReleaseRequested", journey.product, datetime.now(UTC) - timedelta(minutes=5),
        "requested", reason="no alternative: the patient's disease is progressing", risk_assessment_ref="RA-7",
    )  # fmt: skip

    qp = browser_of("qp")
    qp.cookies.set("lang", "en")
    page = qp.get(f"/ui/products/{journey.product}").text
    assert 'id="release-waiting"' not in page and approval in page
    form = qp.get(approval)
    assert form.status_code == 200 and 'id="step-form"' in form.text
    assert qc_row(form.text, "viability") == "viability 61 % ≥ 80 % ✗ out of specification —"
