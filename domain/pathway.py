"""PatientPathway: one patient's path to and through cell therapy, rebuilt from its recorded facts.

Kept apart from the product because it starts before any product exists (selection,
the pair's decision, consent) and outlives it (lymphodepletion is given to the patient,
not to a bag). Its id is derived from the pseudonym, so a product finds its patient's
pathway from the pseudonym it carries. Rules live in pathway_rules and pathway_gates;
this module only folds facts and names the event types.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID, uuid5

from domain import pathway_events as pe
from domain.aggregate import Aggregate
from domain.events import EventRecord
from domain.events import Meaning as M
from domain.events import Role as R
from domain.pathway_exemption import PATHWAY_MANAGED_ELSEWHERE_APPLIED
from domain.payloads import parse_date, parse_time
from domain.spec import EventSpec
from domain.treatment_order import Order

KIND = "pathway"
PATHWAY_NAMESPACE = UUID("0f5e7a52-3d0c-4f43-8c55-6b1f0f6b2a71")


def pathway_id_for(pseudonym: str) -> UUID:
    """A pathway's id, derived from the patient's pseudonym so products and people can find it."""
    return uuid5(PATHWAY_NAMESPACE, pseudonym.strip())


@dataclass(frozen=True)
class Proposal:
    """A treatment decision proposed by one member of the pair, awaiting or holding the other's signature."""

    version: int
    by_user_id: str
    by_name: str
    therapy: str
    product_code: str
    cosigned_by: str | None = None


@dataclass(frozen=True)
class Lymphodepletion:
    """A conditioning regimen's first and last day."""

    started_on: date
    ended_on: date


class PatientPathway(Aggregate):
    """Selection, the pair's decision, consent and conditioning of one patient."""

    kind = KIND

    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(aggregate_id)
        self.pseudonym = ""
        self.diagnosis = ""
        self.pair: dict[str, str] = {}
        self.rcp_outcome: str | None = None
        self.rcp_meeting_at: datetime | None = None
        self.proposal: Proposal | None = None
        self.consent_signed = False
        self.consent_withdrawn = False
        self.lymphodepletions: list[Lymphodepletion] = []
        self.order: Order | None = None

    @property
    def decision_cosigned(self) -> bool:
        """True when the latest treatment decision carries both signatures of the pair."""
        return self.proposal is not None and self.proposal.cosigned_by is not None

    def when_PatientEnrolled(self, record: EventRecord) -> None:
        """The pseudonym, the diagnosis and the pair become known."""
        p = record.payload
        self.pseudonym, self.diagnosis = p["patient_pseudonym"], p["diagnosis"]
        self.pair = {
            p["disease_specialist"]["user_id"]: p["disease_specialist"]["name"],
            p["cell_therapy_specialist"]["user_id"]: p["cell_therapy_specialist"]["name"],
        }

    def when_RcpDecisionRecorded(self, record: EventRecord) -> None:
        """The latest meeting's outcome is the one that counts, for as long as the site lets a decision count."""
        self.rcp_outcome = record.payload["outcome"]
        self.rcp_meeting_at = parse_time(record.payload["meeting_at"])

    def when_TreatmentDecisionProposed(self, record: EventRecord) -> None:
        """A new proposal replaces any earlier decision until co-signed."""
        p = record.payload
        actor = record.actor
        self.proposal = Proposal(record.version, actor.user_id, actor.name, p["therapy"], p["product_code"])

    def when_TreatmentDecisionCosigned(self, record: EventRecord) -> None:
        """The decision now carries both signatures."""
        if self.proposal is not None:
            proposal = self.proposal
            self.proposal = Proposal(
                proposal.version,
                proposal.by_user_id,
                proposal.by_name,
                proposal.therapy,
                proposal.product_code,
                record.actor.user_id,
            )

    def when_ConsentSigned(self, record: EventRecord) -> None:
        """Treatment may go ahead, as far as consent goes."""
        self.consent_signed = True

    def when_ConsentWithdrawn(self, record: EventRecord) -> None:
        """The pathway stops: no collection, conditioning or infusion after this."""
        self.consent_withdrawn = True

    def when_TreatmentOrdered(self, record: EventRecord) -> None:
        """The order is open, holding its slot (domain/treatment_order.py)."""
        p = record.payload
        self.order = Order(p["manufacturer"], p["apheresis_on"], p["slot_on"], p.get("infusion_on"), record.version)

    def when_TreatmentOrderRescheduled(self, record: EventRecord) -> None:
        """The open order takes its new days."""
        if self.order is not None:
            p = record.payload
            self.order = Order(self.order.manufacturer, p["apheresis_on"], p["slot_on"], p.get("infusion_on"),
                               record.version)  # fmt: skip

    def when_TreatmentOrderCancelled(self, record: EventRecord) -> None:
        """No order is open any more."""
        self.order = None

    def when_LymphodepletionRecorded(self, record: EventRecord) -> None:
        """Conditioning given; a CAR-T infusion must fall inside its product's window after the last day."""
        p = record.payload
        self.lymphodepletions.append(Lymphodepletion(parse_date(p["started_on"]), parse_date(p["ended_on"])))


_PAIR = frozenset({R.PHYSICIAN})
_CARE = frozenset({R.PHYSICIAN, R.NURSE})


def _spec(name: str, payload: type, meanings: tuple[M, ...], roles: frozenset[R], description: str) -> EventSpec:
    return EventSpec(name, KIND, payload, meanings, roles, description, creates=name == "PatientEnrolled")


PATHWAY_SPECS: tuple[EventSpec, ...] = (
    _spec(
        "PatientEnrolled",
        pe.PatientEnrolled,
        (M.RECORDED, M.APPROVED),
        _PAIR,
        "Opens a patient's care pathway under a pseudonym: diagnosis, reference treatments that failed, and the "
        "pair (disease specialist, cell-therapy specialist) who follow the patient.",
    ),
    _spec(
        "RcpDecisionRecorded",
        pe.RcpDecisionRecorded,
        (M.RECORDED, M.APPROVED),
        _PAIR,
        "The multidisciplinary meeting's decision (eligible, not eligible, deferred) with its participants and "
        "the evaluations it relied on; refused when an evaluation is older than the site allows (92 days).",
    ),
    _spec(
        "TreatmentDecisionProposed",
        pe.TreatmentDecisionProposed,
        (M.AUTHORED, M.APPROVED),
        _PAIR,
        "One member of the pair proposes the treatment after an eligible RCP decision.",
    ),
    _spec(
        "TreatmentDecisionCosigned",
        pe.TreatmentDecisionCosigned,
        (M.APPROVED,),
        _PAIR,
        "The other member of the pair co-signs the proposal: the treatment decision counts only then.",
    ),
    _spec(
        "ConsentSigned",
        pe.ConsentSigned,
        (M.RECORDED, M.WITNESSED),
        _CARE,
        "The patient signed the informed consent form.",
    ),
    _spec(
        "ConsentWithdrawn",
        pe.ConsentWithdrawn,
        (M.RECORDED, M.WITNESSED),
        _CARE,
        "The patient withdrew consent: the pathway stops (no collection, conditioning or infusion).",
    ),
    _spec(
        "LymphodepletionRecorded",
        pe.LymphodepletionRecorded,
        (M.PERFORMED, M.RECORDED),
        _CARE,
        "Lymphodepleting chemotherapy given before a CAR-T infusion (agents, first and last day).",
    ),
    PATHWAY_MANAGED_ELSEWHERE_APPLIED,
)
