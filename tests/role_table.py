"""Who may sign each event type, written out by hand as the oracle the role tests check against.

The production table (``EventSpec.roles`` in the per-aggregate spec modules) is what is
under test, so no test may read its expectations from it: a role wrongly added there
would then pass. Each line below is meant to be read against the domain: nurses collect,
check at the bedside, thaw and infuse; pharmacists receive, store, dispense and hold at
the hospital pharmacy; the Qualified Person makes, tests and releases at the
manufacturer; couriers carry and hand over shippers; physicians decide; the administrator
keeps the registers (staff, sites, trials) and records no clinical step; auditors record
nothing and sponsors only their trial sites' readiness; ``system`` is the ledger itself, which registers its own key and
the demonstration registers.
"""

from __future__ import annotations

NURSE = "nurse"
PHYSICIAN = "physician"
PHARMACIST = "pharmacist"
QP = "qp"
COURIER = "courier"
SPONSOR = "sponsor"
AUDITOR = "auditor"
ADMIN = "admin"
SYSTEM = "system"

PEOPLE = frozenset({NURSE, PHYSICIAN, PHARMACIST, QP, COURIER, SPONSOR, AUDITOR, ADMIN})
"""Every role a person can hold (``system`` is the ledger, never a person)."""

EVERYONE_IN_THE_CHAIN = frozenset({NURSE, PHYSICIAN, PHARMACIST, QP, COURIER})
"""Whoever holds or handles the product at some step: each may note, correct or raise an alarm."""

REGISTRARS = frozenset({ADMIN, SYSTEM})
"""Who keeps the registers of people, keys, sites and trials."""

TRIAL_SITE_SIGNERS = frozenset({SPONSOR, ADMIN, SYSTEM})
"""Who prepares and activates a site for a trial: the sponsor, or the administrator on its behalf."""

ROLES_BY_EVENT_TYPE: dict[str, frozenset[str]] = {
    # -- the patient's pathway, before any product exists: physicians decide, nurses assist ----------
    "PatientEnrolled": frozenset({PHYSICIAN}),
    "ConsentSigned": frozenset({NURSE, PHYSICIAN}),
    "ConsentWithdrawn": frozenset({NURSE, PHYSICIAN}),
    "RcpDecisionRecorded": frozenset({PHYSICIAN}),
    "TreatmentDecisionProposed": frozenset({PHYSICIAN}),
    "TreatmentDecisionCosigned": frozenset({PHYSICIAN}),
    "LymphodepletionRecorded": frozenset({NURSE, PHYSICIAN}),
    # -- treatment orders: the physician orders; the slot follows on the manufacturer's schedule ------
    "TreatmentOrdered": frozenset({PHYSICIAN}),
    "TreatmentOrderRescheduled": frozenset({PHYSICIAN}),
    "TreatmentOrderCancelled": frozenset({PHYSICIAN}),
    "ManufacturingSlotBooked": frozenset({PHYSICIAN}),  # derived from an order or its rescheduling
    "ManufacturingSlotReleased": frozenset({PHYSICIAN}),  # derived from a rescheduling or a cancellation
    "ManufacturingCapacityDeclared": frozenset({QP}),  # the manufacturer's QP answers for its capacity
    # conditioning planned once the product is released, or earlier where the site's administrator allows it
    "LymphodepletionPlanned": frozenset({PHYSICIAN}),
    "EarlyLymphodepletionAllowed": frozenset({ADMIN}),  # a person answers for it, never the ledger itself
    "EarlyLymphodepletionRevoked": frozenset({ADMIN}),
    # -- the product at the clinical unit: enrolment and collection ---------------------------------
    "ProductEnrolled": frozenset({NURSE, PHYSICIAN, PHARMACIST}),
    "DoseAllocated": frozenset({NURSE, PHYSICIAN, PHARMACIST}),  # derived from ProductEnrolled
    "DinAssigned": frozenset({NURSE, PHYSICIAN, QP}),  # derived from ApheresisCollected or BatchRegistered
    "Ln2PositionOccupied": frozenset({PHARMACIST, QP}),  # derived from StoredInLN2
    "Ln2PositionFreed": frozenset({PHARMACIST, QP}),  # derived from StoredInLN2 or Dispensed
    "ApheresisCollected": frozenset({NURSE, PHYSICIAN}),
    "PathwayManagedElsewhereApplied": frozenset({PHYSICIAN, SYSTEM}),  # derived from ProductEnrolled
    # -- at the manufacturer: the Qualified Person alone --------------------------------------------
    "ManufacturingStarted": frozenset({QP}),
    "ManufacturingCompleted": frozenset({QP}),
    "ManufacturingFailed": frozenset({QP}),
    "QcResultsRecorded": frozenset({QP}),
    "ProductReleased": frozenset({QP}),
    "ExceptionalReleaseRequested": frozenset({PHYSICIAN}),
    "ExceptionalReleaseApproved": frozenset({QP}),
    # -- transport: whoever packs, carries or opens a shipper ----------------------------------------
    "ShipmentDispatched": frozenset({COURIER, NURSE, PHARMACIST, QP}),
    "ProductShipped": frozenset({COURIER, NURSE, PHARMACIST, PHYSICIAN, QP}),  # derived from ShipmentDispatched
    "ShipmentHandedOver": frozenset({COURIER, NURSE, PHARMACIST, QP}),
    "ShipmentHandOverAccepted": frozenset({COURIER, NURSE, PHARMACIST, QP}),
    "ShipmentReceived": frozenset({PHARMACIST, QP}),
    "ProductReceived": frozenset({PHARMACIST, QP}),  # derived from ShipmentReceived
    "ReceiptRejected": frozenset({PHARMACIST, QP}),
    # the received shipper's logger file: who received it answers for which file it is; the ledger reads it
    "ShipmentLoggerFileImported": frozenset({PHARMACIST, QP}),
    "ShipmentReadingsSummarised": frozenset({SYSTEM}),  # derived from ShipmentLoggerFileImported
    "StorageLoggerFileImported": frozenset({PHARMACIST, QP}),
    "StorageReadingsSummarised": frozenset({SYSTEM}),  # derived from StorageLoggerFileImported
    # -- at the hospital pharmacy (and the manufacturer's store) -------------------------------------
    "StoredInLN2": frozenset({PHARMACIST, QP}),
    "Dispensed": frozenset({PHARMACIST}),
    # and the ledger, which holds every product of a shipper whose logger file shows an excursion
    "ProductQuarantined": frozenset({PHARMACIST, QP, SYSTEM}),
    "QuarantineLifted": frozenset({PHARMACIST, QP}),
    "RecallNotified": frozenset({PHARMACIST, QP}),
    "ProductReturned": frozenset({PHARMACIST, QP}),
    "ProductDestroyed": frozenset({PHARMACIST, QP}),
    "DestructionWitnessed": frozenset({PHARMACIST, QP}),
    "DutySegregationWaiverApplied": frozenset({PHARMACIST, QP}),  # derived from a release, lift or witness
    # -- at the bedside ------------------------------------------------------------------------------
    "Thawed": frozenset({NURSE, PHYSICIAN, PHARMACIST}),
    "BedsideCheckPerformed": frozenset({NURSE, PHYSICIAN}),
    "BedsideCheckWitnessed": frozenset({NURSE, PHYSICIAN}),
    "LymphodepletionOverrideRecorded": frozenset({PHYSICIAN}),
    "Infused": frozenset({NURSE, PHYSICIAN}),
    "NotInfused": frozenset({NURSE, PHYSICIAN, PHARMACIST}),
    "FollowUpScheduled": frozenset({NURSE, PHYSICIAN}),  # derived from Infused
    "FollowUpRecorded": frozenset({NURSE, PHYSICIAN}),
    "AdverseEventRecorded": frozenset({NURSE, PHYSICIAN}),
    # -- exceptions anyone in the chain may raise, and who may close them ----------------------------
    "AnnotationAdded": EVERYONE_IN_THE_CHAIN,
    # and the ledger, which records a gap in a shipper's logger file longer than the catalogue allows
    "DeviationRecorded": EVERYONE_IN_THE_CHAIN | {SYSTEM},
    # and the ledger, which signs the excursion it finds in a receipt's data-logger figures
    "TemperatureExcursionRecorded": EVERYONE_IN_THE_CHAIN | {SYSTEM},
    "IdentityMismatchRecorded": EVERYONE_IN_THE_CHAIN,
    # Anyone in the chain may ask to correct, but the rule narrows it per corrected event: only a role that may
    # record that event type (``allowed(type)``), or the QP as QA of the manufacturer's facts; tested in
    # tests/unit/test_four_eyes_and_corrections.py against this table.
    "EventCorrected": EVERYONE_IN_THE_CHAIN,
    "DeviationClosed": frozenset({PHARMACIST, PHYSICIAN, QP}),
    # The QP lets a release through an open deviation; the treating physician the clinical steps (the rule narrows it).
    "DeviationImpactAssessed": frozenset({PHYSICIAN, QP}),
    "MismatchResolved": frozenset({PHARMACIST, PHYSICIAN, QP}),
    # -- MSC bank batches: the manufacturer's Qualified Person ---------------------------------------
    "BatchRegistered": frozenset({QP}),
    "BatchQcRecorded": frozenset({QP}),
    "BatchReleased": frozenset({QP}),
    "BatchRecalled": frozenset({QP}),
    # -- the product catalogue (limits, windows, release panels) is product specification: the QP approves it;
    # the ledger signs only the file in place when it is initialised, before any QP exists --------------
    "CatalogueChanged": frozenset({QP, SYSTEM}),
    # -- the registers: administrators and the ledger itself, never a clinical role -----------------
    "SiteRegistered": REGISTRARS,
    "AccreditationGranted": REGISTRARS,
    "AccreditationWithdrawn": REGISTRARS,
    "PathwayManagedElsewhereDeclared": REGISTRARS,
    "PathwayManagedElsewhereRevoked": REGISTRARS,
    "DutySegregationWaived": frozenset({ADMIN}),  # a person answers for it, never the ledger itself
    "DutySegregationRestored": frozenset({ADMIN}),
    "TrialRegistered": REGISTRARS,
    "SponsorUserAuthorised": REGISTRARS,
    "SponsorUserRevoked": REGISTRARS,
    # -- a site's readiness for a trial: the sponsor, or the administrator on its behalf ---------------
    "TrialSiteOpened": TRIAL_SITE_SIGNERS,
    # each prerequisite by who can vouch for it (per-prerequisite table: tests/unit/test_trial_site_attesters.py);
    # the event by anyone who vouches for one, never the ledger itself
    "TrialPrerequisiteAttested": frozenset({PHYSICIAN, PHARMACIST, QP, SPONSOR, ADMIN}),
    "TrialStaffDesignated": TRIAL_SITE_SIGNERS,
    "TrialSiteActivated": TRIAL_SITE_SIGNERS,
    "TrialSiteSuspended": TRIAL_SITE_SIGNERS,
    "TrialSiteClosed": TRIAL_SITE_SIGNERS,
    "StaffMemberRegistered": REGISTRARS,
    "SigningKeyRegistered": REGISTRARS,
    "SigningKeyRevoked": REGISTRARS,
    # -- training records: the administrator keeps them (the ledger for its demonstration and test people);
    # a QP certifies products, not colleagues' training, and nobody qualifies themselves ------------
    "StaffQualificationRecorded": REGISTRARS,
    "StaffQualificationWithdrawn": REGISTRARS,
    "StaffSpecialtyRecorded": REGISTRARS,
    "PrintedNameClaimed": REGISTRARS,  # derived from StaffMemberRegistered, signed by whoever registers
    # -- the ledger's own statement of every aggregate's head, at each checkpoint: nobody else ----------
    "AggregateHeadsCommitted": frozenset({SYSTEM}),
    # -- a running deadline close to expiring: the ledger's scan raises the alert, nobody else -------------
    "DeadlineAlertRaised": frozenset({SYSTEM}),
}
"""Every event type the ledger stores, and exactly the roles that may sign it."""

DERIVED = frozenset(
    {
        "DoseAllocated", "ProductShipped", "ProductReceived", "FollowUpScheduled",
        "DinAssigned", "Ln2PositionOccupied", "Ln2PositionFreed", "PathwayManagedElsewhereApplied",
        "DutySegregationWaiverApplied", "ShipmentReadingsSummarised", "StorageReadingsSummarised",
        "ManufacturingSlotBooked",
        "ManufacturingSlotReleased", "DeadlineAlertRaised",
    }
)  # fmt: skip
"""Recorded by the domain as the consequence of another event (or by the ledger's deadline scan), never requested
on their own."""

STAFF_EVENTS = frozenset(
    {
        "StaffMemberRegistered", "SigningKeyRegistered", "SigningKeyRevoked",
        "StaffQualificationRecorded", "StaffQualificationWithdrawn", "StaffSpecialtyRecorded",
    }
)  # fmt: skip
"""Recorded through ``custody staff`` / ``custody keys``, outside the event-type registry."""

PRINTED_NAME_EVENTS = frozenset({"PrintedNameClaimed"})
"""Recorded by the domain with each registration, on the printed name's own aggregate."""

LOG_EVENTS = frozenset({"AggregateHeadsCommitted"})
"""Recorded by the ledger itself at each checkpoint, outside the event-type registry."""


def allowed(event_type: str) -> frozenset[str]:
    """The roles the hand table lets sign ``event_type``."""
    return ROLES_BY_EVENT_TYPE[event_type]


# -- reads: who may see what (the table in README.md, "The HTTP API") --------------------------------

PATIENT_TIMELINE_READERS = frozenset({NURSE, PHYSICIAN, PHARMACIST, AUDITOR})
"""Care and pharmacy staff and auditors; never a sponsor, a courier or the manufacturer."""

INVENTORY_READERS = frozenset({NURSE, PHYSICIAN, PHARMACIST, QP, AUDITOR})
"""Whoever may need a product from the tanks, and auditors."""

AUDIT_READERS = frozenset({PHARMACIST, QP, AUDITOR, ADMIN})
"""The history "as of" a moment: custody owners, auditors and the administrator."""

METRICS_READERS = frozenset({PHYSICIAN, PHARMACIST, QP, AUDITOR})
"""Turnaround figures: those who answer for them, and auditors."""

VERIFIERS = frozenset({PHARMACIST, QP, AUDITOR, ADMIN})
"""Who may run a verification of the whole ledger."""

LOG_READERS = PEOPLE
"""The transparency log (checkpoints, consistency proofs): every signed-in person; it names no product or patient."""

PATHWAY_READERS = frozenset({NURSE, PHYSICIAN, PHARMACIST, AUDITOR})
"""A patient's care pathway is clinical: the care team and auditors; never a sponsor, a courier or the QP."""

REGISTRY_EXPORTERS = frozenset({NURSE, PHYSICIAN, AUDITOR})
"""DESCAR-T and EBMT rows: the care team that submits them and auditors; never a pharmacist, QP, courier or sponsor."""

REGISTER_READERS = PEOPLE
"""Sites, trials, shipments and bank batches, to find valid codes: every person (a sponsor only its trials')."""

CATALOGUE_READERS = PEOPLE
"""The signed product catalogue and its history: every signed-in person; it names no patient or product."""
