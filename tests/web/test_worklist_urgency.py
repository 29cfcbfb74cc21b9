"""The worklist: deadlines that shout at the catalogue's thresholds, urgency order, pages, the search and scan box,
and the red banner of a product on hold.

Every time is frozen by hand. A product of ACADEMIC-CD19 (60 minutes from thaw completion to infusion) is thawed
on 27 March 2026 at 09:04 UTC, so its deadline is 10:04 UTC, 11:04 in Paris (UTC+1 until 29 March); the page is
read at chosen instants before and after, and each expected level, clock time and time left below is written
out here, never computed from the catalogue the page reads. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time

from api import demo_journeys as j
from api.web import worklist
from domain.errors import IdentityMismatch
from domain.identifiers import product_id_for
from ledger.catalogue_changes import sign_catalogue
from tests.api.conftest import START
from tests.integration.journeys import (
    Journey,
    Recorder,
    enrolled,
    password_of,
    ready,
    released_and_stored,
    thawed,
)

REGISTERED = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
RECORDED = datetime(2026, 3, 27, 9, 10, tzinfo=UTC)  # after the thaw (09:04 UTC), before its deadline (10:04 UTC)
THAWED_PATIENT = "PSN-TEST-0001"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[Any]:
    """Every signature and every read at a time the test chose (autouse: before the ledger and the team exist)."""
    with freeze_time(REGISTERED) as clock:
        yield clock


def row_of(page: str, product: Any) -> str:
    """The worklist row (a table row or a list item) of one product, in the first list that shows it."""
    found = re.search(rf'<(tr|li) class="([^"]*)" data-product="{product}">(.*?)</\1>', page, re.S)
    assert found is not None, f"no row for {product}"
    return f'class="{found.group(2)}" {found.group(3)}'


def section(page: str, table_id: str) -> str:
    return page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]


def products_in(html: str) -> list[str]:
    return re.findall(r'data-product="([0-9a-f-]{36})"', html)


def thawed_product(team: Recorder, frozen: Any) -> Journey:
    frozen.move_to(RECORDED)
    journey = thawed(team, START, THAWED_PATIENT)
    assert journey.thawed_at == datetime(2026, 3, 27, 9, 4, tzinfo=UTC)  # the times this file is written from
    return journey


def worklist_at(browser_of: Any, user: str, frozen: Any, moment: datetime) -> str:
    """The worklist as ``user`` reads it at ``moment``, signed in just before (a session ends when left idle)."""
    frozen.move_to(moment)
    answer = browser_of(user).get("/ui/")
    assert answer.status_code == 200, answer.text
    return str(answer.text)


@pytest.mark.parametrize(
    ("moment", "level", "words", "left"),
    [
        (datetime(2026, 3, 27, 9, 30, tzinfo=UTC), "calm", None, "reste 34 min"),
        (datetime(2026, 3, 27, 9, 48, 59, tzinfo=UTC), "calm", None, "reste 15 min"),  # 15 min 1 s: not yet
        (datetime(2026, 3, 27, 9, 49, tzinfo=UTC), "amber", "bientôt", "reste 15 min"),  # 15 min: amber
        (datetime(2026, 3, 27, 9, 58, 59, tzinfo=UTC), "amber", "bientôt", "reste 5 min"),  # 5 min 1 s
        (datetime(2026, 3, 27, 9, 59, tzinfo=UTC), "red", "urgent", "reste 5 min"),  # 5 min: red
        (datetime(2026, 3, 27, 10, 4, tzinfo=UTC), "red", "urgent", "reste 0 min"),  # reached, not yet past
        (datetime(2026, 3, 27, 10, 5, tzinfo=UTC), "overdue", "dépassé", "dépassé depuis 1 min"),
        (datetime(2026, 3, 27, 11, 9, tzinfo=UTC), "overdue", "dépassé", "dépassé depuis 1 h 05"),
    ],
)
def test_a_running_deadline_shows_its_clock_time_time_left_and_level_at_the_catalogue_thresholds(
    browser_of: Any, team: Recorder, frozen: Any, moment: datetime, level: str, words: str | None, left: str
) -> None:
    journey = thawed_product(team, frozen)
    page = worklist_at(browser_of, "nurse", frozen, moment)
    row = row_of(section(page, "awaiting"), journey.product)
    assert row.startswith(f'class="deadline-{level}')
    expires = "a expiré le 27 mars à 11:04" if level == "overdue" else "expire le 27 mars à 11:04"
    assert f'<time datetime="2026-03-27T11:04+01:00">{expires}</time>' in row
    assert f'<span class="deadline-left">{left}</span>' in row
    assert "Délai décongélation-perfusion" in row
    if words is None:
        assert "deadline-level" not in row
    else:
        assert f'<span class="deadline-level">{words}</span>' in row


def test_the_thresholds_are_the_signed_catalogues(browser_of: Any, team: Recorder, frozen: Any) -> None:
    journey = thawed_product(team, frozen)
    assert row_of(
        worklist_at(browser_of, "nurse", frozen, datetime(2026, 3, 27, 9, 30, tzinfo=UTC)), journey.product
    ).startswith('class="deadline-calm')  # 34 min left, amber at 15 by default
    mapping = {"ACADEMIC-CD19": {"thaw_to_infusion_amber_min": 40, "thaw_to_infusion_red_min": 20}}
    sign_catalogue(team.ledger, mapping, "the unit warns earlier", user="qp", password=password_of("qp"))
    at_34 = worklist_at(browser_of, "nurse", frozen, datetime(2026, 3, 27, 9, 30, tzinfo=UTC))
    assert row_of(at_34, journey.product).startswith('class="deadline-amber')
    at_20 = worklist_at(browser_of, "nurse", frozen, datetime(2026, 3, 27, 9, 44, tzinfo=UTC))
    assert row_of(at_20, journey.product).startswith('class="deadline-red')
    at_21 = worklist_at(browser_of, "nurse", frozen, datetime(2026, 3, 27, 9, 43, tzinfo=UTC))
    assert row_of(at_21, journey.product).startswith('class="deadline-amber')


def test_the_product_page_shows_the_same_deadline(browser_of: Any, team: Recorder, frozen: Any) -> None:
    journey = thawed_product(team, frozen)
    frozen.move_to(datetime(2026, 3, 27, 9, 59, tzinfo=UTC))
    nurse = browser_of("nurse")
    page = nurse.get(f"/ui/products/{journey.product}").text
    shown = page.split('id="product-deadlines"', 1)[1].split("</dd>", 1)[0]
    assert 'data-level="red"' in shown and "expire le 27 mars à 11:04" in shown and "reste 5 min" in shown
    nurse.cookies.set("lang", "en")
    english = nurse.get(f"/ui/products/{journey.product}").text.split('id="product-deadlines"', 1)[1]
    assert "Thaw to infusion" in english and "expires 27 Mar at 11:04" in english and "5 min left" in english
    assert '<span class="deadline-level">urgent</span>' in english


def held_and_waiting(team: Recorder, frozen: Any) -> dict[str, Any]:
    """The physician's work: a thawed product (its clock running), a suspended one, two enrolled ones."""
    frozen.move_to(RECORDED)
    hot = thawed(team, START, THAWED_PATIENT)
    suspended = released_and_stored(team, START, "PSN-TEST-0005")
    early = enrolled(team, START + timedelta(days=2), "PSN-TEST-0002")
    late = enrolled(team, START + timedelta(days=4), "PSN-TEST-0003")
    with pytest.raises(IdentityMismatch):  # the pharmacist scans another product's label: a near miss suspends it
        team(
            "pharmacist", "Dispensed", suspended.product, START + timedelta(days=24), "verified", to_unit=j.UNIT,
            scanned_coi=early.coi.value, scanned_patient="PSN-TEST-0005", release_verified=True,
        )  # fmt: skip
    return {"hot": hot, "suspended": suspended, "early": early, "late": late}


def test_the_worklist_is_sorted_by_urgency(browser_of: Any, team: Recorder, frozen: Any) -> None:
    made = held_and_waiting(team, frozen)
    page = worklist_at(browser_of, "physician", frozen, datetime(2026, 3, 27, 9, 40, tzinfo=UTC))
    expected = [made[name].product for name in ("hot", "suspended", "early", "late")]
    assert products_in(section(page, "awaiting")) == [str(product) for product in expected]
    assert products_in(section(page, "deadlines")) == [str(made["hot"].product)]


def test_pages_of_the_worklist_and_their_bounds(
    browser_of: Any, team: Recorder, frozen: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = held_and_waiting(team, frozen)
    monkeypatch.setattr(worklist, "PAGE_SIZE", 3)
    frozen.move_to(datetime(2026, 3, 27, 9, 40, tzinfo=UTC))
    physician = browser_of("physician")
    first = physician.get("/ui/").text
    assert products_in(section(first, "awaiting")) == [str(made[n].product) for n in ("hot", "suspended", "early")]
    assert "Page 1 sur 2" in first and 'rel="next" href="/ui/?page=2"' in first and 'rel="prev"' not in first
    second = physician.get("/ui/", params={"page": "2"}).text
    assert products_in(section(second, "awaiting")) == [str(made["late"].product)]
    assert "Page 2 sur 2" in second and 'rel="prev" href="/ui/"' in second
    beyond = physician.get("/ui/", params={"page": "99"}).text  # past the end: the last page
    assert products_in(section(beyond, "awaiting")) == [str(made["late"].product)]
    for field, value in (("page", "0"), ("page", "two"), ("others_page", "-1"), ("deadlines_page", "1.5")):
        refused = physician.get("/ui/", params={field: value})
        assert refused.status_code == 422, (field, value)
        assert f"<code>{field}</code>" in refused.text and "<code>page_number</code>" in refused.text


def test_a_scanned_coi_opens_the_product_and_other_text_searches(browser_of: Any, team: Recorder, frozen: Any) -> None:
    made = held_and_waiting(team, frozen)
    frozen.move_to(datetime(2026, 3, 27, 9, 40, tzinfo=UTC))
    physician = browser_of("physician")
    coi = made["early"].coi.value
    for scanned in (coi, f"&/{coi}", coi.lower(), str(made["early"].product)):
        opened = physician.get("/ui/", params={"q": scanned}, follow_redirects=False)
        assert opened.status_code == 303, scanned
        assert opened.headers["location"] == f"/ui/products/{made['early'].product}"
    by_pseudonym = physician.get("/ui/", params={"q": "psn-test-000"}).text
    assert "4 produits correspondent à" in by_pseudonym
    only_one = physician.get("/ui/", params={"q": "PSN-TEST-0003"}).text
    assert products_in(only_one) == [str(made["late"].product)] and "1 produit correspond à" in only_one
    part_of_coi = physician.get("/ui/", params={"q": coi[-6:]}).text
    assert products_in(part_of_coi) == [str(made["early"].product)]
    wildcard = physician.get("/ui/", params={"q": "%"}).text  # a LIKE wildcard is searched as typed
    assert products_in(wildcard) == [] and "0 produit correspond à" in wildcard
    too_long = physician.get("/ui/", params={"q": "X" * 101})
    assert too_long.status_code == 422
    assert "<code>q</code>" in too_long.text and "<code>search_too_long</code>" in too_long.text


def test_a_sponsor_scanning_a_product_outside_its_trials_is_not_sent_to_it(
    browser_of: Any, team: Recorder, frozen: Any
) -> None:
    frozen.move_to(RECORDED)
    in_trial = enrolled(team, START, "PSN-TEST-0002")  # ready() enrols on the demo trial, whose sponsor user is sponsor
    sponsor = browser_of("sponsor")
    coi = in_trial.coi.value
    opened = sponsor.get("/ui/", params={"q": coi}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == f"/ui/products/{in_trial.product}"
    ready(team, START, "PSN-TEST-0009")
    outside = j.new_coi(team.ledger.settings.facility, START.year % 100)
    team(
        "physician",
        "ProductEnrolled",
        product_id_for(outside),
        START,
        "approved",
        coi=outside.value,
        product_kind="car_t",
        product_code="ACADEMIC-CD19",
        patient_pseudonym="PSN-TEST-0009",
        indication="systemic_lupus_erythematosus",
        treating_physician="physician",
        collection_site=j.APHERESIS_SITE,
    )  # fmt: skip  (no trial named: no sponsor reads it)
    answer = sponsor.get("/ui/", params={"q": outside.value}, follow_redirects=False)
    assert answer.status_code == 200 and products_in(answer.text) == []
    assert products_in(sponsor.get("/ui/").text) == [str(in_trial.product)]


def test_a_product_on_hold_has_a_red_banner_on_its_page_and_its_worklist_row(
    browser_of: Any, team: Recorder, frozen: Any
) -> None:
    made = held_and_waiting(team, frozen)
    team("pharmacist", "ProductQuarantined", made["late"].product, RECORDED, "recorded", reason="tank alarm")
    physician = browser_of("physician")
    suspended_page = physician.get(f"/ui/products/{made['suspended'].product}").text
    banner = suspended_page.split('id="hold-banner"', 1)[1].split("</div>", 1)[0]
    assert "Produit suspendu" in banner and 'role="alert"' in suspended_page.split('id="hold-banner"', 1)[0][-80:]
    assert suspended_page.index('id="hold-banner"') < suspended_page.index('id="label-title"')  # at the top
    quarantined_page = physician.get(f"/ui/products/{made['late'].product}").text
    banner = quarantined_page.split('id="hold-banner"', 1)[1].split("</div>", 1)[0]
    assert "Produit en quarantaine" in banner and "tank alarm" in banner
    assert 'id="hold-banner"' not in physician.get(f"/ui/products/{made['early'].product}").text
    rows = physician.get("/ui/").text
    assert 'data-holds="suspension"' in row_of(rows, made["suspended"].product)
    assert "Produit suspendu" in row_of(rows, made["suspended"].product)
    assert "held" in row_of(rows, made["suspended"].product).split('"')[1]
    assert 'data-holds="quarantine"' in row_of(rows, made["late"].product)
    assert "hold-banner" not in row_of(rows, made["early"].product)
