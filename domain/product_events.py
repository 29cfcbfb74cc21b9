"""Payloads of the product's custody steps, from enrolment to infusion and follow-up.

Field names follow the distribution records of CSP R5121-201-5 where they overlap
(site, product code, batch/lot, DIN, patient pseudonym, prescriber, destination).
Exceptions (deviations, holds, destruction, corrections) live in product_exception_events.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from domain.document_ref import CertificateOfAnalysis, ReleaseCertificate, RiskAssessment
from domain.payloads import NON_EMPTY, Bounds, CoiText, DinText, FreeText, IdText, PositiveNumber, SecText, Timestamp


class ProductKind(StrEnum):
    """Autologous CAR-T cells, or one dose of an allogeneic MSC bank batch."""

    CAR_T = "car_t"
    MSC = "msc"


class Indication(StrEnum):
    """The refractory autoimmune disease the product treats."""

    SYSTEMIC_LUPUS_ERYTHEMATOSUS = "systemic_lupus_erythematosus"
    SYSTEMIC_SCLEROSIS = "systemic_sclerosis"
    INFLAMMATORY_MYOPATHY = "inflammatory_myopathy"
    VASCULITIS = "vasculitis"
    OTHER = "other"


class Preservation(StrEnum):
    """How an apheresis leaves the collection site: fresh (cold chain) or cryopreserved."""

    FRESH = "fresh"
    CRYOPRESERVED = "cryopreserved"


class Leg(StrEnum):
    """The two journeys of an autologous product: to be manufactured, then back to the pharmacy."""

    TO_MANUFACTURER = "to_manufacturer"
    TO_PHARMACY = "to_pharmacy"


class Condition(StrEnum):
    """The bag's condition as seen on receipt."""

    INTACT = "intact"
    DAMAGED = "damaged"


class ThawMethod(StrEnum):
    """The validated thawing device used."""

    WATER_BATH = "water_bath"
    DRY_THAWER = "dry_thawer"


class NotifiedParty(StrEnum):
    """Who must be told of an out-of-specification release (EU GMP for ATMPs §11.5)."""

    SPONSOR = "sponsor"
    COMPETENT_AUTHORITY = "competent_authority"
    MARKETING_AUTHORISATION_HOLDER = "marketing_authorisation_holder"


class NotInfusedReason(StrEnum):
    """Why a dispensed product was not given."""

    EXPIRED_WINDOW = "expired_window"
    PATIENT_CONDITION = "patient_condition"
    OTHER = "other"


class DiseaseResponse(StrEnum):
    """The autoimmune disease's state at a follow-up visit, as the treating physician assesses it."""

    COMPLETE_REMISSION = "complete_remission"
    PARTIAL_RESPONSE = "partial_response"
    NO_RESPONSE = "no_response"
    RELAPSE = "relapse"
    NOT_EVALUATED = "not_evaluated"


class SurvivalStatus(StrEnum):
    """Whether the patient is alive at the visit (or known dead by then)."""

    ALIVE = "alive"
    DEAD = "dead"


class AdverseEventCategory(StrEnum):
    """Categories followed after cell therapy (CRS and ICANS graded on the ASTCT scales)."""

    CRS = "crs"
    ICANS = "icans"
    INFECTION = "infection"
    CYTOPENIA = "cytopenia"
    OTHER = "other"


@dataclass(frozen=True)
class ProductEnrolled:
    """A patient's therapy event is opened under a COI, after the RCP decision and consent."""

    coi: CoiText
    product_kind: ProductKind
    product_code: str
    patient_pseudonym: str
    indication: Indication
    treating_physician: str
    collection_site: str
    trial_sponsor: str | None = None
    trial_protocol: str | None = None
    eu_ct_number: str | None = None
    batch_id: IdText | None = None
    dose_number: Annotated[int, Bounds(low=1)] | None = None
    sec: SecText | None = None
    """An MSC dose's Single European Code (domain/sec_code.py), when its tissue establishment allocated one."""


@dataclass(frozen=True)
class ApheresisCollected:
    """One apheresis collection under its DIN."""

    din: DinText
    site: str
    volume_ml: PositiveNumber
    started_at: Timestamp
    ended_at: Timestamp
    preservation: Preservation
    tnc_count: Annotated[float, Bounds(low=0)] | None = None
    cd3_count: Annotated[float, Bounds(low=0)] | None = None


@dataclass(frozen=True)
class ProductShipped:
    """The product left in a shipment (derived from ShipmentDispatched)."""

    shipment_id: IdText
    leg: Leg
    to_site: str


@dataclass(frozen=True)
class ProductReceived:
    """The product arrived and was checked (derived from ShipmentReceived)."""

    shipment_id: IdText
    site: str
    leg: Leg
    scanned_coi: CoiText
    seal_intact: bool
    temperature_ok: bool
    condition: Condition
    certificate_of_release_checked: bool | None = None
    min_c: float | None = None
    max_c: float | None = None
    excursion_min: int | None = None
    """The data logger's figures the ledger judged ``temperature_ok`` from (absent on receipts recorded before)."""


@dataclass(frozen=True)
class ManufacturingStarted:
    """The manufacturer started a lot from the collected cells."""

    lot: str
    site: str


@dataclass(frozen=True)
class ManufacturingCompleted:
    """The lot was filled into bags."""

    lot: str
    bag_ids: Annotated[list[str], NON_EMPTY]
    dose_description: str


@dataclass(frozen=True)
class ManufacturingFailed:
    """The lot could not be made; a new collection may follow."""

    reason: FreeText


@dataclass(frozen=True)
class QcTest:
    """One quality-control test of the lot: the reading, and for a numeric test its measured value and unit.

    ``in_spec`` is the recorder's verdict; the ledger computes its own from ``value`` (or
    ``result`` for a qualitative test) and the catalogue's criterion, and refuses a contradiction.
    """

    name: str
    result: str
    specification: str
    in_spec: bool
    value: float | None = None
    unit: str | None = None


@dataclass(frozen=True)
class QcResultsRecorded:
    """The lot's QC results (sterility, endotoxin, mycoplasma, viability, identity…)."""

    tests: Annotated[list[QcTest], NON_EMPTY]
    document: CertificateOfAnalysis | None = None
    """The certificate of analysis the results come from, stored by hash (domain/document_ref.py)."""


@dataclass(frozen=True)
class ProductReleased:
    """The Qualified Person certified the lot."""

    certificate_id: str
    document: ReleaseCertificate | None = None
    """The signed release for infusion certificate, stored by hash."""


@dataclass(frozen=True)
class ExceptionalReleaseRequested:
    """The treating physician asks in writing for an out-of-specification product."""

    reason: FreeText
    risk_assessment_ref: str
    document: RiskAssessment | None = None
    """The risk assessment ``risk_assessment_ref`` names, stored by hash."""


@dataclass(frozen=True)
class ExceptionalReleaseApproved:
    """The out-of-specification product is released and the parties notified."""

    certificate_id: str
    notified: Annotated[list[NotifiedParty], NON_EMPTY]
    accepted_failed_tests: list[str] | None = None
    """The out-of-specification tests the QP saw and accepts: exactly the failed tests of the latest QC."""
    document: ReleaseCertificate | None = None
    """The exceptional release certificate, stored by hash."""


@dataclass(frozen=True)
class StoredInLN2:
    """The product was placed (or moved) in vapour-phase liquid nitrogen."""

    site: str
    tank: str
    rack: str
    box: str
    position: str
    temperature_c: float
    temperature_ok: bool | None = None
    """The storer's verdict on ``temperature_c``, if given: it must agree with the ledger's (the storage limit)."""


@dataclass(frozen=True)
class Dispensed:
    """The pharmacy handed the product to a unit for the named patient."""

    to_unit: str
    scanned_coi: CoiText
    scanned_patient: str
    release_verified: bool


@dataclass(frozen=True)
class Thawed:
    """The bag was thawed; the thaw-to-infusion window starts at completion."""

    method: ThawMethod
    started_at: Timestamp
    completed_at: Timestamp
    bag_id: str | None = None
    infusion_blockers_acknowledged: list[str] | None = None
    """When infusion would be refused at the thaw: every rule code refusing it, so thawing anyway is a signed
    decision (domain/infusion_readiness.py); absent or empty when infusion would be allowed."""


@dataclass(frozen=True)
class BedsideCheck:
    """One of the two independent bedside checks: the COI label, the bag's own label and the patient's wristband.

    The wristband's hospital number and birth date (as printed by the hospital) are
    compared by the ledger with the patient's sealed identity and never recorded: the
    event keeps a ``BedsideCheckRecorded`` instead.
    """

    scanned_coi: CoiText
    scanned_bag_id: str
    wristband_hospital_number: str
    wristband_birth_date: str


@dataclass(frozen=True)
class BedsideCheckRecorded:
    """What a bedside check leaves in the ledger: the labels scanned, and that the wristband matched which identity.

    ``identity_version`` names the sealed identity record the wristband was compared
    with (its registration instant); the signer of the event is who checked.
    """

    scanned_coi: str
    scanned_bag_id: str
    wristband_matched: bool
    identity_version: str


@dataclass(frozen=True)
class Infused:
    """The product was given to the patient; ``site`` defaults to the unit it was dispensed to."""

    started_at: Timestamp
    ended_at: Timestamp
    volume_ml: PositiveNumber
    bag_ids: Annotated[list[str], NON_EMPTY]
    observations: FreeText | None = None
    site: str | None = None
    viable_cells: PositiveNumber | None = None
    """The dose given, in total viable cells (CAR-positive for CAR-T), as the certificate of release states it."""


@dataclass(frozen=True)
class NotInfused:
    """A dispensed product was not given."""

    reason: NotInfusedReason
    detail: str


@dataclass(frozen=True)
class FollowUpRecorded:
    """A follow-up visit after infusion: ``visit`` names a visit of the schedule (e.g. "day 7"), or "unscheduled"."""

    visit: str
    findings: str
    disease_response: DiseaseResponse | None = None
    """What the registries ask at each visit (docs/registries.md); optional here, required by their exports."""
    survival: SurvivalStatus | None = None
    cause_of_death: FreeText | None = None
    """Only with ``survival`` dead."""


@dataclass(frozen=True)
class AdverseEventRecorded:
    """An adverse event after infusion, graded 1 to 5 (CRS and ICANS 1 to 4, ASTCT consensus grading)."""

    category: AdverseEventCategory
    grade: Annotated[int, Bounds(low=1, high=5)]
    description: FreeText
