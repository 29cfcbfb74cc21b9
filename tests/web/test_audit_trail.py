"""The audit trail page: filters, pages, each row's signature and verdict, the CSV and the signed bundle.

One small journey is recorded by hand at frozen times (the team registered on 30 March 2026, the
steps signed on 1 April from 10:00 in Paris, UTC+2), and every expected row below is written out
here, never read back from the audit table the page is built from.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from freezegun import freeze_time

from api import demo_journeys as j
from api.cli import main as cli
from domain.errors import IdentityMismatch
from ledger import bundle_selection
from ledger.bundle_parse import parse_bundle_text
from ledger.bundle_selection import verify_selection
from ledger.bundle_verify import verify_bundle
from ledger.service import CustodyLedger
from ledger.trust_anchor import LEDGER_PUBLIC_KEY_FILE
from projections import audit_query as q
from tests.api.conftest import START
from tests.integration.journeys import (
    PATIENT,
    Journey,
    Recorder,
    dba,
    enrolled,
    identified,
    released_and_stored,
)

REGISTERED = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
SIGNED = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)  # 10:00 in Paris
DIN = "G123426000001"
SITE = j.APHERESIS_SITE


@pytest.fixture(autouse=True)
def frozen() -> Iterator[Any]:
    """Every signature of the test at a time the test chose (autouse: before the ledger and the team exist)."""
    with freeze_time(REGISTERED) as clock:
        yield clock


def english(client: TestClient) -> TestClient:
    client.cookies.set("lang", "en")
    return client


def journey(team: Recorder, frozen: Any) -> tuple[Journey, uuid.UUID]:
    """Enrolment at 10:00 (Paris), apheresis 11:00, a note 12:00, dispatch 13:00, a deviation 14:00."""
    frozen.move_to(SIGNED)
    enrolment = enrolled(team, START)
    product = enrolment.product
    frozen.move_to(SIGNED + timedelta(hours=1))
    team("nurse", "ApheresisCollected", product, START + timedelta(hours=4), "performed", **j.apheresis(DIN, START))
    frozen.move_to(SIGNED + timedelta(hours=2))
    team("nurse", "AnnotationAdded", product, START + timedelta(hours=5), "authored", text="label photographed")
    frozen.move_to(SIGNED + timedelta(hours=3))
    shipment = uuid.uuid4()
    team(
        "courier", "ShipmentDispatched", shipment, START + timedelta(hours=6), "performed", units=[str(product)],
        leg="to_manufacturer", from_site=SITE, to_site=j.MANUFACTURER, courier="courier", shipper_id="CBX-2-8-0412",
        data_logger_id="LOG-7781", temperature_class="fresh_2_8c", seal_ids=["SEAL-55120"],
    )  # fmt: skip
    frozen.move_to(SIGNED + timedelta(hours=4))
    team("qp", "DeviationRecorded", product, START + timedelta(hours=7), "authored", severity="minor",
         description="label smudged")  # fmt: skip
    return enrolment, shipment


ROW = re.compile(r'<tr data-position="(\d+)".*?</tr>', re.S)


def listed(page: str) -> list[tuple[str, int, str]]:
    """(event type, version, printed name) of each row shown, in order."""
    found = []
    for match in ROW.finditer(page):
        row = match.group(0)
        kind = re.search(r'data-type="(\w+)"', row)
        version = re.search(r"· v(\d+)</td>", row)
        name = re.search(r'<td class="manifestation">([^(]+) \(', row)
        assert kind and version and name, row
        found.append((kind.group(1), int(version.group(1)), name.group(1).strip()))
    return found


def verdicts(page: str) -> list[tuple[int, str, str]]:
    """(version, signature verdict, link verdict) of each row shown."""
    found = []
    for match in ROW.finditer(page):
        row = match.group(0)
        version = re.search(r"· v(\d+)</td>", row)
        verdict = re.search(r'data-signature="(\w+)" data-link="(\w+)"', row)
        assert version and verdict, row
        found.append((int(version.group(1)), verdict.group(1), verdict.group(2)))
    return found


def trail(client: TestClient, **params: Any) -> Any:
    return client.get("/ui/audit/trail", params=params)


ENROLLED = ("ProductEnrolled", 1, "Dr Paul Physician")
APHERESIS = ("ApheresisCollected", 2, "Nina Nurse")
DIN_ASSIGNED = ("DinAssigned", 1, "Nina Nurse")
NOTE = ("AnnotationAdded", 3, "Nina Nurse")
DISPATCHED = ("ShipmentDispatched", 1, "Carl Courier")
SHIPPED = ("ProductShipped", 4, "Carl Courier")
DEVIATION = ("DeviationRecorded", 5, "Quentin Qp")


def test_each_filter_alone_lists_exactly_the_events_it_names(
    browser_of: Any, team: Recorder, frozen: Any, ledger: CustodyLedger
) -> None:
    enrolment, shipment = journey(team, frozen)
    auditor = english(browser_of("auditor"))
    coi = enrolment.coi.value
    assert listed(trail(auditor, product=coi).text) == [ENROLLED, APHERESIS, NOTE, SHIPPED, DEVIATION]
    assert listed(trail(auditor, product=str(enrolment.product)).text) == [
        ENROLLED,
        APHERESIS,
        NOTE,
        SHIPPED,
        DEVIATION,
    ]
    assert listed(trail(auditor, product=str(shipment)).text) == [DISPATCHED]
    assert listed(trail(auditor, person="nurse").text) == [APHERESIS, DIN_ASSIGNED, NOTE]
    assert listed(trail(auditor, role="courier").text) == [DISPATCHED, SHIPPED]
    assert listed(trail(auditor, role="qp").text) == [DEVIATION]
    assert listed(trail(auditor, site=SITE).text) == [ENROLLED, APHERESIS, NOTE, DISPATCHED, SHIPPED, DEVIATION]
    assert listed(trail(auditor, event_type="AnnotationAdded").text) == [NOTE]
    # From 11:00 to 13:00 in Paris (09:00 to 11:00 UTC), the end excluded: the apheresis, its DIN, the note.
    window = trail(auditor, **{"from": "2026-04-01T11:00", "to": "2026-04-01T13:00"}).text
    assert listed(window) == [APHERESIS, DIN_ASSIGNED, NOTE]
    assert listed(trail(auditor, **{"from": "2026-04-01T14:00:00"}).text) == [DEVIATION]
    assert listed(trail(auditor, flag="deviation").text) == [DEVIATION]
    assert 'id="trail-empty"' in trail(auditor, role="auditor").text


def test_filters_combine_and_each_row_shows_its_signature_and_verdict(
    browser_of: Any, team: Recorder, frozen: Any
) -> None:
    enrolment, _ = journey(team, frozen)
    auditor = english(browser_of("auditor"))
    coi = enrolment.coi.value
    assert listed(trail(auditor, person="nurse", event_type="AnnotationAdded").text) == [NOTE]
    assert listed(trail(auditor, product=coi, role="courier").text) == [SHIPPED]
    assert listed(trail(auditor, product=coi, **{"from": "2026-04-01T13:00"}).text) == [SHIPPED, DEVIATION]
    assert listed(trail(auditor, person="nurse", site=SITE, **{"to": "2026-04-01T12:00"}).text) == [APHERESIS]
    page = trail(auditor, product=coi).text
    assert "5 matching events" in page
    note = re.search(r'<tr data-position="\d+">(?:(?!</tr>).)*AnnotationAdded.*?</tr>', page, re.S)
    assert note, page
    manifestation = re.sub(r"\s+", " ", note.group(0))
    assert (
        '<td class="manifestation">Nina Nurse (nurse) · meaning <em>authored</em> · signed at 2026-04-01 12:00:00</td>'
        in manifestation
    )
    assert "<td>2026-03-02 14:00:00</td>" in manifestation, "occurred at 13:00 UTC: 14:00 in Paris in March"
    assert f'<a href="/ui/products/{enrolment.product}">{coi}</a> · v3' in manifestation
    assert verdicts(page) == [(1, "valid", "ok"), (2, "valid", "ok"), (3, "valid", "ok"), (4, "valid", "ok"),
                              (5, "valid", "ok")]  # fmt: skip
    assert "signature valid" in page and "chain link intact" in page


def test_pages_hold_the_rows_in_log_order_and_a_page_past_the_last_is_refused(
    browser_of: Any, team: Recorder, frozen: Any, ledger: CustodyLedger
) -> None:
    enrolment, _ = journey(team, frozen)
    auditor = english(browser_of("auditor"))
    coi = enrolment.coi.value
    first = trail(auditor, product=coi, per_page=2).text
    assert listed(first) == [ENROLLED, APHERESIS] and "Page 1 of 3" in first
    assert 'id="trail-prev"' not in first and 'id="trail-next"' in first
    link = re.search(r'href="(/ui/audit/trail\?[^"]+)" rel="next"', first)
    assert link
    second = auditor.get(link.group(1).replace("&amp;", "&")).text
    assert listed(second) == [NOTE, SHIPPED] and "Page 2 of 3" in second
    last = trail(auditor, product=coi, per_page=2, page=3).text
    assert listed(last) == [DEVIATION] and 'id="trail-next"' not in last and 'id="trail-prev"' in last
    size = ledger.store.size()
    for params, field, rule in (
        ({"page": "4"}, "page", "out_of_range"),
        ({"page": "0"}, "page", "out_of_range"),
        ({"page": "two"}, "page", "not_a_number"),
        ({"per_page": "201"}, "per_page", "out_of_range"),
        ({"per_page": "0"}, "per_page", "out_of_range"),
    ):
        answer = trail(auditor, product=coi, **{"per_page": "2", **params})
        assert answer.status_code == 422, (params, answer.status_code)
        assert f"<code>{field}</code>" in answer.text and f"<code>{rule}</code>" in answer.text, params
        assert 'id="trail-table"' not in answer.text
    assert ledger.store.size() == size


BAD_FILTERS = [
    ({"person": "nobody"}, 404, "person", "unknown_user", "trail-person"),
    ({"role": "chef"}, 422, "role", "unknown_role", "trail-role"),
    ({"site": "Nowhere hospital"}, 404, "site", "unknown_site", "trail-site"),
    ({"event_type": "ProductTeleported"}, 422, "event_type", "unknown_event_type", "trail-type"),
    ({"event_type": "drop table"}, 422, "event_type", "unknown_event_type", "trail-type"),
    ({"product": "NOT-A-COI"}, 422, "product", "coi_format", "trail-product"),
    ({"product": str(uuid.UUID(int=7))}, 404, "product", "unknown_product", "trail-product"),
    ({"from": "yesterday"}, 422, "from", "malformed_instant", "trail-from"),
    ({"from": "2026-04-01T12:00", "to": "2026-04-01T11:00"}, 422, "to", "empty_range", "trail-to"),
    ({"person": "x" * 201}, 422, "person", "text_too_long", "trail-person"),
    ({"site": "CHU\x00"}, 422, "site", "control_character", "trail-site"),
    ({"flag": "boring"}, 422, "flag", "unknown_flag", None),
]


def test_a_bad_filter_value_is_refused_naming_the_field_and_the_rule(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    auditor = english(browser_of("auditor"))
    size = ledger.store.size()
    for params, status, field, rule, input_id in BAD_FILTERS:
        answer = trail(auditor, **params)
        assert answer.status_code == status, params
        alert = answer.text.split('id="trail-error"', 1)[1].split("</div>", 1)[0]
        assert f"<code>{field}</code>" in alert and f"<code>{rule}</code>" in alert, params
        if input_id is not None:
            assert re.search(rf'id="{input_id}"[^>]*aria-invalid="true"', answer.text), input_id
        for download in ("/ui/audit/trail.csv", "/ui/audit/trail/bundle.zip"):
            refused = auditor.get(download, params=params)
            assert refused.status_code == status and rule in refused.text, (download, params)
    assert ledger.store.size() == size, "a refused filter stores nothing (not even a checkpoint)"


def test_the_csv_holds_every_matching_event_with_a_header_and_no_patient_identity(
    browser_of: Any, team: Recorder, frozen: Any, ledger: CustodyLedger
) -> None:
    enrolment, shipment = journey(team, frozen)
    identified(ledger)  # the patient's identity is sealed in the store: it must not reach the file
    auditor = english(browser_of("auditor"))
    coi, product = enrolment.coi.value, enrolment.product
    answer = auditor.get("/ui/audit/trail.csv", params={"product": coi, "per_page": "2"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"].startswith('attachment; filename="audit-trail-')
    lines = answer.text.split("\r\n")
    assert lines[-1] == "" and len(lines) == 7, "a header, every page's five events, a final line break"
    positions = [int(line.split(",", 1)[0]) for line in lines[1:-1]]
    assert positions == sorted(positions) and len(set(positions)) == 5
    rest = [line.split(",", 1)[1] for line in lines[1:-1]]
    assert lines[0] == (
        "log_position,recorded_at,occurred_at,event_type,aggregate_kind,aggregate_id,coi,version,user,printed_name,"
        "role,meaning,site,flag,detail"
    )
    assert rest == [
        f"2026-04-01T10:00:00+02:00,2026-03-02T09:00:00+01:00,ProductEnrolled,product,{product},{coi},1,physician,"
        f"Dr Paul Physician,physician,approved,{SITE},,",
        f"2026-04-01T11:00:00+02:00,2026-03-02T13:00:00+01:00,ApheresisCollected,product,{product},{coi},2,nurse,"
        f"Nina Nurse,nurse,performed,{SITE},,",
        f"2026-04-01T12:00:00+02:00,2026-03-02T14:00:00+01:00,AnnotationAdded,product,{product},{coi},3,nurse,"
        f"Nina Nurse,nurse,authored,{SITE},,",
        f"2026-04-01T13:00:00+02:00,2026-03-02T15:00:00+01:00,ProductShipped,product,{product},{coi},4,courier,"
        f"Carl Courier,courier,performed,{SITE},,",
        f"2026-04-01T14:00:00+02:00,2026-03-02T16:00:00+01:00,DeviationRecorded,product,{product},{coi},5,qp,"
        f"Quentin Qp,qp,authored,{SITE},deviation,minor: label smudged",
    ]
    everything = auditor.get("/ui/audit/trail.csv").text
    assert everything.count("\r\n") == ledger.store.size() + 1, "no filter: every stored event, and the header"
    assert f",{shipment},,1,courier," in everything
    for secret in ("MARTIN", "Claire", "1979-03-14", "IPP-77001"):  # tests.integration.journeys.IDENTITY
        assert secret not in everything


def test_the_stream_reads_in_batches_and_gives_the_same_rows(
    team: Recorder, frozen: Any, ledger: CustodyLedger
) -> None:
    enrolment, _ = journey(team, frozen)
    chosen = q.AuditFilter(product=enrolment.product)
    streamed = [(row["event_type"], row["version"]) for row in q.audit_stream(ledger.store, chosen, batch=2)]
    assert streamed == [("ProductEnrolled", 1), ("ApheresisCollected", 2), ("AnnotationAdded", 3),
                        ("ProductShipped", 4), ("DeviationRecorded", 5)]  # fmt: skip


def _zip(answer: Any) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(answer.content))


def _rewrite(data: bytes, name: str, change: Any) -> bytes:
    """The same ZIP with one member's JSON changed by ``change`` (or left out when it returns None)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for member in source.namelist():
            text = source.read(member).decode()
            if member == name:
                changed = change(json.loads(text))
                if changed is None:
                    continue
                text = json.dumps(changed)
            target.writestr(member, text)
    return out.getvalue()


def test_the_signed_bundle_verifies_offline_and_a_trimmed_one_does_not(
    browser_of: Any, team: Recorder, frozen: Any, ledger: CustodyLedger, tmp_path: Path, capsys: Any
) -> None:
    enrolment, _ = journey(team, frozen)
    product, donation = str(enrolment.product), None
    auditor = english(browser_of("auditor"))
    answer = auditor.get("/ui/audit/trail/bundle.zip", params={"person": "nurse"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    data = answer.content
    archive = _zip(answer)
    listing = json.loads(archive.read("selection.json"))
    assert listing["filters"] == {"person": "nurse"}
    events = [(event["aggregate_id"], event["version"]) for event in listing["events"]]
    donation = events[1][0]
    assert events == [(product, 2), (donation, 1), (product, 3)]
    assert sorted(archive.namelist()) == sorted(
        ["selection.json", f"bundles/{product}.json", f"bundles/{donation}.json"]
    )
    trusted = {ledger.meta.ledger_key_pair().public_key}
    assert verify_selection(data, trusted) == []
    inner = parse_bundle_text(archive.read(f"bundles/{product}.json").decode())
    assert verify_bundle(inner, trusted) == [], "each bundle is a standard bundle, verifiable alone"
    assert [json.loads(e["stored"])["body"]["version"] for e in inner["events"]] == [1, 2, 3, 4, 5]

    # Offline, with the command an inspector runs: no store opened, the ledger's public key as the trust anchor.
    selection = tmp_path / "selection.zip"
    selection.write_bytes(data)
    anchor = str(ledger.settings.home / LEDGER_PUBLIC_KEY_FILE)
    assert cli(["verify-bundle", str(selection), "--trust", anchor]) == 0
    assert "selection verified: intact" in capsys.readouterr().out

    trimmed = _rewrite(data, f"bundles/{product}.json", lambda b: {**b, "events": b["events"][:-1]})
    problems = verify_selection(trimmed, trusted)
    assert problems and any(f"bundles/{product}.json" in problem for problem in problems)
    selection.write_bytes(trimmed)
    assert cli(["verify-bundle", str(selection), "--trust", anchor]) == 1
    assert "selection verification failed" in capsys.readouterr().out

    dropped = _rewrite(data, "selection.json", lambda s: {**s, "events": s["events"][:2]})
    assert verify_selection(dropped, trusted) == [
        f"bundles/{product}.json: v3 matches the filter but is not in the selection"
    ]
    widened = _rewrite(data, "selection.json", lambda s: {**s, "filters": {"person": "courier"}})
    assert len([p for p in verify_selection(widened, trusted) if "outside ['person']" in p]) == 3
    missing = _rewrite(data, f"bundles/{donation}.json", lambda b: None)
    assert verify_selection(missing, trusted) == [f"selected event 2 ({donation} v1): not in the bundles"]
    other_key = {bytes(32)}
    assert verify_selection(data, other_key), "another ledger's key proves nothing"


def test_a_bundle_of_nothing_or_of_too_much_is_refused(
    browser_of: Any, team: Recorder, frozen: Any, ledger: CustodyLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    journey(team, frozen)
    auditor = english(browser_of("auditor"))
    size = ledger.store.size()
    empty = auditor.get("/ui/audit/trail/bundle.zip", params={"role": "auditor"})
    assert empty.status_code == 422 and "empty_selection" in empty.text and "<code>filter</code>" in empty.text
    monkeypatch.setattr(bundle_selection, "MAX_AGGREGATES", 1)  # the nurse signed on the product and its donation
    wide = auditor.get("/ui/audit/trail/bundle.zip", params={"person": "nurse"})
    assert wide.status_code == 422 and "selection_too_large" in wide.text and "belong to 2 " in wide.text
    assert ledger.store.size() == size, "nothing signed for a refused bundle"
    assert auditor.get("/ui/audit/trail/bundle.zip", params={"event_type": "AnnotationAdded"}).status_code == 200


def test_a_tampered_row_shows_signature_invalid_and_the_next_one_a_broken_link(
    browser_of: Any, team: Recorder, frozen: Any, ledger: CustodyLedger
) -> None:
    enrolment, _ = journey(team, frozen)
    with dba(ledger.settings) as db:
        db.disable_immutability()
        row = db.row(enrolment.product, 3)
        db.set_state(enrolment.product, 3, row.state.replace(b"label photographed", b"label photocopied"))
    auditor = english(browser_of("auditor"))
    page = trail(auditor, product=enrolment.coi.value).text
    assert verdicts(page) == [(1, "valid", "ok"), (2, "valid", "ok"), (3, "invalid", "not_checked"),
                              (4, "valid", "broken"), (5, "valid", "ok")]  # fmt: skip
    tampered = page.split('data-signature="invalid"', 1)[1].split("</td>", 1)[0]
    assert "signature invalid" in tampered and "edited_record" in tampered
    assert "chain link broken" in page.split('data-link="broken"', 1)[1].split("</td>", 1)[0]


def test_the_near_miss_tab_lists_the_near_misses_and_only_audit_readers_see_the_trail(
    browser_of: Any, team: Recorder, frozen: Any
) -> None:
    frozen.move_to(SIGNED)
    stored = released_and_stored(team, START)
    other = enrolled(team, START, "PSN-TEST-0002")
    frozen.move_to(SIGNED + timedelta(hours=1))
    with pytest.raises(IdentityMismatch):
        team(
            "pharmacist", "Dispensed", stored.product, START + timedelta(days=26), "verified", to_unit=j.UNIT,
            scanned_coi=other.coi.value, scanned_patient=PATIENT, release_verified=True,
        )  # fmt: skip
    auditor = english(browser_of("auditor"))
    tab = trail(auditor, flag="near_miss").text
    assert "<h1>Near misses</h1>" in tab
    assert 'id="tab-near-misses" aria-current="page"' in tab and 'id="tab-people-log"' in tab
    assert [(kind, name) for kind, _, name in listed(tab)] == [("IdentityMismatchRecorded", "Phil Pharmacist")]
    shown = f"scanned_coi scanned &#39;{other.coi.value}&#39;, expected &#39;{stored.coi.value}&#39; at Dispensed"
    assert shown in tab
    assert 'data-flag="near_miss"' in tab and "near miss" in tab
    assert 'name="flag" value="near_miss"' in tab, "filtering inside the tab keeps to near misses"
    pharmacist = english(browser_of("pharmacist"))
    assert 'id="tab-people-log"' not in trail(pharmacist).text
    nurse = browser_of("nurse")
    assert trail(nurse).status_code == 403
    assert nurse.get("/ui/audit/trail.csv").status_code == 403
    assert nurse.get("/ui/audit/trail/bundle.zip").status_code == 403
    french = browser_of("auditor")
    french.cookies.set("lang", "fr")
    page = trail(french, product=stored.coi.value).text
    assert "Piste d’audit" in page and "signature valide" in page and "lien de chaînage intact" in page
