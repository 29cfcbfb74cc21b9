"""TherapyProduct: one therapy event of one patient (one COI), rebuilt from its recorded facts.

The state says where the product is in the custody chain; the holds (quarantine,
identity-mismatch suspension) and flags (recalled, exceptional release) are kept
apart from it because they can fall on a product at any step. Rules live in
product_rules and product_exception_rules; this module only folds facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.aggregate import Aggregate
from domain.events import EventRecord
from domain.follow_up import visit_name
from domain.payloads import parse_time
from domain.release_panel import test_key
from domain.storage_stay import StorageStay, follow


class ProductState(StrEnum):
    """Where the product stands in the custody chain."""

    ENROLLED = "enrolled"
    COLLECTED = "collected"
    IN_TRANSIT = "in_transit"
    RECEIVED_AT_MANUFACTURER = "received_at_manufacturer"
    MANUFACTURING = "manufacturing"
    MANUFACTURED = "manufactured"
    MANUFACTURING_FAILED = "manufacturing_failed"
    QC_IN_SPEC = "qc_in_spec"
    QC_OUT_OF_SPEC = "qc_out_of_spec"
    RELEASED = "released"
    RECEIVED_AT_PHARMACY = "received_at_pharmacy"
    STORED = "stored"
    DISPENSED = "dispensed"
    THAWED = "thawed"
    BEDSIDE_VERIFIED = "bedside_verified"
    INFUSED = "infused"
    NOT_INFUSED = "not_infused"
    REJECTED = "rejected"
    DESTROYED = "destroyed"
    RETURNED = "returned"


TERMINAL_STATES = frozenset({ProductState.INFUSED, ProductState.DESTROYED, ProductState.RETURNED})


@dataclass(frozen=True)
class Collection:
    """One apheresis collection linked to the COI."""

    din: str
    ended_at: datetime
    preservation: str


@dataclass(frozen=True)
class Location:
    """Where the product is: a site, and in a tank, its rack, box and position."""

    site: str
    tank: str | None = None
    rack: str | None = None
    box: str | None = None
    position: str | None = None


@dataclass(frozen=True)
class BedsideCheckDone:
    """Who performed one bedside check (scans matched, or it would not be recorded)."""

    user_id: str
    name: str
    at: datetime


class TherapyProduct(Aggregate):
    """The chain of identity and custody of one patient's product."""

    kind = "product"

    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(aggregate_id)
        self.state: ProductState | None = None
        self.coi = ""
        self.product_kind = ""
        self.product_code = ""
        self.patient_pseudonym = ""
        self.indication = ""
        self.treating_physician = ""
        self.trial: dict[str, str] = {}
        self.quarantined = False
        self.quarantine_reason = ""
        self.suspended = False
        self.suspension_reason = ""
        self.recalled = False
        self.released = False
        self.exceptional_release = False
        self.exceptional_release_requested = False
        self.open_deviations: dict[int, str] = {}
        self.deviation_severity: dict[int, str] = {}
        self.deviation_allowances: dict[int, dict[str, str]] = {}
        self.collections: list[Collection] = []
        self.lot: str | None = None
        self.bags: tuple[str, ...] = ()
        self.qc_in_spec: bool | None = None
        self.qc_results: dict[str, bool] = {}
        self.location: Location | None = None
        self.storage_stays: tuple[StorageStay, ...] = ()
        self.storage_logger_files: tuple[str, ...] = ()
        self.shipment_id: str | None = None
        self.shipment_leg: str | None = None
        self.thaw_completed_at: datetime | None = None
        self.thaw_started_at: datetime | None = None
        self.thawed_bags: tuple[str, ...] = ()
        self.infused_bags: tuple[str, ...] = ()
        self.bedside_performed: BedsideCheckDone | None = None
        self.bedside_witnessed: BedsideCheckDone | None = None
        self.mismatch_reporters: dict[str, str] = {}
        self.infusion: dict[str, Any] | None = None
        self.batch_id: UUID | None = None
        self.dose_number: int | None = None
        self.lymphodepletion_override = False
        self.pathway_managed_elsewhere: str | None = None
        self.follow_up_schedule: dict[str, str] = {}
        self.follow_up_due: dict[str, str] = {}
        self.follow_up_done: set[str] = set()
        self.custodian_site_kind = "hospital"
        self.qc_versions: set[int] = set()
        self.qc_recorders: set[str] = set()
        self.quarantined_by: str | None = None
        self.destroyed_by: str | None = None
        self.destruction_witnessed_by: str | None = None
        self.duty_waivers: list[str] = []
        self.facts: dict[int, tuple[str, dict[str, Any]]] = {}
        self.corrected: dict[int, dict[str, Any]] = {}

    def apply(self, record: EventRecord) -> None:
        """Keep each fact's type and payload by version, so a correction can name what it corrects."""
        self.facts[record.version] = (record.type, dict(record.payload))
        super().apply(record)
        self.storage_stays = follow(self.storage_stays, self._tank_place(), record.occurred_at)

    def _tank_place(self) -> tuple[str, str, str, str, str] | None:
        """Where the product sits in a tank now (stored, at a full position), or None."""
        where = self.location
        if self.state != ProductState.STORED or where is None:
            return None
        if where.tank is None or where.rack is None or where.box is None or where.position is None:
            return None
        return (where.site, where.tank, where.rack, where.box, where.position)

    def root_of(self, version: int) -> int:
        """The fact a correction (or a correction of a correction) ultimately corrects."""
        seen: set[int] = set()
        while version in self.facts and self.facts[version][0] == "EventCorrected" and version not in seen:
            seen.add(version)
            version = int(self.facts[version][1]["corrects_version"])
        return version

    def effective_payload(self, version: int) -> dict[str, Any]:
        """A fact's payload with every later correction laid over it (the original stays in ``facts``)."""
        return {**self.facts[version][1], **self.corrected.get(version, {})}

    @property
    def is_terminal(self) -> bool:
        """True once infused, destroyed or returned: only annotations may follow."""
        return self.state in TERMINAL_STATES

    @property
    def latest_collection(self) -> Collection | None:
        """The most recent apheresis, the one a lot is made from."""
        return max(self.collections, key=lambda c: c.ended_at, default=None)

    def when_ProductEnrolled(self, record: EventRecord) -> None:
        """Identity, patient and trial become known; an MSC dose starts released with its batch."""
        p = record.payload
        self.coi, self.product_kind, self.product_code = p["coi"], p["product_kind"], p["product_code"]
        self.patient_pseudonym, self.indication = p["patient_pseudonym"], p["indication"]
        self.treating_physician = p["treating_physician"]
        self.location = Location(p["collection_site"])
        self.trial = {k: p[k] for k in ("trial_sponsor", "trial_protocol", "eu_ct_number") if k in p}
        if p.get("batch_id"):
            # An MSC dose comes from a released bank batch: its QC and release are the batch's.
            self.batch_id, self.dose_number = UUID(p["batch_id"]), p.get("dose_number")
            self.released, self.qc_in_spec = True, True
            self.state = ProductState.RELEASED
        else:
            self.state = ProductState.ENROLLED

    def when_ApheresisCollected(self, record: EventRecord) -> None:
        """Each collection (DIN) is linked to the COI; the latest one is what gets manufactured."""
        p = record.payload
        self.collections.append(Collection(p["din"], parse_time(p["ended_at"]), p["preservation"]))
        self.location = Location(p["site"])
        self.state = ProductState.COLLECTED

    def when_ProductShipped(self, record: EventRecord) -> None:
        """The product is on its way, in that shipment, for that leg."""
        self.shipment_id, self.shipment_leg = record.payload["shipment_id"], record.payload["leg"]
        self.state = ProductState.IN_TRANSIT

    def when_ProductReceived(self, record: EventRecord) -> None:
        """The product is at the manufacturer or the pharmacy, according to the leg."""
        self.location = Location(record.payload["site"])
        self.shipment_id = None
        self.custodian_site_kind = "hospital" if record.payload["leg"] == "to_pharmacy" else "manufacturer"
        to_pharmacy = record.payload["leg"] == "to_pharmacy"
        self.state = ProductState.RECEIVED_AT_PHARMACY if to_pharmacy else ProductState.RECEIVED_AT_MANUFACTURER

    def when_ManufacturingStarted(self, record: EventRecord) -> None:
        """A new lot starts, so bags and QC of an earlier failed lot no longer count."""
        self.lot = record.payload["lot"]
        self.bags, self.qc_in_spec, self.qc_results = (), None, {}
        self.qc_versions, self.qc_recorders = set(), set()
        self.state = ProductState.MANUFACTURING

    def when_ManufacturingCompleted(self, record: EventRecord) -> None:
        """The lot's bags become known; infusion and thaw check against them."""
        self.bags = tuple(record.payload["bag_ids"])
        self.state = ProductState.MANUFACTURED

    def when_ManufacturingFailed(self, record: EventRecord) -> None:
        """The lot is lost; a new collection may follow."""
        self.state = ProductState.MANUFACTURING_FAILED

    def when_QcResultsRecorded(self, record: EventRecord) -> None:
        """A retest replaces that test's result for the lot; any test out of specification blocks the release."""
        self.qc_versions.add(record.version)
        self.qc_recorders.add(record.actor.user_id)
        for test in record.payload["tests"]:
            self.qc_results[test_key(test["name"])] = bool(test["in_spec"])
        self.qc_in_spec = all(self.qc_results.values())
        self.state = ProductState.QC_IN_SPEC if self.qc_in_spec else ProductState.QC_OUT_OF_SPEC

    @property
    def qc_failed_tests(self) -> tuple[str, ...]:
        """The lot's tests out of specification, as recorded or as corrected (by their catalogue key)."""
        return tuple(sorted(key for key, in_spec in self.qc_results.items() if not in_spec))

    def when_ProductReleased(self, record: EventRecord) -> None:
        """The QP's certificate makes the product dispensable."""
        self.released = True
        self.state = ProductState.RELEASED

    def when_ExceptionalReleaseRequested(self, record: EventRecord) -> None:
        """A written request is pending the QP's decision."""
        self.exceptional_release_requested = True

    def when_ExceptionalReleaseApproved(self, record: EventRecord) -> None:
        """The product is released despite QC or a quarantine, answering the request."""
        self.exceptional_release_requested = False
        self.exceptional_release = self.released = True
        self.quarantined, self.quarantine_reason, self.quarantined_by = False, "", None
        if self.state in (ProductState.QC_OUT_OF_SPEC, ProductState.QC_IN_SPEC, ProductState.MANUFACTURED):
            self.state = ProductState.RELEASED

    def when_StoredInLN2(self, record: EventRecord) -> None:
        """The tank position is where the pharmacist will find the bag."""
        p = record.payload
        self.location = Location(p["site"], p["tank"], p["rack"], p["box"], p["position"])
        self.state = ProductState.STORED

    def when_StorageLoggerFileImported(self, record: EventRecord) -> None:
        """A tank's logger file is judged once per product."""
        self.storage_logger_files = (*self.storage_logger_files, str(record.payload["document"]["sha256"]))

    def when_Dispensed(self, record: EventRecord) -> None:
        """The product is on the unit, for its patient."""
        self.location = Location(record.payload["to_unit"])
        self.state = ProductState.DISPENSED

    def when_Thawed(self, record: EventRecord) -> None:
        """The first thaw completion starts the infusion window; the bag thawed (named, or the only one) is kept."""
        if self.thaw_completed_at is None:
            self.thaw_completed_at = parse_time(record.payload["completed_at"])
            self.thaw_started_at = parse_time(record.payload["started_at"])
        bag = record.payload.get("bag_id") or (self.bags[0] if len(self.bags) == 1 else None)
        if bag is not None:
            self.thawed_bags = (*self.thawed_bags, bag)
        self.state = ProductState.THAWED

    def when_BedsideCheckPerformed(self, record: EventRecord) -> None:
        """The first checker is remembered so the witness must be someone else; a new round voids the last one."""
        actor = record.actor
        self.bedside_performed = BedsideCheckDone(actor.user_id, actor.name, record.occurred_at)
        self.bedside_witnessed = None
        self.state = ProductState.THAWED

    def when_BedsideCheckWitnessed(self, record: EventRecord) -> None:
        """Two independent checks done: the bag may be infused."""
        actor = record.actor
        self.bedside_witnessed = BedsideCheckDone(actor.user_id, actor.name, record.occurred_at)
        self.state = ProductState.BEDSIDE_VERIFIED

    def when_Infused(self, record: EventRecord) -> None:
        """The patient received the product: custody ends here."""
        self.infusion = dict(record.payload)
        self.infused_bags = tuple(record.payload["bag_ids"])
        self.state = ProductState.INFUSED

    def when_PathwayManagedElsewhereApplied(self, record: EventRecord) -> None:
        """Enrolled under its site's setting: the pathway is kept elsewhere, and the product says so."""
        self.pathway_managed_elsewhere = f"{record.payload['site']}: {record.payload['reason']}"

    def when_LymphodepletionOverrideRecorded(self, record: EventRecord) -> None:
        """A physician's written decision lets the infusion go ahead without the lymphodepletion check."""
        self.lymphodepletion_override = True

    def when_FollowUpScheduled(self, record: EventRecord) -> None:
        """The visits the infusion calls for, by name, with the day each falls due and the last day it is on time."""
        self.follow_up_schedule = {v["visit"]: v["latest_on"] for v in record.payload["visits"]}
        self.follow_up_due = {v["visit"]: v["due_on"] for v in record.payload["visits"]}

    def when_FollowUpRecorded(self, record: EventRecord) -> None:
        """A scheduled visit is done (names compare as ``visit_name`` reads them: "D+7" is "day 7")."""
        self.follow_up_done.add(visit_name(str(record.payload["visit"])))

    def when_NotInfused(self, record: EventRecord) -> None:
        """The product was not given; it will be destroyed or returned."""
        self.state = ProductState.NOT_INFUSED

    def when_DeviationRecorded(self, record: EventRecord) -> None:
        """A deviation stays open, under its version number, until closed."""
        self.open_deviations[record.version] = record.payload["description"]
        self.deviation_severity[record.version] = str(record.payload.get("severity", "minor"))

    def when_DeviationClosed(self, record: EventRecord) -> None:
        """The deviation is no longer open."""
        self.open_deviations.pop(record.payload["deviation_version"], None)

    def when_DeviationImpactAssessed(self, record: EventRecord) -> None:
        """The assessed steps may go ahead while the deviation stays open, for the severity it had when assessed."""
        version = int(record.payload["deviation_version"])
        allowed = self.deviation_allowances.setdefault(version, {})
        for step in record.payload["steps"]:
            allowed[str(step)] = self.deviation_severity.get(version, "minor")

    def when_TemperatureExcursionRecorded(self, record: EventRecord) -> None:
        """An excursion holds the product until assessed."""
        where = record.payload["context"]
        self._quarantine(f"{where} temperature excursion to {record.payload['max_c']} °C", record.actor.user_id)

    def when_ProductQuarantined(self, record: EventRecord) -> None:
        """The product is held for the reason given, by the person (or the ledger) who signed."""
        self._quarantine(record.payload["reason"], record.actor.user_id)

    def when_QuarantineLifted(self, record: EventRecord) -> None:
        """The hold ends after an assessment."""
        self.quarantined, self.quarantine_reason, self.quarantined_by = False, "", None

    def when_IdentityMismatchRecorded(self, record: EventRecord) -> None:
        """A near miss suspends the product until explained."""
        p = record.payload
        self.suspended = True
        self.suspension_reason = f"{p['field']} scanned {p['scanned']!r}, expected {p['expected']!r} at {p['step']}"
        self.mismatch_reporters[record.actor.user_id] = record.actor.name

    def when_MismatchResolved(self, record: EventRecord) -> None:
        """The suspension ends once the mismatch is explained."""
        self.suspended, self.suspension_reason = False, ""
        self.mismatch_reporters = {}

    def when_ReceiptRejected(self, record: EventRecord) -> None:
        """The receiving site refused the product."""
        self.state = ProductState.REJECTED

    def when_ProductDestroyed(self, record: EventRecord) -> None:
        """Custody ends with destruction; the witness must be someone else than who destroyed."""
        self.destroyed_by = record.actor.user_id
        self.state = ProductState.DESTROYED

    def when_DestructionWitnessed(self, record: EventRecord) -> None:
        """A second person saw the destruction through."""
        self.destruction_witnessed_by = record.actor.user_id

    def when_DutySegregationWaiverApplied(self, record: EventRecord) -> None:
        """A step went ahead with one person under its site's signed setting: the product says so."""
        p = record.payload
        self.duty_waivers.append(f"{p['rule']} at {p['site']}: {p['reason']}")

    def when_EventCorrected(self, record: EventRecord) -> None:
        """The corrected values count from now on; a QC result corrected out of specification holds the product."""
        root = self.root_of(int(record.payload["corrects_version"]))
        if root not in self.facts:
            return
        self.corrected[root] = {**self.corrected.get(root, {}), **record.payload["corrections"]}
        if root in self.qc_versions and "tests" in record.payload["corrections"]:
            self._correct_qc(record)
        if root in self.deviation_severity:
            self._correct_deviation(root)

    def _correct_deviation(self, version: int) -> None:
        """A reclassified deviation blocks (or not) by its corrected severity; an open one shows its new words."""
        effective = self.effective_payload(version)
        self.deviation_severity[version] = str(effective.get("severity") or "minor")
        if version in self.open_deviations:
            self.open_deviations[version] = effective["description"]

    def _correct_qc(self, record: EventRecord) -> None:
        """Corrected QC results replace those tests' results; out of specification stops or holds the product."""
        for test in record.payload["corrections"]["tests"]:
            self.qc_results[test_key(test["name"])] = bool(test["in_spec"])
        self.qc_in_spec = all(self.qc_results.values())
        if self.qc_in_spec:
            if self.state == ProductState.QC_OUT_OF_SPEC:
                self.state = ProductState.QC_IN_SPEC
            return
        if self.state == ProductState.QC_IN_SPEC:
            self.state = ProductState.QC_OUT_OF_SPEC
        elif self.released and not self.is_terminal and not self.exceptional_release:
            failed = ", ".join(self.qc_failed_tests)
            by = record.actor.user_id
            self._quarantine(f"QC corrected out of specification at version {record.version} ({failed})", by)

    def when_ProductReturned(self, record: EventRecord) -> None:
        """Custody ends with the product sent back."""
        self.location = Location(record.payload["to_site"])
        self.state = ProductState.RETURNED

    def when_RecallNotified(self, record: EventRecord) -> None:
        """A recall flags the product and holds it unless it was already given."""
        self.recalled = True
        if not self.is_terminal:
            self._quarantine(f"recall {record.payload['recall_ref']}: {record.payload['reason']}", record.actor.user_id)

    def _quarantine(self, reason: str, by: str) -> None:
        """Put the product on hold; the first reason (and who placed it) stays until the hold is lifted."""
        if not self.quarantined:
            self.quarantined, self.quarantine_reason, self.quarantined_by = True, reason, by
