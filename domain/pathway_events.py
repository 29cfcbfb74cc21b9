"""Payloads of a patient's care pathway: enrolment, the RCP's selection, the pair's decision, consent, treatment.

The care pathway asks that a pair — the specialist of the
disease and the specialist of cell therapy — follow each patient, that a
multidisciplinary meeting (RCP) select patients on a recent clinical and paraclinical
evaluation, and that treatment happen only with the patient's consent. These are
the facts that record it; the rules are in pathway_rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from domain.document_ref import ConsentForm
from domain.payloads import NON_EMPTY, Bounds, DateText, FreeText, Length, Timestamp
from domain.product_events import Indication, ProductKind


class RcpOutcome(StrEnum):
    """What the multidisciplinary meeting decided."""

    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    DEFERRED = "deferred"


class EvaluationKind(StrEnum):
    """The two halves of the evaluation an RCP relies on."""

    CLINICAL = "clinical"
    PARACLINICAL = "paraclinical"


@dataclass(frozen=True)
class PriorTreatment:
    """A reference treatment the disease resisted, and how it failed."""

    treatment: str
    failure_reason: str
    started_on: DateText | None = None
    stopped_on: DateText | None = None


@dataclass(frozen=True)
class Specialist:
    """One member of the patient's pair, by username (who signs) and printed name."""

    user_id: str
    name: str


@dataclass(frozen=True)
class PatientEnrolled:
    """A patient enters the pathway under a pseudonym, with the pair that follows them."""

    patient_pseudonym: str
    diagnosis: Indication
    prior_treatments: Annotated[list[PriorTreatment], NON_EMPTY]
    disease_specialist: Specialist
    cell_therapy_specialist: Specialist
    diagnosis_detail: str | None = None


@dataclass(frozen=True)
class RcpParticipant:
    """Someone who took part in the meeting, with their specialty."""

    name: str
    specialty: str


@dataclass(frozen=True)
class Evaluation:
    """One clinical or paraclinical evaluation the decision relied on, and the day it was done."""

    kind: EvaluationKind
    performed_on: DateText
    description: FreeText


@dataclass(frozen=True)
class RcpDecisionRecorded:
    """The multidisciplinary meeting's decision on the patient's selection."""

    meeting_at: Timestamp
    outcome: RcpOutcome
    participants: Annotated[list[RcpParticipant], Length(2)]
    evaluations: Annotated[list[Evaluation], Length(2)]
    rationale: FreeText
    therapy: ProductKind | None = None


@dataclass(frozen=True)
class TreatmentDecisionProposed:
    """One member of the pair proposes the treatment; it counts once the other co-signs."""

    therapy: ProductKind
    product_code: str
    rationale: FreeText


@dataclass(frozen=True)
class TreatmentDecisionCosigned:
    """The other member of the pair co-signs the pending proposal, named by its version."""

    proposal_version: Annotated[int, Bounds(low=1)]


class Registry(StrEnum):
    """The registries a patient may agree their pseudonymised data be sent to (docs/registries.md)."""

    DESCAR_T = "descar_t"
    EBMT = "ebmt"


@dataclass(frozen=True)
class ConsentSigned:
    """The patient signed the informed consent form."""

    form_version: str
    signed_on: DateText
    document_ref: str
    document: ConsentForm | None = None
    """The signed form, stored by hash and sealed with the patient's data key (erased with their identity)."""
    registry_transmission: list[Registry] | None = None
    """The registries the patient agreed to: no registry export names a patient who did not (absent: none)."""


@dataclass(frozen=True)
class ConsentWithdrawn:
    """The patient withdrew consent: the pathway stops."""

    withdrawn_on: DateText
    reason: FreeText | None = None


@dataclass(frozen=True)
class LymphodepletingAgent:
    """One agent of the conditioning regimen (e.g. fludarabine, cyclophosphamide) and its dose."""

    name: str
    dose: str


@dataclass(frozen=True)
class LymphodepletionRecorded:
    """Lymphodepleting chemotherapy given before a CAR-T infusion, from its first to its last day."""

    agents: Annotated[list[LymphodepletingAgent], NON_EMPTY]
    started_on: DateText
    ended_on: DateText
