"""Shared builders for the domain's unit tests: staff, a fake ledger, and a CAR-T product's journey.

The fake ledger does what the real one does minus signatures: it calls ``decide``,
turns the returned events into ``EventRecord`` s with consecutive versions, and
replays them with the aggregate classes the registry names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.aggregate import Aggregate
from domain.batch import BankBatch
from domain.bedside_identity import IdentityMatch, IdentityVerifier, WristbandScan
from domain.errors import CustodyError
from domain.events import Actor, Context, EventRecord, Meaning, NewEvent
from domain.identifiers import allocate_coi, product_id_for
from domain.pathway import pathway_id_for
from domain.product import TherapyProduct
from domain.registry import AGGREGATE_CLASSES, EVENT_TYPES, decide
from domain.shipment import Shipment
from domain.staff import STAFF_AGGREGATES, decide_staff, staff_id_for
from domain.staff_qualification_rules import SIGNING_ROLES

NURSE = Actor("nurse.martin", "Claire Martin", "nurse")
SECOND_NURSE = Actor("nurse.bernard", "Luc Bernard", "nurse")
PHYSICIAN = Actor("dr.durand", "Dr Anne Durand", "physician")
PHARMACIST = Actor("pharm.petit", "Marc Petit", "pharmacist")
QP = Actor("qp.moreau", "Julie Moreau", "qp")
QC_QP = Actor("qp.marchand", "Sophie Marchand", "qp")
"""The manufacturer's second QP: records QC so that the first may release it (four eyes)."""
ADMIN = Actor("admin.roy", "Nadia Roy", "admin")
COURIER = Actor("courier.roux", "Paul Roux", "courier")
DISEASE_SPECIALIST = Actor("dr.lefevre", "Dr Hugo Lefèvre", "physician")
OTHER_PHYSICIAN = Actor("dr.blanc", "Dr Rose Blanc", "physician")
STAFF = (NURSE, SECOND_NURSE, PHYSICIAN, PHARMACIST, QP, QC_QP, COURIER, DISEASE_SPECIALIST, OTHER_PHYSICIAN)
"""Everyone the unit tests sign as, registered in every fake ledger as the real ledger's staff are."""
LEDGER_ACTOR = Actor("ledger", "Custody Ledger", "system")
TEAM_QUALIFICATION = {
    "evidence": "Unit training record, signed by the programme director",
    "valid_from": "2000-01-01",
    "valid_until": "2099-12-31",
    "role_wide": True,
}
"""Every unit-test signer is trained for their whole role over any date the tests use."""

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
DIN = "G123498654321"
SECOND_DIN = "A999921123456"
PATIENT = "PSN-7F3K"
COI = allocate_coi("A9999", 26, "00001A").value
PRODUCT_ID = product_id_for(allocate_coi("A9999", 26, "00001A"))


def iso(moment: datetime) -> str:
    """An aware time as the ISO 8601 text payloads carry."""
    return moment.isoformat()


def make_ctx(
    actor: Actor,
    at: datetime,
    meaning: Meaning | None,
    now: datetime | None = None,
    identity: IdentityVerifier | None = None,
    bedside_minutes: int | None = None,
) -> Context:
    """A command context whose clock reads shortly after the step."""
    return Context(
        actor=actor,
        occurred_at=at,
        now=now or at + timedelta(minutes=1),
        meaning=meaning,
        identity=identity,
        bedside_check_valid_minutes=bedside_minutes,
    )


BIRTH_DATE = "1980-01-01"
IDENTITY_VERSION = "2026-01-01T00:00:00.000000Z"


def hospital_number_of(pseudonym: str) -> str:
    """The hospital number the fake identity store holds for a pseudonym (every patient has one unless told)."""
    return f"IPP-{pseudonym}"


class FakeLedger:
    """An in-memory ledger: decides, stores the facts as records, replays aggregates on load."""

    def __init__(self, staff: tuple[Actor, ...] = STAFF) -> None:
        self.histories: dict[UUID, list[EventRecord]] = {}
        self.kinds: dict[UUID, str] = {}
        self.unregistered: set[str] = set()
        self.bedside_minutes: int | None = None
        for member in staff:
            self.register_staff(member)

    def match_wristband(self, pseudonym: str, scan: WristbandScan) -> IdentityMatch:
        """The ledger's wristband check, against identities the test knows: ``hospital_number_of`` and BIRTH_DATE."""
        if pseudonym in self.unregistered:
            return IdentityMatch(registered=False)
        expected = {"hospital_number": hospital_number_of(pseudonym), "birth_date": date.fromisoformat(BIRTH_DATE)}
        scanned = {"hospital_number": scan.hospital_number, "birth_date": scan.birth_date}
        mismatched = tuple(name for name in expected if expected[name] != scanned[name])
        return IdentityMatch(registered=True, mismatched=mismatched, version=IDENTITY_VERSION)

    def register_staff(self, member: Actor, at: datetime = T0 - timedelta(days=400), *, qualified: bool = True) -> None:
        """Register a staff member, as the ledger does at initialisation (rules name people by their record).

        ``qualified``: trained for their whole role over every date the tests use (domain/signer_qualification.py).
        """
        payload = {"username": member.user_id, "name": member.name, "role": member.role}
        ctx = make_ctx(LEDGER_ACTOR, at, Meaning.APPROVED)
        events = decide_staff("StaffMemberRegistered", staff_id_for(member.user_id), payload, ctx, self.load)
        self.store(events, LEDGER_ACTOR)
        if qualified and member.role in SIGNING_ROLES:
            self.qualify(member, at)

    def qualify(self, member: Actor, at: datetime = T0 - timedelta(days=400), **scope: Any) -> None:
        """Record a qualification for ``member`` (every step of their role unless ``scope`` says otherwise)."""
        payload = {**TEAM_QUALIFICATION, "reference": f"TR-{member.user_id}", **scope}
        ctx = make_ctx(LEDGER_ACTOR, at, Meaning.APPROVED)
        self.store(decide_staff("StaffQualificationRecorded", staff_id_for(member.user_id), payload, ctx, self.load),
                   LEDGER_ACTOR)  # fmt: skip

    def load(self, aggregate_id: UUID) -> Aggregate | None:
        """Replay an aggregate from its records, as the ledger's loader does."""
        history = self.histories.get(aggregate_id)
        if not history:
            return None
        kind = self.kinds[aggregate_id]
        cls = STAFF_AGGREGATES.get(kind) or AGGREGATE_CLASSES[kind]
        return cls.replay(aggregate_id, history)

    def store(self, events: list[NewEvent], actor: Actor) -> None:
        """Append accepted facts with consecutive versions, as the ledger does after signing."""
        for event in events:
            history = self.histories.setdefault(event.aggregate_id, [])
            self.kinds[event.aggregate_id] = event.aggregate_kind
            history.append(
                EventRecord(
                    aggregate_id=event.aggregate_id,
                    version=len(history) + 1,
                    type=event.type,
                    payload=event.payload,
                    occurred_at=event.occurred_at,
                    recorded_at=event.occurred_at,
                    actor=LEDGER_ACTOR if event.by_ledger else actor,
                    meaning=event.meaning,
                )
            )

    def record(
        self,
        event_type: str,
        aggregate_id: UUID,
        payload: Mapping[str, Any],
        actor: Actor,
        at: datetime,
        meaning: Meaning | None = None,
    ) -> list[NewEvent]:
        """Decide with the spec's default meaning unless told otherwise, then store."""
        chosen = meaning or EVENT_TYPES[event_type].default_meaning
        ctx = make_ctx(actor, at, chosen, identity=self.match_wristband, bedside_minutes=self.bedside_minutes)
        events = decide(event_type, aggregate_id, payload, ctx, self.load)
        self.store(events, actor)
        return events

    def refuse(
        self,
        error: type[CustodyError],
        *,
        field: str | None,
        rule: str,
        message: str,
        event_type: str,
        aggregate_id: UUID,
        payload: Mapping[str, Any],
        actor: Actor,
        at: datetime,
        meaning: Meaning | None = None,
    ) -> CustodyError:
        """Assert a refusal: its class, field, rule and message, and that nothing was stored."""
        before = {key: len(history) for key, history in self.histories.items()}
        with pytest.raises(error) as caught:
            self.record(event_type, aggregate_id, payload, actor, at, meaning)
        assert type(caught.value) is error
        assert caught.value.field == field
        assert caught.value.rule == rule
        assert message in caught.value.message, caught.value.message
        assert {key: len(history) for key, history in self.histories.items()} == before
        return caught.value

    def product(self, product_id: UUID = PRODUCT_ID) -> TherapyProduct:
        """Load a product, failing the test if it is anything else."""
        found = self.load(product_id)
        assert isinstance(found, TherapyProduct)
        return found

    def shipment(self, shipment_id: UUID) -> Shipment:
        """Load a shipment, failing the test if it is anything else."""
        found = self.load(shipment_id)
        assert isinstance(found, Shipment)
        return found

    def batch(self, batch_id: UUID) -> BankBatch:
        """Load a bank batch, failing the test if it is anything else."""
        found = self.load(batch_id)
        assert isinstance(found, BankBatch)
        return found

    def types(self, aggregate_id: UUID) -> list[str]:
        """The event types recorded on one aggregate, in order."""
        return [record.type for record in self.histories.get(aggregate_id, [])]


def enrolment(coi: str = COI, **changes: Any) -> dict[str, Any]:
    """A CAR-T enrolment payload for the test patient."""
    payload: dict[str, Any] = {
        "coi": coi,
        "product_kind": "car_t",
        "product_code": "KYMRIAH",
        "patient_pseudonym": PATIENT,
        "indication": "systemic_lupus_erythematosus",
        "treating_physician": PHYSICIAN.user_id,
        "collection_site": "CHU Lyon apheresis unit",
    }
    payload.update(changes)
    return payload


TRIAL_FIELDS = {"trial_sponsor": "Academic sponsor", "trial_protocol": "LUPUS-CAR-01"}
"""What an enrolment in the lupus trial adds: the trial must be registered and its sites active."""


def logger_figures(site: str) -> dict[str, Any]:
    """A data logger that stayed in range: 2–8 °C to the manufacturer (fresh), LN2 vapour to the pharmacy."""
    if site == MANUFACTURER:
        return {"min_c": 3.1, "max_c": 6.4, "excursion_min": 0}
    return {"min_c": -190.0, "max_c": -165.0, "excursion_min": 0}


def shipment_receipt(units: list[UUID], site: str, coi: str = COI, **changes: Any) -> dict[str, Any]:
    """A clean receipt of every unit, labels scanned with the given COI."""
    payload: dict[str, Any] = {
        "site": site,
        "received_units": [{"product_id": str(u), "scanned_coi": coi, "condition": "intact"} for u in units],
        "seal_intact": True,
        "data_logger_reviewed": True,
        "certificate_of_release_checked": True,
        **logger_figures(site),
    }
    payload.update(changes)
    return payload


def dispatch_payload(units: list[UUID], leg: str, to_site: str, temperature_class: str) -> dict[str, Any]:
    """A shipment dispatch payload, from the apheresis unit to the manufacturer or from it to the pharmacy."""
    return {
        "units": [str(u) for u in units],
        "leg": leg,
        "from_site": COLLECTION_SITE if leg == "to_manufacturer" else MANUFACTURER,
        "to_site": to_site,
        "courier": "Cryo Express",
        "shipper_id": "SHIP-42",
        "data_logger_id": "LOG-7",
        "temperature_class": temperature_class,
        "seal_ids": ["SEAL-1"],
    }


MANUFACTURER = "Manufacturer Leiden"
PHARMACY = "PUI CHU Lyon"
COLLECTION_SITE = "CHU Lyon apheresis unit"
INFUSION_UNIT = "Haematology 3B"
BANK_SITE = "Cell therapy unit EFS"
SITES = {
    COLLECTION_SITE: ["collection"],
    INFUSION_UNIT: ["infusion"],
    MANUFACTURER: ["processing"],
    PHARMACY: ["storage"],
    BANK_SITE: ["processing"],
}
"""Every site the unit journeys name, with what it is accredited (or authorised) for."""


class CarTJourney:
    """Walks one CAR-T product along the chain, step by step, with a plausible clock."""

    def __init__(
        self,
        ledger: FakeLedger,
        product_id: UUID = PRODUCT_ID,
        coi: str = COI,
        *,
        din: str = DIN,
        patient: str = PATIENT,
        conditioned: bool = True,
        trial: bool = False,
        acknowledges: tuple[str, ...] = (),
    ) -> None:
        self.ledger = ledger
        self.conditioned = conditioned
        self.acknowledges = acknowledges
        """The rules refusing infusion that the thaw names, to thaw knowing infusion would be refused."""
        self.trial = TRIAL_FIELDS if trial else {}
        self.product_id = product_id
        self.coi = coi
        self.din = din
        self.patient = patient
        self.at = T0
        self.done: list[str] = []
        self.to_manufacturer = uuid4()
        self.to_pharmacy = uuid4()
        self.thaw_completed_at = T0

    def step(
        self, event_type: str, aggregate_id: UUID, payload: Mapping[str, Any], actor: Actor, after: timedelta
    ) -> None:
        """Record one step some time after the previous one."""
        self.at += after
        self.ledger.record(event_type, aggregate_id, payload, actor, self.at)
        self.done.append(event_type)

    def until(self, last: str) -> CarTJourney:
        """Record every step up to and including ``last`` (an event type of the journey)."""
        for name, run in self._steps():
            if name not in self.done:
                run()
            if name == last:
                return self
        raise AssertionError(f"{last} is not a step of the journey")

    def _steps(self) -> list[tuple[str, Callable[[], None]]]:
        pid, hour = self.product_id, timedelta(hours=1)
        return [
            (
                "ProductEnrolled",
                lambda: self.step(
                    "ProductEnrolled",
                    pid,
                    enrolment(self.coi, patient_pseudonym=self.patient, **self.trial),
                    PHYSICIAN,
                    hour,
                ),
            ),
            ("ApheresisCollected", self._collect),
            ("ToManufacturer", lambda: self._ship(self.to_manufacturer, "to_manufacturer", "fresh_2_8c")),
            ("ReceivedAtManufacturer", lambda: self._receive(self.to_manufacturer, MANUFACTURER, 10 * hour)),
            (
                "ManufacturingStarted",
                lambda: self.step("ManufacturingStarted", pid, {"lot": "LOT-1", "site": MANUFACTURER}, QP, hour),
            ),
            (
                "ManufacturingCompleted",
                lambda: self.step(
                    "ManufacturingCompleted",
                    pid,
                    {"lot": "LOT-1", "bag_ids": ["BAG-1", "BAG-2"], "dose_description": "1e8 CAR+ cells"},
                    QP,
                    timedelta(days=10),
                ),
            ),
            (
                "QcResultsRecorded",
                lambda: self.step("QcResultsRecorded", pid, qc(True), QC_QP, timedelta(days=3)),
            ),
            (
                "ProductReleased",
                lambda: self.step("ProductReleased", pid, {"certificate_id": "CERT-1"}, QP, hour),
            ),
            ("ToPharmacy", lambda: self._ship(self.to_pharmacy, "to_pharmacy", "ln2_dry_shipper")),
            ("ReceivedAtPharmacy", lambda: self._receive(self.to_pharmacy, PHARMACY, timedelta(days=1))),
            ("StoredInLN2", lambda: self.step("StoredInLN2", pid, storage(), PHARMACIST, hour)),
            ("LymphodepletionRecorded", self._condition),
            (
                "Dispensed",
                lambda: self.step("Dispensed", pid, dispense(self.coi, self.patient), PHARMACIST, timedelta(days=5)),
            ),
            ("Thawed", self._thaw),
            (
                "BedsideCheckPerformed",
                lambda: self.step("BedsideCheckPerformed", pid, bedside(self.coi), NURSE, timedelta(minutes=5)),
            ),
            (
                "BedsideCheckWitnessed",
                lambda: self.step("BedsideCheckWitnessed", pid, bedside(self.coi), SECOND_NURSE, timedelta(minutes=2)),
            ),
            (
                "Infused",
                lambda: self.step(
                    "Infused",
                    self.product_id,
                    self.infusion(timedelta(minutes=10)),
                    NURSE,
                    timedelta(minutes=30),
                ),
            ),
        ]

    def _condition(self) -> None:
        """Conditioning of a patient on a pathway, ending a few days before the thaw (KYMRIAH: 2 to 14 days)."""
        self.done.append("LymphodepletionRecorded")
        pathway_id = pathway_id_for(self.patient)
        if not self.conditioned or self.ledger.load(pathway_id) is None:
            return
        at = self.at + timedelta(hours=1)
        course = {
            "agents": [{"name": "fludarabine", "dose": "30 mg/m2/day x 3"}],
            "started_on": (at - timedelta(days=2)).date().isoformat(),
            "ended_on": at.date().isoformat(),
        }
        self.ledger.record("LymphodepletionRecorded", pathway_id, course, PHYSICIAN, at)

    def _collect(self) -> None:
        self.at += timedelta(days=1)
        payload = {
            "din": self.din,
            "site": "CHU Lyon apheresis unit",
            "volume_ml": 250,
            "preservation": "fresh",
            "started_at": iso(self.at - timedelta(hours=4)),
            "ended_at": iso(self.at - timedelta(hours=1)),
        }
        self.ledger.record("ApheresisCollected", self.product_id, payload, NURSE, self.at)
        self.done.append("ApheresisCollected")

    def _ship(self, shipment_id: UUID, leg: str, temperature_class: str) -> None:
        to_site = MANUFACTURER if leg == "to_manufacturer" else PHARMACY
        payload = dispatch_payload([self.product_id], leg, to_site, temperature_class)
        self.step("ShipmentDispatched", shipment_id, payload, COURIER, timedelta(hours=1))
        self.done.append("ToManufacturer" if leg == "to_manufacturer" else "ToPharmacy")

    def _receive(self, shipment_id: UUID, site: str, after: timedelta) -> None:
        receiver = QP if site == MANUFACTURER else PHARMACIST
        self.step(
            "ShipmentReceived",
            shipment_id,
            shipment_receipt([self.product_id], site, self.coi),
            receiver,
            after,
        )
        self.done.append("ReceivedAtManufacturer" if site == MANUFACTURER else "ReceivedAtPharmacy")

    def _thaw(self) -> None:
        self.at += timedelta(hours=1)
        self.thaw_completed_at = self.at - timedelta(minutes=2)
        payload: dict[str, Any] = {
            "method": "dry_thawer",
            "bag_id": "BAG-1",
            "started_at": iso(self.at - timedelta(minutes=20)),
            "completed_at": iso(self.thaw_completed_at),
        }
        acknowledged = list(self.acknowledges)
        if not self.conditioned and self.ledger.load(pathway_id_for(self.patient)) is not None:
            # Not conditioned: infusion would be refused, and a thaw goes ahead only naming why (infusion_readiness).
            acknowledged.append("lymphodepletion_missing")
        if acknowledged:
            payload["infusion_blockers_acknowledged"] = acknowledged
        self.ledger.record("Thawed", self.product_id, payload, NURSE, self.at)
        self.done.append("Thawed")

    def infusion(self, after_thaw: timedelta) -> dict[str, Any]:
        """An infusion payload starting some time after thaw completion."""
        started = self.thaw_completed_at + after_thaw
        return {
            "started_at": iso(started),
            "ended_at": iso(started + timedelta(minutes=15)),
            "volume_ml": 68,
            "bag_ids": ["BAG-1"],
            "observations": "no reaction",
        }


def qc_test(name: str, result: str, specification: str, in_spec: bool, value: float | None = None,
            unit: str | None = None) -> dict[str, Any]:  # fmt: skip
    """One QC result as a QP records it: the reading, the measured value and unit when numeric, the verdict."""
    test: dict[str, Any] = {"name": name, "result": result, "specification": specification, "in_spec": in_spec}
    if value is not None:
        test.update(value=value, unit=unit)
    return test


def qc(in_spec: bool, viability: float | None = None) -> dict[str, Any]:
    """The whole default CAR-T release panel, measured: everything passes except, when asked, viability."""
    viability = viability if viability is not None else (82.0 if in_spec else 61.0)
    return {
        "tests": [
            qc_test("viability", f"{viability:g} %", ">= 80 %", viability >= 80, viability, "%"),
            qc_test("sterility", "no growth", "no growth", True),
            qc_test("endotoxin", "0.5 EU/mL", "< 5 EU/mL", True, 0.5, "EU/mL"),
            qc_test("mycoplasma", "negative", "negative", True),
            qc_test("CAR expression", "38 %", ">= 15 %", True, 38.0, "%"),
            qc_test("vector copy number", "1.8 copies/cell", "<= 5 copies/cell", True, 1.8, "copies/cell"),
            qc_test("potency", "conforms", "conforms", True),
        ]
    }


def msc_qc(in_spec: bool = True, viability: float | None = None) -> dict[str, Any]:
    """The whole default MSC release panel (domain/release_panel.py MSC_PANEL), measured: everything passes
    except, when asked, viability (at least 70 %)."""
    viability = viability if viability is not None else (88.0 if in_spec else 64.0)
    return {
        "tests": [
            qc_test("viability", f"{viability:g} %", ">= 70 %", viability >= 70, viability, "%"),
            qc_test("sterility", "no growth", "no growth", True),
            qc_test("endotoxin", "0.8 EU/mL", "< 5 EU/mL", True, 0.8, "EU/mL"),
            qc_test("mycoplasma", "negative", "negative", True),
            qc_test("CD73", "99 %", ">= 95 %", True, 99.0, "%"),
            qc_test("CD90", "98.5 %", ">= 95 %", True, 98.5, "%"),
            qc_test("CD105", "97 %", ">= 95 %", True, 97.0, "%"),
            qc_test("CD45", "0.4 %", "<= 2 %", True, 0.4, "%"),
        ]
    }


def storage(temperature_c: float = -180.0) -> dict[str, Any]:
    """An LN2 storage position."""
    return {
        "site": PHARMACY,
        "tank": "T2",
        "rack": "R4",
        "box": "B1",
        "position": "A3",
        "temperature_c": temperature_c,
    }


def dispense(coi: str = COI, patient: str = PATIENT) -> dict[str, Any]:
    """A dispense to the haematology unit with the scans made."""
    return {
        "to_unit": "Haematology 3B",
        "scanned_coi": coi,
        "scanned_patient": patient,
        "release_verified": True,
    }


def bedside(coi: str = COI, patient: str = PATIENT, bag: str = "BAG-1", birth_date: str = BIRTH_DATE) -> dict[str, Any]:
    """One bedside check's scans: the COI label, the bag's own label and the wristband of ``patient``."""
    return {
        "scanned_coi": coi,
        "scanned_bag_id": bag,
        "wristband_hospital_number": hospital_number_of(patient),
        "wristband_birth_date": birth_date,
    }


def batch_registration(doses: int = 3, product_code: str = "MSC-BANK") -> dict[str, Any]:
    """A donor's MSC bank batch registration."""
    return {
        "lot": "MSC-LOT-9",
        "donor_din": SECOND_DIN,
        "product_code": product_code,
        "doses": doses,
        "site": "Cell therapy unit EFS",
    }


def released_batch(ledger: FakeLedger, doses: int = 3, at: datetime = T0) -> UUID:
    """Register, QC and release an MSC bank batch; return its id."""
    batch_id = uuid4()
    ledger.record("BatchRegistered", batch_id, batch_registration(doses), QP, at)
    ledger.record("BatchQcRecorded", batch_id, msc_qc(), QP, at + timedelta(hours=1))
    ledger.record("BatchReleased", batch_id, {"certificate_id": "CERT-MSC"}, QP, at + timedelta(hours=2))
    return batch_id


def msc_coi(sequence: str) -> str:
    """A COI for an MSC patient, under the test facility."""
    return allocate_coi("A9999", 26, sequence).value


def msc_enrolment(batch_id: UUID, dose_number: int, sequence: str = "00002M", **changes: Any) -> dict[str, Any]:
    """An MSC dose enrolment payload for another patient."""
    return enrolment(
        msc_coi(sequence),
        product_kind="msc",
        product_code="MSC-BANK",
        patient_pseudonym=f"PSN-{sequence}",
        batch_id=str(batch_id),
        dose_number=dose_number,
        **changes,
    )


def msc_product_id(sequence: str = "00002M") -> UUID:
    """The product id of an MSC patient's dose."""
    return product_id_for(allocate_coi("A9999", 26, sequence))
