"""Qualifications and specialties: what a person is trained for, and until when.

21 CFR Part 11 §11.10(i) asks that people who use electronic records and signatures have
the education, training and experience for their tasks; FACT-JACIE standards ask a
cell-therapy programme to keep training and competency records for each person who
collects, processes, stores, dispenses or administers a product. The ledger keeps those
records as signed events on the person's staff record, and checks them when the person
signs a custody step (``domain/signer_qualification.py``).

A qualification covers named step types (event type names) or, role-wide, every step
the person's role may sign, for the days from ``valid_from`` to ``valid_until``
included. Recording the same reference again renews it (the new record replaces the
old); a withdrawal ends it from a day on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated

from domain.payloads import NON_EMPTY, DateText, FreeText, Length

QUALIFICATION_EVENT_TYPES = ("StaffQualificationRecorded", "StaffQualificationWithdrawn", "StaffSpecialtyRecorded")

QUALIFIED_KINDS = frozenset({"product", "shipment", "pathway", "batch", "donation"})
"""Aggregates whose steps are custody steps: signing one needs a qualification covering it.

Registers (sites, trials, trial sites), staff records and the ledger's own commitments
need none: they are kept by administrators, not performed on a product or a patient.
"""

SAFETY_REPORTS = frozenset({"TemperatureExcursionRecorded"})
"""Alarms anyone in the chain raises whatever their training: a problem must always reach the ledger.

Annotations (notes, deviations, adverse events, near misses, corrections) are exempt for
the same reason; their specs say so with ``annotation=True``.
"""

EXPIRING_WITHIN = timedelta(days=60)
"""How early ``custody staff show`` warns that a qualification is about to end."""

RENEWED_BY = "an administrator"
"""Who records and renews qualifications (``custody staff qualify``, POST /staff/{username}/qualifications)."""


class Specialty(StrEnum):
    """A physician's medical specialty, as the Ordre des médecins lists it (the ones cell therapy meets)."""

    HAEMATOLOGY = "haematology"
    CELL_THERAPY = "cell_therapy"
    """The transversal specialised training (FST) in cell therapy, held by physicians of cell-therapy units."""
    INTERNAL_MEDICINE = "internal_medicine"
    RHEUMATOLOGY = "rheumatology"
    NEUROLOGY = "neurology"
    DERMATOLOGY = "dermatology"
    NEPHROLOGY = "nephrology"
    ONCOLOGY = "oncology"
    PAEDIATRICS = "paediatrics"


@dataclass(frozen=True)
class StaffQualificationRecorded:
    """A training record: the steps it covers (or the whole role), its evidence and its validity."""

    reference: str
    evidence: FreeText
    valid_from: DateText
    valid_until: DateText
    events: Annotated[list[str], Length(0, 200)] = field(default_factory=list)
    role_wide: bool = False


@dataclass(frozen=True)
class StaffQualificationWithdrawn:
    """A qualification stops covering anything from a day on (failed competency check, suspension)."""

    reference: str
    effective_on: DateText
    reason: FreeText


@dataclass(frozen=True)
class StaffSpecialtyRecorded:
    """A physician's specialty, with the registration or diploma that shows it."""

    specialties: Annotated[list[Specialty], NON_EMPTY]
    evidence: FreeText


class QualificationState(StrEnum):
    """How a qualification stands on a given day."""

    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    WITHDRAWN = "withdrawn"


CURRENT = frozenset({QualificationState.VALID, QualificationState.EXPIRING})
"""The states in which a qualification covers its steps (expiring still covers: it is a warning)."""


@dataclass(frozen=True)
class Qualification:
    """One qualification as the staff record holds it."""

    reference: str
    evidence: str
    events: frozenset[str]
    role_wide: bool
    valid_from: date
    valid_until: date
    recorded_by: str
    withdrawn_on: date | None = None

    def scope_covers(self, event_type: str) -> bool:
        """True when the qualification is about this step (whatever its dates)."""
        return self.role_wide or event_type in self.events

    def covers(self, event_type: str, day: date) -> bool:
        """True when the step is in scope and the day inside the validity, before any withdrawal."""
        return self.scope_covers(event_type) and self.state(day) in CURRENT

    def state(self, day: date) -> QualificationState:
        """Valid, expiring within 60 days, expired, not yet valid, or withdrawn, on ``day``."""
        if self.withdrawn_on is not None and day >= self.withdrawn_on:
            return QualificationState.WITHDRAWN
        if day < self.valid_from:
            return QualificationState.NOT_YET_VALID
        if day > self.valid_until:
            return QualificationState.EXPIRED
        if self.valid_until - day < EXPIRING_WITHIN:
            return QualificationState.EXPIRING
        return QualificationState.VALID

    def describe_scope(self) -> str:
        """What it covers, in words."""
        return "every step of the role" if self.role_wide else ", ".join(sorted(self.events))
