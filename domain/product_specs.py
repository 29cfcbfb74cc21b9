"""The product's event types: who records each, with which signature meaning, and what it means."""

from __future__ import annotations

from domain import product_events as ev
from domain import product_exception_events as ex
from domain.events import Meaning as M
from domain.events import Role as R
from domain.spec import CLINICAL_ROLES, EventSpec

KIND = "product"
_PHARMACY = frozenset({R.PHARMACIST, R.QP})
_BEDSIDE = frozenset({R.NURSE, R.PHYSICIAN})
_CARE = frozenset({R.NURSE, R.PHYSICIAN, R.PHARMACIST})


def _spec(
    name: str,
    payload: type,
    meanings: tuple[M, ...],
    roles: frozenset[R],
    description: str,
    *,
    creates: bool = False,
    annotation: bool = False,
    derived_from: str | None = None,
) -> EventSpec:
    return EventSpec(name, KIND, payload, meanings, roles, description, creates, annotation, derived_from)


PRODUCT_ENROLLED = _spec(
    "ProductEnrolled",
    ev.ProductEnrolled,
    (M.RECORDED, M.APPROVED),
    _CARE,
    "Opens a patient's therapy event under its COI after the RCP decision and consent; an MSC dose is "
    "allocated from a released bank batch.",
    creates=True,
)
APHERESIS_COLLECTED = _spec(
    "ApheresisCollected",
    ev.ApheresisCollected,
    (M.PERFORMED, M.RECORDED),
    _BEDSIDE,
    "Records one apheresis collection (DIN, volume, times, fresh or cryopreserved) for a CAR-T product.",
)
PRODUCT_SHIPPED = _spec(
    "ProductShipped",
    ev.ProductShipped,
    (M.PERFORMED,),
    CLINICAL_ROLES,
    "The product left in a shipment; recorded by dispatching the shipment.",
    derived_from="ShipmentDispatched",
)
PRODUCT_RECEIVED = _spec(
    "ProductReceived",
    ev.ProductReceived,
    (M.RECEIVED, M.VERIFIED),
    _PHARMACY,
    "The product arrived and its identity, seal, temperature and condition were checked; recorded by "
    "receiving the shipment.",
    derived_from="ShipmentReceived",
)
MANUFACTURING_STARTED = _spec(
    "ManufacturingStarted",
    ev.ManufacturingStarted,
    (M.PERFORMED, M.RECORDED),
    frozenset({R.QP}),
    "The manufacturer started a lot; refused when the apheresis is too old.",
)
MANUFACTURING_COMPLETED = _spec(
    "ManufacturingCompleted",
    ev.ManufacturingCompleted,
    (M.PERFORMED, M.RECORDED),
    frozenset({R.QP}),
    "The lot was filled into its bags, awaiting quality control.",
)
MANUFACTURING_FAILED = _spec(
    "ManufacturingFailed",
    ev.ManufacturingFailed,
    (M.RECORDED, M.REVIEWED),
    frozenset({R.QP}),
    "The lot could not be made; the patient may be collected again.",
)
QC_RESULTS_RECORDED = _spec(
    "QcResultsRecorded",
    ev.QcResultsRecorded,
    (M.REVIEWED, M.RECORDED, M.APPROVED),
    frozenset({R.QP}),
    "Records the lot's quality-control results; any test out of specification blocks the normal release.",
)
PRODUCT_RELEASED = _spec(
    "ProductReleased",
    ev.ProductReleased,
    (M.RELEASED,),
    frozenset({R.QP}),
    "The Qualified Person certifies a lot whose QC is within specification.",
)
EXCEPTIONAL_RELEASE_REQUESTED = _spec(
    "ExceptionalReleaseRequested",
    ev.ExceptionalReleaseRequested,
    (M.REQUESTED,),
    frozenset({R.PHYSICIAN}),
    "The treating physician asks in writing, after the "
    "manufacturer's risk assessment, for an out-of-specification or quarantined product.",
)
EXCEPTIONAL_RELEASE_APPROVED = _spec(
    "ExceptionalReleaseApproved",
    ev.ExceptionalReleaseApproved,
    (M.RELEASED,),
    frozenset({R.QP}),
    "Releases a requested out-of-specification product and records who was notified (EU GMP for ATMPs §11.5).",
)
STORED_IN_LN2 = _spec(
    "StoredInLN2",
    ev.StoredInLN2,
    (M.PERFORMED, M.VERIFIED),
    _PHARMACY,
    "The pharmacy placed or moved the product in a liquid-nitrogen tank position.",
)
DISPENSED = _spec(
    "Dispensed",
    ev.Dispensed,
    (M.VERIFIED,),
    frozenset({R.PHARMACIST}),
    "The pharmacist verified the release and the label and handed the product to the unit for the patient.",
)
THAWED = _spec(
    "Thawed",
    ev.Thawed,
    (M.PERFORMED,),
    _CARE,
    "The bag was thawed; the product's thaw-to-infusion window starts when thawing completes.",
)
BEDSIDE_CHECK_PERFORMED = _spec(
    "BedsideCheckPerformed",
    ev.BedsideCheck,
    (M.PERFORMED,),
    _BEDSIDE,
    "First of the two independent bedside checks: the COI and bag labels against the product, the wristband "
    "(hospital number, birth date) against the patient's sealed identity, which is never recorded.",
)
BEDSIDE_CHECK_WITNESSED = _spec(
    "BedsideCheckWitnessed",
    ev.BedsideCheck,
    (M.WITNESSED,),
    _BEDSIDE,
    "Second, independent bedside check by another qualified person, within the validity window of the first.",
)
INFUSED = _spec(
    "Infused",
    ev.Infused,
    (M.PERFORMED,),
    _BEDSIDE,
    "The product was given, after both bedside checks and within the thaw-to-infusion window.",
)
NOT_INFUSED = _spec(
    "NotInfused",
    ev.NotInfused,
    (M.RECORDED, M.APPROVED),
    _CARE,
    "A dispensed product was not given (window expired, patient's condition…).",
)
FOLLOW_UP_RECORDED = _spec(
    "FollowUpRecorded",
    ev.FollowUpRecorded,
    (M.RECORDED, M.REVIEWED, M.AUTHORED),
    _BEDSIDE,
    "Records a follow-up visit after infusion.",
    annotation=True,
)
ADVERSE_EVENT_RECORDED = _spec(
    "AdverseEventRecorded",
    ev.AdverseEventRecorded,
    (M.RECORDED, M.REVIEWED),
    _BEDSIDE,
    "Records a graded adverse event after infusion (CRS, ICANS, infection…).",
    annotation=True,
)
DEVIATION_RECORDED = _spec(
    "DeviationRecorded",
    ex.DeviationRecorded,
    (M.RECORDED, M.AUTHORED),
    CLINICAL_ROLES | {R.SYSTEM},
    "Records a departure from procedure at any step and opens it until closed. The ledger signs it itself when "
    "a shipper's logger file leaves the journey unrecorded for longer than the catalogue allows.",
    annotation=True,
)
DEVIATION_CLOSED = _spec(
    "DeviationClosed",
    ex.DeviationClosed,
    (M.APPROVED, M.REVIEWED),
    frozenset({R.PHARMACIST, R.QP, R.PHYSICIAN}),
    "Closes an open deviation with its resolution.",
    annotation=True,
)
DEVIATION_IMPACT_ASSESSED = _spec(
    "DeviationImpactAssessed",
    ex.DeviationImpactAssessed,
    (M.REVIEWED, M.APPROVED),
    frozenset({R.QP, R.PHYSICIAN}),
    "A documented impact assessment lets the named steps go ahead while a major or critical deviation stays "
    "open: release by a QP, dispense, thaw and infusion by the product's treating physician.",
)
TEMPERATURE_EXCURSION_RECORDED = _spec(
    "TemperatureExcursionRecorded",
    ex.TemperatureExcursionRecorded,
    (M.RECORDED,),
    CLINICAL_ROLES | {R.SYSTEM},
    "Records a shipping or storage temperature alarm; the product is quarantined until assessed. The ledger "
    "signs it itself when it finds the excursion in a receipt's data-logger figures.",
)
PRODUCT_QUARANTINED = _spec(
    "ProductQuarantined",
    ex.ProductQuarantined,
    (M.RECORDED, M.APPROVED),
    _PHARMACY | {R.SYSTEM},
    "Holds the product: it cannot be released, shipped, dispensed or infused until the quarantine is lifted. The "
    "ledger signs it itself when a logger file shows an excursion for another product in the same shipper.",
)
QUARANTINE_LIFTED = _spec(
    "QuarantineLifted",
    ex.QuarantineLifted,
    (M.APPROVED,),
    _PHARMACY,
    "Lifts a quarantine after an assessment found the product usable.",
)
IDENTITY_MISMATCH_RECORDED = _spec(
    "IdentityMismatchRecorded",
    ex.IdentityMismatchRecorded,
    (M.RECORDED,),
    CLINICAL_ROLES,
    "A scanned label or wristband did not match: the product is suspended (a near miss).",
    annotation=True,
)
MISMATCH_RESOLVED = _spec(
    "MismatchResolved",
    ex.MismatchResolved,
    (M.APPROVED,),
    frozenset({R.PHARMACIST, R.QP, R.PHYSICIAN}),
    "Lifts the suspension once the mismatch is explained.",
    annotation=True,
)
RECEIPT_REJECTED = _spec(
    "ReceiptRejected",
    ex.ReceiptRejected,
    (M.RECORDED, M.REVIEWED),
    _PHARMACY,
    "The receiving site refused the product it received.",
)
PRODUCT_DESTROYED = _spec(
    "ProductDestroyed",
    ex.ProductDestroyed,
    (M.PERFORMED, M.VERIFIED, M.WITNESSED),
    _PHARMACY,
    "The product was destroyed under the human-origin or GMO waste rules.",
)
DESTRUCTION_WITNESSED = _spec(
    "DestructionWitnessed",
    ex.DestructionWitnessed,
    (M.WITNESSED,),
    _PHARMACY,
    "A second person, not the one who destroyed it, witnessed the product's destruction through its waste route.",
    annotation=True,
)
DUTY_SEGREGATION_WAIVER_APPLIED = _spec(
    "DutySegregationWaiverApplied",
    ex.DutySegregationWaiverApplied,
    (M.RECORDED,),
    _PHARMACY,
    "One person did both halves of a four-eyes step under the site's signed setting; recorded with that step.",
    annotation=True,
    derived_from="ProductReleased, QuarantineLifted or DestructionWitnessed",
)
PRODUCT_RETURNED = _spec(
    "ProductReturned",
    ex.ProductReturned,
    (M.PERFORMED, M.RECORDED),
    _PHARMACY,
    "The product was sent back and leaves this site's custody.",
)
RECALL_NOTIFIED = _spec(
    "RecallNotified",
    ex.RecallNotified,
    (M.RECORDED,),
    _PHARMACY,
    "The manufacturer recalled the product or its batch; unused products are quarantined, infused patients "
    "flagged for follow-up.",
    annotation=True,
)
EVENT_CORRECTED = _spec(
    "EventCorrected",
    ex.EventCorrected,
    (M.AUTHORED, M.APPROVED),
    CLINICAL_ROLES,
    "Corrects an earlier event with a reason; the original stays unchanged (Annex 11 §9).",
    annotation=True,
)
ANNOTATION_ADDED = _spec(
    "AnnotationAdded",
    ex.AnnotationAdded,
    (M.AUTHORED,),
    CLINICAL_ROLES,
    "Adds a note to the product's record.",
    annotation=True,
)

PRODUCT_SPECS: tuple[EventSpec, ...] = tuple(value for value in globals().values() if isinstance(value, EventSpec))
