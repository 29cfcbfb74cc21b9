"""The pathway's rules: who enrols, how the RCP selects, how the pair decides, consent and conditioning.

Each rule is a small check raising the error that names it. A withdrawn consent
stops the pathway: nothing but the withdrawal itself is recorded after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from domain import pathway_events as pe
from domain.errors import InvalidInput, OutOfOrder, RuleViolation, TimeRuleViolation
from domain.events import NewEvent
from domain.pathway import PatientPathway, pathway_id_for
from domain.pathway_gates import check_registered_physician, check_treatment_allowed
from domain.payloads import parse_date, parse_time
from domain.spec import Command, Decider


def _pathway(cmd: Command) -> PatientPathway:
    assert isinstance(cmd.current, PatientPathway)
    return cmd.current


def check_not_stopped(pathway: PatientPathway, step: str) -> None:
    """Nothing moves the pathway on once the patient withdrew consent."""
    if pathway.consent_withdrawn:
        raise OutOfOrder(
            f"cannot record {step}: patient {pathway.pseudonym} withdrew consent and the pathway is stopped",
            rule="consent_withdrawn",
        )


def check_in_pair(pathway: PatientPathway, cmd: Command) -> None:
    """Only the patient's named disease specialist and cell-therapy specialist sign the treatment decision."""
    user = cmd.ctx.actor.user_id
    if user not in pathway.pair:
        names = " and ".join(f"{name} ({user_id})" for user_id, name in pathway.pair.items())
        raise RuleViolation(
            f"{cmd.ctx.actor.name} ({user}) is not in patient {pathway.pseudonym}'s pair; the treatment decision "
            f"is signed by {names}",
            field="user",
            rule="not_in_pair",
        )


def enrol_patient(cmd: Command) -> list[NewEvent]:
    """A pathway opens under its pseudonym's own id, followed by two registered physicians named as registered."""
    payload: pe.PatientEnrolled = cmd.payload
    expected = pathway_id_for(payload.patient_pseudonym)
    if cmd.aggregate_id != expected:
        raise InvalidInput(
            f"aggregate_id {cmd.aggregate_id} is not the pathway id of {payload.patient_pseudonym} ({expected}); "
            "a pathway's id is derived from the pseudonym",
            field="aggregate_id",
            rule="aggregate_id_mismatch",
        )
    if payload.disease_specialist.user_id == payload.cell_therapy_specialist.user_id:
        raise RuleViolation(
            "the pair needs two different people: the disease specialist and the cell-therapy specialist are both "
            f"{payload.disease_specialist.user_id}",
            field="payload.cell_therapy_specialist.user_id",
            rule="pair_not_distinct",
        )
    for role in ("disease_specialist", "cell_therapy_specialist"):
        specialist: pe.Specialist = getattr(payload, role)
        field = f"payload.{role}.user_id"
        check_registered_physician(cmd.load, specialist.user_id, field, printed_name=specialist.name)
    return [cmd.record()]


def record_rcp_decision(cmd: Command) -> list[NewEvent]:
    """An RCP decides on a clinical and a paraclinical evaluation, none older than the site allows."""
    pathway = _pathway(cmd)
    payload: pe.RcpDecisionRecorded = cmd.payload
    check_not_stopped(pathway, "RcpDecisionRecorded")
    meeting = parse_time(payload.meeting_at, field="payload.meeting_at")
    if meeting > cmd.occurred_at:
        raise TimeRuleViolation(
            f"payload.meeting_at {meeting.isoformat()} is after the step's occurred_at {cmd.occurred_at.isoformat()}",
            field="payload.meeting_at",
            rule="after_occurred_at",
        )
    kinds = {evaluation.kind for evaluation in payload.evaluations}
    for kind in pe.EvaluationKind:
        if kind not in kinds:
            raise InvalidInput(
                f"payload.evaluations has no {kind.value} evaluation; the RCP decides on both a clinical and a "
                "paraclinical evaluation",
                field="payload.evaluations",
                rule="evaluation_missing",
            )
    for index, evaluation in enumerate(payload.evaluations):
        _check_evaluation_age(evaluation, meeting, cmd.policy.evaluation_max_age_days, index)
    if payload.outcome == pe.RcpOutcome.ELIGIBLE and payload.therapy is None:
        raise InvalidInput(
            "payload.therapy is required for an eligible decision (car_t or msc)",
            field="payload.therapy",
            rule="required",
        )
    return [cmd.record()]


def _check_evaluation_age(evaluation: pe.Evaluation, meeting: datetime, max_days: int, index: int) -> None:
    """Selection relies on a recent evaluation (less than three months): an older one must be redone."""
    field = f"payload.evaluations[{index}].performed_on"
    performed = parse_date(evaluation.performed_on, field=field)
    age = (meeting.date() - performed).days
    if age < 0:
        raise TimeRuleViolation(
            f"{field} {performed.isoformat()} is after the meeting ({meeting.date().isoformat()})",
            field=field,
            rule="evaluation_after_meeting",
        )
    if age > max_days:
        raise TimeRuleViolation(
            f"the {evaluation.kind.value} evaluation of {performed.isoformat()} ({evaluation.description}) is {age} "
            f"days older than the meeting; the RCP decides on evaluations at most {max_days} days old: redo it",
            field=field,
            rule="evaluation_too_old",
        )


def propose_treatment(cmd: Command) -> list[NewEvent]:
    """One member of the pair proposes a treatment, once the RCP found the patient eligible."""
    pathway = _pathway(cmd)
    check_not_stopped(pathway, "TreatmentDecisionProposed")
    check_in_pair(pathway, cmd)
    if pathway.rcp_outcome != pe.RcpOutcome.ELIGIBLE:
        raise OutOfOrder(
            f"cannot propose a treatment: the latest RCP decision is {pathway.rcp_outcome or 'missing'}, not eligible",
            rule="rcp_not_eligible",
        )
    proposal = pathway.proposal
    if proposal is not None and proposal.cosigned_by is None:
        raise OutOfOrder(
            f"{proposal.by_name}'s proposal (version {proposal.version}) awaits co-signature; co-sign it first",
            rule="proposal_pending",
        )
    payload: pe.TreatmentDecisionProposed = cmd.payload
    entry = cmd.catalogue.get(payload.product_code, field="payload.product_code")
    if entry.kind != payload.therapy:
        raise InvalidInput(
            f"payload.therapy is {payload.therapy}, but {entry.code} is a {entry.kind} product",
            field="payload.therapy",
            rule="product_kind_mismatch",
        )
    return [cmd.record()]


def cosign_treatment(cmd: Command) -> list[NewEvent]:
    """The other member of the pair, and only them, co-signs the pending proposal they name."""
    pathway = _pathway(cmd)
    payload: pe.TreatmentDecisionCosigned = cmd.payload
    check_not_stopped(pathway, "TreatmentDecisionCosigned")
    check_in_pair(pathway, cmd)
    proposal = pathway.proposal
    if proposal is None or proposal.cosigned_by is not None:
        raise OutOfOrder("no treatment decision awaits co-signature", rule="no_pending_proposal")
    if payload.proposal_version != proposal.version:
        raise InvalidInput(
            f"payload.proposal_version {payload.proposal_version} is not the pending proposal ({proposal.version})",
            field="payload.proposal_version",
            rule="proposal_mismatch",
        )
    if proposal.by_user_id == cmd.ctx.actor.user_id:
        raise RuleViolation(
            f"{proposal.by_name} proposed this decision and cannot also co-sign it; the other member of the pair signs",
            field="user",
            rule="cosigner_must_differ",
        )
    return [cmd.record()]


def sign_consent(cmd: Command) -> list[NewEvent]:
    """Consent is recorded once per pathway, on or before the day it is recorded."""
    pathway = _pathway(cmd)
    payload: pe.ConsentSigned = cmd.payload
    check_not_stopped(pathway, "ConsentSigned")
    if pathway.consent_signed:
        raise OutOfOrder(f"patient {pathway.pseudonym}'s consent is already recorded", rule="consent_already_signed")
    _check_not_after(payload.signed_on, cmd, "payload.signed_on")
    return [cmd.record()]


def withdraw_consent(cmd: Command) -> list[NewEvent]:
    """A patient may withdraw a consent they gave, once; the pathway stops."""
    pathway = _pathway(cmd)
    payload: pe.ConsentWithdrawn = cmd.payload
    check_not_stopped(pathway, "ConsentWithdrawn")
    if not pathway.consent_signed:
        raise OutOfOrder(f"patient {pathway.pseudonym} has no recorded consent to withdraw", rule="no_consent")
    _check_not_after(payload.withdrawn_on, cmd, "payload.withdrawn_on")
    return [cmd.record()]


def record_lymphodepletion(cmd: Command) -> list[NewEvent]:
    """Conditioning is treatment: it needs the same decision and consent as collection, and a real course."""
    pathway = _pathway(cmd)
    payload: pe.LymphodepletionRecorded = cmd.payload
    check_treatment_allowed(pathway, "LymphodepletionRecorded")
    started = parse_date(payload.started_on, field="payload.started_on")
    ended = parse_date(payload.ended_on, field="payload.ended_on")
    if ended < started:
        raise TimeRuleViolation(
            f"payload.ended_on {ended.isoformat()} is before payload.started_on {started.isoformat()}",
            field="payload.ended_on",
            rule="ends_before_start",
        )
    _check_not_after(payload.ended_on, cmd, "payload.ended_on")
    return [cmd.record()]


def _check_not_after(day: str, cmd: Command, field: str) -> None:
    """A date written in a payload cannot be later than the day the step is recorded as happening."""
    if parse_date(day, field=field) > cmd.occurred_at.date():
        raise TimeRuleViolation(
            f"{field} {day} is after the step's occurred_at {cmd.occurred_at.isoformat()}",
            field=field,
            rule="after_occurred_at",
        )


DECIDERS: Mapping[str, Decider] = {
    "PatientEnrolled": enrol_patient,
    "RcpDecisionRecorded": record_rcp_decision,
    "TreatmentDecisionProposed": propose_treatment,
    "TreatmentDecisionCosigned": cosign_treatment,
    "ConsentSigned": sign_consent,
    "ConsentWithdrawn": withdraw_consent,
    "LymphodepletionRecorded": record_lymphodepletion,
}
