"""The pharmacy, patient, auditor and metrics pages, and the vein-to-vein chart on the product page."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from api import demo_journeys as j
from api.web import views
from api.web.charts import RangeBar, format_days, nice_step, range_chart, vein_to_vein_layout
from domain.pathway import pathway_id_for
from ledger.service import CustodyLedger
from ledger.verifier import VerificationReport, VerifyOptions
from projections import queries
from tests.api.conftest import ROLES, START, MovableClock, Session, password
from tests.integration.journeys import PATIENT, Recorder, dba, enrolled, infused, released_and_stored
from tests.role_table import AUDIT_READERS, INVENTORY_READERS, METRICS_READERS, PATIENT_TIMELINE_READERS, VERIFIERS

PARIS = ZoneInfo("Europe/Paris")


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "every signed-in page carries the session's CSRF token"
    return found.group(1)


def english(client: TestClient) -> TestClient:
    client.cookies.set("lang", "en")
    return client


def between(page: str, start: str, end: str) -> str:
    """The part of the page from ``start`` up to the next ``end``."""
    assert start in page, f"{start!r} is not in the page"
    return page.split(start, 1)[1].split(end, 1)[0]


# -- inventory -----------------------------------------------------------------------------------------


def test_the_inventory_shows_a_stored_unit_under_its_site_tank_rack_and_box(browser_of: Any, team: Recorder) -> None:
    stored = released_and_stored(team, START)
    client = english(browser_of("pharmacist"))
    answer = client.get("/ui/inventory")
    assert answer.status_code == 200
    page = answer.text
    site = between(page, f'data-site="{j.PHARMACY}"', "</section>\n</section>")
    assert f"Site: {j.PHARMACY}" in page
    assert page.index(f"Site: {j.PHARMACY}") < page.index("LN2 tank LN2-TANK-1") < page.index("Rack R3")
    box = between(site, 'data-box="B12"', "</table>")
    assert "Box B12" in box and 'scope="col"' in box and '<th scope="row">A1</th>' in box
    assert f'<a href="/ui/products/{stored.product}">{stored.coi.value}</a>' in box
    assert 'data-status="available"' in box and PATIENT in box
    assert 'id="inventory-total" role="status">Units on hand: 1<' in page

    only = client.get("/ui/inventory", params={"site": j.PHARMACY})
    assert only.status_code == 200 and stored.coi.value in only.text
    assert f'<option value="{j.PHARMACY}" selected>' in only.text
    unknown = client.get("/ui/inventory", params={"site": "Nowhere hospital"})
    assert unknown.status_code == 404 and "unknown_site" in unknown.text


def test_an_enrolled_product_is_not_on_hand(browser_of: Any, team: Recorder) -> None:
    enrolled(team, START)
    page = english(browser_of("nurse")).get("/ui/inventory").text
    assert 'id="inventory-empty"' in page and "No unit is on hand." in page


# -- a patient -------------------------------------------------------------------------------------------


def test_the_patient_page_shows_the_timeline_and_the_follow_up_schedule_then_overdue_visits(
    browser_of: Any, team: Recorder, clock: MovableClock, ledger: CustodyLedger
) -> None:
    journey = infused(team, datetime.now(UTC) - timedelta(days=40))  # infused 15 days ago, day-7 visit done
    page = english(browser_of("nurse")).get(f"/ui/patients/{PATIENT}").text
    timeline = between(page, 'id="patient-timeline"', "</ol>")
    kinds = re.findall(r'<li data-event="(\w+)">', timeline)
    assert kinds[0] == "PatientEnrolled", "the care pathway comes first"
    assert kinds.index("TreatmentDecisionCosigned") < kinds.index("ConsentSigned") < kinds.index("ProductEnrolled")
    assert kinds.index("LymphodepletionRecorded") < kinds.index("Infused") < kinds.index("FollowUpRecorded")
    assert len(kinds) == len(ledger.history(journey.product)) + len(ledger.history(pathway_id_for(PATIENT)))
    schedule = between(page, 'id="follow-up"', "</table>")
    statuses = dict(re.findall(r'data-visit="([^"]+)" data-status="(\w+)"', schedule))
    assert statuses["day 7"] == "done"
    assert statuses["day 14"] == "due" and statuses["day 28"] == "upcoming" and statuses["year 15"] == "upcoming"
    assert len(statuses) == 20, "every visit of the CAR-T schedule, done or not"
    assert 'id="overdue-summary"' not in page

    clock.advance(timedelta(days=20))
    moved = english(browser_of("nurse")).get(f"/ui/patients/{PATIENT}").text
    statuses = dict(re.findall(r'data-visit="([^"]+)" data-status="(\w+)"', moved))
    assert statuses["day 14"] == "overdue" and statuses["day 28"] == "overdue" and statuses["month 3"] == "upcoming"
    summary = between(moved, '<div class="alert-overdue" role="alert" id="overdue-summary">', "</div>")
    assert "2 overdue follow-up visits" in summary and "day 14" in summary and "day 28" in summary
    row = between(moved, 'data-visit="day 14"', "</tr>")
    assert "⚠ Overdue" in row and "days late" in row
    assert 'class="visit visit-overdue overdue"' in moved
    french = browser_of("nurse").get(f"/ui/patients/{PATIENT}").text
    assert "EN RETARD" in french and "Calendrier de suivi" in french


def test_an_unknown_patient_is_not_found(browser_of: Any, team: Recorder) -> None:
    enrolled(team, START)
    answer = browser_of("physician").get("/ui/patients/PSN-NOBODY")
    assert answer.status_code == 404 and 'id="problem"' in answer.text


# -- audit: replay as of a moment ------------------------------------------------------------------------------


def test_the_replay_shows_the_product_as_the_ledger_knew_it_in_the_site_time_zone(
    client: TestClient, browser_of: Any, team: Recorder, clock: MovableClock
) -> None:
    journey = released_and_stored(team, START)
    clock.advance(timedelta(hours=2))
    dispensed = Session(client, "pharmacist").post(
        f"/products/{journey.product}/events",
        {
            "type": "Dispensed",
            "meaning": "verified",
            "password": password("pharmacist"),
            "payload": {
                "to_unit": j.UNIT,
                "scanned_coi": journey.coi.value,
                "scanned_patient": PATIENT,
                "release_verified": True,
            },
        },
    )
    assert dispensed.status_code == 201, dispensed.text
    # Half an hour before the dispensing was recorded, as a Paris wall clock reads it; read as UTC, it
    # would fall after the dispensing.
    moment = (clock.now() - timedelta(minutes=30)).astimezone(PARIS).strftime("%Y-%m-%dT%H:%M:%S")
    auditor = english(browser_of("auditor"))
    answer = auditor.get("/ui/audit", params={"product": journey.coi.value, "as_of": moment})
    assert answer.status_code == 200, answer.text
    assert 'id="replay-state"><strong>stored</strong>' in answer.text
    assert 'id="replay-state-now">dispensed<' in answer.text
    by_uuid = auditor.get("/ui/audit", params={"product": str(journey.product), "as_of": moment[:16]})
    assert 'id="replay-state"><strong>stored</strong>' in by_uuid.text

    prefilled = auditor.get("/ui/audit", params={"product": journey.coi.value})
    assert f'value="{journey.coi.value}"' in prefilled.text and 'id="replay-table"' not in prefilled.text
    before = auditor.get("/ui/audit", params={"product": journey.coi.value, "as_of": "2020-01-01T00:00"})
    assert before.status_code == 404 and "not_yet_recorded" in before.text and 'role="alert"' in before.text
    garbled = auditor.get("/ui/audit", params={"product": journey.coi.value, "as_of": "last tuesday"})
    assert garbled.status_code == 422 and 'aria-invalid="true"' in garbled.text and "<code>as_of</code>" in garbled.text
    bad_coi = auditor.get("/ui/audit", params={"product": "not a coi", "as_of": moment})
    assert bad_coi.status_code == 422 and "<code>product</code>" in bad_coi.text


# -- audit: verification with progress ------------------------------------------------------------------------


def job_of(fragment: str) -> str:
    """The job id a progress fragment names."""
    found = re.search(r'data-job="([\w-]+)"', fragment)
    assert found, fragment
    return found.group(1)


def poll(client: TestClient, job: str, deadline: float = 60.0) -> str:
    """Poll the fragment as htmx does until the job is done."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        fragment = client.get(f"/ui/audit/verify/{job}", headers={"HX-Request": "true"})
        assert fragment.status_code == 200
        if 'data-state="running"' not in fragment.text:
            return fragment.text
        assert 'hx-trigger="every 500ms"' in fragment.text and "<progress" in fragment.text
        time.sleep(0.1)
    raise AssertionError("the verification did not finish")


def test_the_verification_runs_in_the_background_and_reaches_intact_then_failed_after_tampering(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = released_and_stored(team, START)
    auditor = english(browser_of("auditor"))
    page = auditor.get("/ui/audit").text
    assert 'aria-live="polite"' in page and 'hx-post="/ui/audit/verify"' in page
    started = auditor.post("/ui/audit/verify", data={"csrf": csrf(page)}, headers={"HX-Request": "true"})
    assert started.status_code == 202
    assert 'id="verify-job"' in started.text
    job_id = job_of(started.text)
    done = poll(auditor, job_id)
    size = ledger.store.size()
    assert 'data-verdict="intact"' in done and "Ledger intact" in done
    assert f"{size} / {size} events (100 %)" in done and f'max="{size}" value="{size}"' in done
    assert "hx-trigger" not in done, "polling stops with the verdict"

    with dba(ledger.settings) as db:
        db.disable_immutability()
        row = db.row(journey.product, 1)
        db.set_state(journey.product, 1, row.state.replace(b"ACADEMIC", b"ACADEMIX"))
    plain = auditor.post("/ui/audit/verify", data={"csrf": csrf(page)}, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"].startswith("/ui/audit?job=")
    job_id = plain.headers["location"].split("job=")[1].split("#")[0]
    failed = poll(auditor, job_id)
    assert 'data-verdict="failed"' in failed and 'id="verify-failures"' in failed
    assert str(journey.product) in between(failed, 'id="verify-failures"', "</table>")
    whole = auditor.get(plain.headers["location"]).text
    assert 'id="verify-status" aria-live="polite"' in whole and 'data-verdict="failed"' in whole


def test_the_progress_fragment_shows_events_checked_of_the_total(
    browser_of: Any, team: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    halfway, release = threading.Event(), threading.Event()

    def slow_verify(store: Any, options: VerifyOptions) -> VerificationReport:
        assert options.progress is not None
        options.progress(3, 12)
        halfway.set()
        release.wait(10)
        options.progress(12, 12)
        return VerificationReport(events=12, aggregates=2)

    monkeypatch.setattr(views, "verify_store", slow_verify)
    auditor = english(browser_of("auditor"))
    token = csrf(auditor.get("/ui/audit").text)
    started = auditor.post("/ui/audit/verify", data={"csrf": token}, headers={"HX-Request": "true"})
    job_id = job_of(started.text)
    assert halfway.wait(10)
    running = auditor.get(f"/ui/audit/verify/{job_id}", headers={"HX-Request": "true"}).text
    assert 'data-state="running"' in running and 'hx-trigger="every 500ms"' in running
    assert '<progress id="verify-progress" max="12" value="3"' in running
    assert '3</span> / <span data-total="12">12</span> events (25 %)' in running
    release.set()
    assert 'data-verdict="intact"' in poll(auditor, job_id)
    lost = auditor.get("/ui/audit/verify/no-such-job", headers={"HX-Request": "true"})
    assert lost.status_code == 200 and 'data-state="unknown"' in lost.text and "hx-trigger" not in lost.text
    assert auditor.get("/ui/audit/verify/no-such-job").status_code == 404


def test_starting_a_verification_needs_the_session_csrf_token(browser_of: Any, team: Recorder) -> None:
    auditor = browser_of("auditor")
    refused = auditor.post("/ui/audit/verify", data={"csrf": "0" * 64}, headers={"HX-Request": "true"})
    assert refused.status_code == 403 and "csrf" in refused.text
    assert auditor.post("/ui/audit/verify", data={}).status_code == 403


# -- metrics and the vein-to-vein chart ------------------------------------------------------------------------


def test_the_metrics_page_plots_and_tabulates_the_turnaround_figures(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    infused(team, START)
    infused(team, START + timedelta(days=3), "PSN-TEST-0002")
    [group] = queries.metrics(ledger.store)
    vein = group["vein_to_vein"]
    physician = english(browser_of("physician"))
    page = physician.get("/ui/metrics").text
    chart = between(page, '<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-vein-to-vein"', "</svg>")
    assert 'role="img"' in chart and "<title" in chart and "<desc" in chart
    assert '<rect class="bar"' in chart and f'data-median="{vein["median_days"]}"' in chart
    figures = f"{format_days(vein['median_days'])} ({format_days(vein['min_days'])}–{format_days(vein['max_days'])})"
    assert figures in chart
    table = between(page, 'id="table-vein-to-vein"', "</table>")
    assert '<th scope="col">Median</th>' in table and '<th scope="row">CAR-T</th>' in table
    assert f'<td class="median">{format_days(vein["median_days"])}</td>' in table
    for name in ("collection-to-release", "release-to-infusion"):
        assert f'id="chart-{name}"' in page and f'id="table-{name}"' in page
    physician.cookies.set("lang", "fr")
    french = physician.get("/ui/metrics").text
    assert "Délais de prise en charge" in french and format_days(vein["median_days"], "fr") in french
    assert "," in format_days(vein["median_days"], "fr")


def test_the_product_page_draws_its_vein_to_vein_timeline(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = infused(team, START)
    waiting = enrolled(team, START, "PSN-TEST-0002")
    [group] = queries.metrics(ledger.store)
    days = group["vein_to_vein"]["median_days"]
    page = english(browser_of("pharmacist")).get(f"/ui/products/{journey.product}").text
    section = between(page, 'id="vein-to-vein"', "</section>")
    assert f'<span id="vein-to-vein-days">{format_days(days)}</span> days' in section
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"' in section
    assert section.count("<circle") == 3
    for milestone in ("collection", "release", "infusion"):
        assert f'data-milestone="{milestone}"><time' in section
    assert 'data-segment="collection-release"' in section and 'data-segment="release-infusion"' in section
    assert 'id="vein-to-vein"' not in browser_of("nurse").get(f"/ui/products/{waiting.product}").text


# -- roles and languages ---------------------------------------------------------------------------------------


def test_each_page_admits_the_roles_the_api_admits_and_refuses_the_others_with_a_403_page(
    browser_of: Any, team: Recorder
) -> None:
    enrolled(team, START)
    pages = {
        "/ui/inventory": INVENTORY_READERS,
        f"/ui/patients/{PATIENT}": PATIENT_TIMELINE_READERS,
        "/ui/audit": AUDIT_READERS,
        "/ui/metrics": METRICS_READERS,
    }
    for role in ROLES:
        client = browser_of(role)
        for path, allowed in pages.items():
            answer = client.get(path)
            if role in {str(r) for r in allowed}:
                assert answer.status_code == 200, (role, path, answer.text)
            else:
                assert answer.status_code == 403, (role, path)
                assert "role_not_allowed" in answer.text and 'id="problem"' in answer.text
        if role not in VERIFIERS:
            token = csrf(client.get("/ui/").text)
            assert client.post("/ui/audit/verify", data={"csrf": token}).status_code == 403
            assert client.get("/ui/audit/verify/any").status_code == 403
    anonymous = browser_of("nurse")
    anonymous.cookies.clear()
    assert anonymous.get("/ui/metrics", follow_redirects=False).status_code == 303


def test_every_page_renders_in_french_and_in_english(browser_of: Any, team: Recorder) -> None:
    released_and_stored(team, START)
    client = browser_of("auditor")
    expected = {
        "/ui/inventory": ("Inventaire de la pharmacie", "Pharmacy inventory"),
        f"/ui/patients/{PATIENT}": ("Calendrier de suivi", "Follow-up schedule"),
        "/ui/audit": ("Vérifier tout le registre", "Verify the whole ledger"),
        "/ui/metrics": ("Délais de prise en charge", "Turnaround metrics"),
    }
    for lang, index in (("fr", 0), ("en", 1)):
        client.cookies.set("lang", lang)
        for path, texts in expected.items():
            page = client.get(path).text
            assert texts[index] in page and f'<html lang="{lang}">' in page, (lang, path)


# -- the SVG helpers, without a store --------------------------------------------------------------------------


def test_chart_texts_are_escaped_and_ticks_are_round() -> None:
    bars = [RangeBar("car_t", "<script>x</script>", 2.0, 1.0, 3.5, 2), RangeBar("msc", "s", None, None, None, 0)]
    svg = range_chart("c", "T <b>", "D", bars, unit="days", no_data="none yet", number=format_days)
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "T &lt;b&gt;" in svg
    assert "none yet" in svg and "2.0 (1.0–3.5)" in svg
    assert [nice_step(span) for span in (0, 4, 23, 180)] == [1.0, 1.0, 5.0, 50.0]
    assert format_days(24.04, "fr") == "24,0" and format_days(None) == "—"


def test_the_vein_to_vein_layout_keeps_every_interval_readable() -> None:
    collected = datetime(2026, 3, 3, 8, tzinfo=UTC)
    layout = vein_to_vein_layout(
        {
            "collection": collected,
            "release": collected + timedelta(days=40),
            "infusion": collected + timedelta(days=40, hours=6),
        },
        lambda moment: moment.isoformat(),
    )
    assert layout is not None and layout["complete"] and layout["vein_to_vein_days"] == 40.25
    xs = [m["x"] for m in layout["milestones"]]
    assert xs[0] < xs[1] < xs[2] and (xs[2] - xs[1]) >= 0.2 * (xs[2] - xs[0])
    assert [s["days"] for s in layout["segments"]] == [40.0, 0.25]
    partial = vein_to_vein_layout({"collection": collected, "release": None, "infusion": None}, str)
    assert partial is not None and not partial["complete"] and partial["segments"] == []
    assert partial["vein_to_vein_days"] is None
    assert vein_to_vein_layout({"collection": None, "release": None, "infusion": None}, str) is None
