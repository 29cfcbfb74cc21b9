"""On both backends: the catalogue the ledger judges by is the latest signed CatalogueChanged; a configured file
that is not signed stops recording; a new ledger signs the file it is initialised with; older steps stay valid."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api import demo_journeys as j
from api import demo_pathway
from domain.catalogue_events import CATALOGUE_ID, EMPTY_DIGEST, catalogue_digest
from domain.errors import CustodyError
from ledger.catalogue_changes import sign_catalogue
from ledger.catalogue_source import CatalogueFileNotApplied
from ledger.ledger_meta import LEDGER_USER
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import initialise
from tests.conftest import ADMIN_PASSWORD
from tests.integration.journeys import Recorder, team, verify

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=5)
STRICTER_MSC = {"MSC-BANK": {"release_panel": {"viability": {"unit": "%", "minimum": 80}}}}
"""A site whose MSC specification asks 80 % viable cells where the default panel asks 70 %."""


def measured(name: str, value: float, unit: str, in_spec: bool = True) -> dict[str, Any]:
    return {"name": name, "result": f"{value:g} {unit}", "specification": "see panel", "in_spec": in_spec,
            "value": value, "unit": unit}  # fmt: skip


def read(name: str, result: str) -> dict[str, Any]:
    return {"name": name, "result": result, "specification": result, "in_spec": True}


def msc_panel(viability: float) -> list[dict[str, Any]]:
    """The default MSC panel, every test measured and declared within specification."""
    return [
        measured("viability", viability, "%"), read("sterility", "no growth"), measured("endotoxin", 0.7, "EU/mL"),
        read("mycoplasma", "negative"), measured("CD73", 99, "%"), measured("CD90", 98, "%"),
        measured("CD105", 97, "%"), measured("CD45", 0.5, "%"),
    ]  # fmt: skip


def register_batch(rec: Recorder, din: str, at: datetime) -> uuid.UUID:
    batch = uuid.uuid4()
    rec("qp", "BatchRegistered", batch, at, "recorded", lot=f"LOT-{din[-4:]}", donor_din=din, product_code="MSC-BANK",
        doses=2, site=j.MANUFACTURER)  # fmt: skip
    return batch


def with_file(settings: Settings, path: Path) -> Settings:
    return settings.model_copy(update={"catalogue_file": path})


@pytest.fixture
def rec(ledger: CustodyLedger) -> Recorder:
    """The QPs, and the demo's accredited centres (a batch is registered at its manufacturer's)."""
    recorder = team(ledger)
    demo_pathway.record_registries(recorder, datetime.now(UTC))
    return recorder


@pytest.fixture
def configured(ledger: CustodyLedger, tmp_path: Path) -> Iterator[tuple[CustodyLedger, Path]]:
    """A second process on the same store whose CUSTODY_CATALOGUE_FILE holds the stricter MSC panel."""
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(STRICTER_MSC))
    other = CustodyLedger(with_file(ledger.settings, path))
    try:
        yield other, path
    finally:
        other.close()


def test_a_signed_change_judges_the_next_step_and_the_steps_before_it_stay_valid(rec: Recorder) -> None:
    ledger = rec.ledger
    earlier = register_batch(rec, "A999926000017", START)
    rec("qc", "BatchQcRecorded", earlier, START + timedelta(hours=1), "reviewed", tests=msc_panel(75))
    sign_catalogue(ledger, STRICTER_MSC, "IMPD v4: viability at least 80 %", user="qp", password="qp-password")
    later = register_batch(rec, "A999926000025", START + timedelta(hours=2))
    size = ledger.store.size()
    with pytest.raises(CustodyError) as caught:
        rec("qc", "BatchQcRecorded", later, START + timedelta(hours=3), "reviewed", tests=msc_panel(75))
    assert (caught.value.rule, caught.value.field) == ("qc_verdict_contradicts_results", "payload.tests[0].in_spec")
    assert "(≥ 80 %)" in caught.value.message and ledger.store.size() == size
    rec("qc", "BatchQcRecorded", later, START + timedelta(hours=3), "reviewed", tests=msc_panel(85))
    # The batch tested under the catalogue then in force keeps its verdict and is released on it.
    rec("qp", "BatchReleased", earlier, START + timedelta(hours=4), "released", certificate_id="CoR-1")
    assert getattr(ledger.load(earlier), "released", False) is True
    assert verify(ledger).intact


def test_the_signed_history_says_who_changed_what_when_and_why(rec: Recorder) -> None:
    ledger = rec.ledger
    assert ledger.catalogues.aggregate().digest == EMPTY_DIGEST and ledger.load(CATALOGUE_ID) is None
    stored = sign_catalogue(ledger, STRICTER_MSC, "IMPD v4", user="qp", password="qp-password")
    assert [(e.type, e.aggregate_id, e.version) for e in stored] == [("CatalogueChanged", CATALOGUE_ID, 1)]
    assert stored[0].body["actor"]["user_id"] == "qp" and stored[0].body["meaning"] == "approved"
    signed = ledger.catalogues.aggregate()
    assert signed.digest == catalogue_digest(STRICTER_MSC) == stored[0].body["payload"]["sha256"]
    assert [(c.actor.user_id, c.reason) for c in signed.changes] == [("qp", "IMPD v4")]
    viability = next(c for c in ledger.catalogue.get("MSC-BANK").release_panel if c.name == "viability")
    assert viability.minimum == 80.0


def test_whole_numbers_written_as_decimals_keep_their_digest_through_the_store(rec: Recorder, tmp_path: Path) -> None:
    mapping = {"KYMRIAH": {"fresh_shipping_window_h": 24.0, "storage_max_c": -125.5}}
    sign_catalogue(rec.ledger, mapping, "validated shipper: 24 h", user="qp", password="qp-password")
    replayed = CustodyLedger(rec.ledger.settings)
    try:
        assert replayed.catalogues.aggregate().digest == catalogue_digest(mapping)
        assert replayed.catalogue.get("KYMRIAH").fresh_shipping_window_h == 24.0
        assert replayed.catalogue.get("KYMRIAH").storage_max_c == -125.5
    finally:
        replayed.close()


def test_a_configured_file_not_yet_signed_stops_every_step_until_a_qp_applies_it(
    rec: Recorder, configured: tuple[CustodyLedger, Path]
) -> None:
    other, path = configured
    size = rec.ledger.store.size()
    with pytest.raises(CatalogueFileNotApplied) as caught:
        other.record("BatchRegistered", uuid.uuid4(), {}, user="qp", meaning="recorded", password="qp-password")
    assert (caught.value.rule, caught.value.field) == ("catalogue_file_not_applied", "CUSTODY_CATALOGUE_FILE")
    assert f"custody catalogue apply {path} --reason" in caught.value.message
    assert rec.ledger.store.size() == size
    sign_catalogue(other, json.loads(path.read_text()), "IMPD v4", user="qp", password="qp-password")
    batch = uuid.uuid4()
    payload = {
        "lot": "LOT-1",
        "donor_din": "A999926000033",
        "product_code": "MSC-BANK",
        "doses": 1,
        "site": j.MANUFACTURER,
    }
    other.record("BatchRegistered", batch, payload, user="qp", meaning="recorded", password="qp-password")
    path.write_text(json.dumps({**STRICTER_MSC, "ACADEMIC-CD19": {"thaw_to_infusion_min": 45}}))  # edited, unsigned
    with pytest.raises(CatalogueFileNotApplied):
        other.record("BatchRecalled", batch, {"recall_ref": "R", "reason": "test"}, user="qp", meaning="recorded",
                     password="qp-password")  # fmt: skip
    assert len(rec.ledger.history(batch)) == 1


def test_a_new_ledger_signs_the_file_it_is_initialised_with_once(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "site-catalogue.json"
    path.write_text(json.dumps(STRICTER_MSC))
    ledger = CustodyLedger(with_file(settings, path))
    try:
        report = initialise(ledger, ADMIN_PASSWORD)
        assert "signed by the ledger at initialisation" in report.catalogue
        signed = ledger.catalogues.aggregate()
        [first] = signed.changes
        assert (first.actor.user_id, first.actor.role, first.meaning) == (LEDGER_USER, "system", "recorded")
        assert "site-catalogue.json" in first.reason and signed.digest == catalogue_digest(STRICTER_MSC)
        size = ledger.store.size()
        again = initialise(ledger, ADMIN_PASSWORD)
        assert "is the signed catalogue" in again.catalogue and ledger.store.size() == size
    finally:
        ledger.close()


def test_an_existing_ledger_never_applies_a_file_at_init(ledger: CustodyLedger, tmp_path: Path) -> None:
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(STRICTER_MSC))
    later = CustodyLedger(with_file(ledger.settings, path))
    try:
        size = later.store.size()
        report = initialise(later, ADMIN_PASSWORD)
        assert "differs from the signed catalogue" in report.catalogue and "custody catalogue apply" in report.catalogue
        assert later.store.size() == size and later.catalogues.aggregate().changes == []
    finally:
        later.close()
