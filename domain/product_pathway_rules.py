"""Where the product meets its patient's pathway: the gates of enrolment, collection and infusion, and follow-up.

Enrolment needs the pathway (or a site's pathway-managed-elsewhere setting), a current
eligible RCP decision and the pair's co-signed decision naming this product; collection
and infusion check the pathway again (eligible RCP, the pair's two signatures, consent
not withdrawn), the site's accreditation for the activity that day and, for a
CAR-T infusion, lymphodepletion inside the product's window unless a physician overrode
it in writing. Infusion then generates the follow-up schedule that visits are recorded against.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from domain import product_events as ev
from domain.errors import CustodyError, OutOfOrder, RuleViolation
from domain.events import NewEvent
from domain.follow_up import (
    FOLLOW_UP_SCHEDULED,
    check_cause_of_death,
    check_grade,
    check_visit,
    check_window_open,
    schedule_for,
)
from domain.pathway import PatientPathway
from domain.pathway_exemption import PATHWAY_MANAGED_ELSEWHERE_APPLIED, PathwayManagedElsewhereApplied
from domain.pathway_gates import (
    check_lymphodepletion,
    check_rcp_current,
    check_registered_physician,
    check_treatment_allowed,
    require_pathway,
    treatment_refusals,
)
from domain.product import ProductState as S
from domain.product import TherapyProduct
from domain.product_checks import for_product
from domain.refusals import refusals
from domain.site import Activity
from domain.site_gates import check_site_accredited, registered_site
from domain.spec import Command, Decider
from domain.trial_site_rules import check_trial_site_active


def check_enrolment_gates(cmd: Command, payload: ev.ProductEnrolled) -> list[NewEvent]:
    """A registered physician treats; the patient's pathway allows treatment and its decision names this product.

    Without a pathway, only a collection site whose signed setting says the pathway is kept
    elsewhere lets the product in, and the product then records that setting.
    """
    check_registered_physician(cmd.load, payload.treating_physician, "payload.treating_physician")
    site = registered_site(cmd.load, payload.collection_site, "payload.collection_site")
    at, protocol = cmd.occurred_at, payload.trial_protocol
    check_trial_site_active(cmd.load, protocol, site.code, at, field="payload.collection_site")
    pathway = require_pathway(
        cmd.load, payload.patient_pseudonym, "ProductEnrolled", exempt_by=site.pathway_managed_elsewhere
    )
    if pathway is None:
        assert site.pathway_managed_elsewhere is not None
        applied = PathwayManagedElsewhereApplied(site.code, site.pathway_managed_elsewhere)
        return [cmd.derive(PATHWAY_MANAGED_ELSEWHERE_APPLIED, cmd.aggregate_id, applied)]
    check_treatment_allowed(pathway, "ProductEnrolled")
    check_rcp_current(pathway, cmd.occurred_at, cmd.policy.rcp_decision_valid_days, "ProductEnrolled", "occurred_at")
    check_matches_decision(pathway, payload)
    return []


def check_matches_decision(pathway: PatientPathway, payload: ev.ProductEnrolled) -> None:
    """The product enrolled is the one the pair decided on, for the disease the patient was selected for."""
    proposal = pathway.proposal
    assert proposal is not None  # check_treatment_allowed made sure it is co-signed
    decided = (
        ("payload.product_kind", payload.product_kind.value, proposal.therapy),
        ("payload.product_code", payload.product_code, proposal.product_code),
        ("payload.indication", payload.indication.value, pathway.diagnosis),
    )
    for field, enrolled, expected in decided:
        if enrolled != expected:
            raise RuleViolation(
                f"{field} {enrolled!r} is not what patient {pathway.pseudonym}'s co-signed treatment decision "
                f"names ({expected!r}); enrol the decided product, or have the pair decide again",
                field=field,
                rule="enrolment_does_not_match_decision",
            )


def _pathway_of(product: TherapyProduct, cmd: Command, step: str) -> PatientPathway | None:
    """The product's pathway, required unless its enrolment recorded a site's pathway-managed-elsewhere setting."""
    exempt_by = product.pathway_managed_elsewhere
    return require_pathway(cmd.load, product.patient_pseudonym, step, exempt_by=exempt_by)


def check_collection_gates(product: TherapyProduct, cmd: Command, site: str, started: datetime) -> None:
    """Treatment allowed on a decision still current, and the collection site accredited for collection that day."""
    pathway = _pathway_of(product, cmd, "ApheresisCollected")
    if pathway is not None:
        check_treatment_allowed(pathway, "ApheresisCollected")
        days = cmd.policy.rcp_decision_valid_days
        check_rcp_current(pathway, started, days, "ApheresisCollected", "payload.started_at")
    check_site_accredited(cmd.load, site, Activity.COLLECTION, started, field="payload.site")
    check_trial_site_active(cmd.load, product.trial.get("trial_protocol"), site, started, field="payload.site")


def check_infusion_gates(product: TherapyProduct, cmd: Command, site: str, started: datetime) -> None:
    """Treatment allowed, an accredited infusion site and, for CAR-T, lymphodepletion."""
    found = infusion_gate_refusals(product, cmd, site, started)
    if found:
        raise found[0]


def infusion_gate_refusals(
    product: TherapyProduct, cmd: Command, site: str | None, started: datetime
) -> list[CustodyError]:
    """Every infusion gate that refuses, in the order infusion names the first; no site: its gates are not judged.

    A thaw shows them all beforehand (domain/infusion_readiness.py), before the unit knows where it infuses.
    """
    try:
        pathway = _pathway_of(product, cmd, "Infused")
    except CustodyError as refusal:
        pathway, found = None, [refusal]
    else:
        found = []
    if pathway is not None:
        found.extend(treatment_refusals(pathway, "Infused"))
    if site is not None:
        protocol = product.trial.get("trial_protocol")
        found.extend(
            refusals(
                lambda: check_site_accredited(cmd.load, site, Activity.INFUSION, started, field="payload.site"),
                lambda: check_trial_site_active(cmd.load, protocol, site, started, field="payload.site"),
            )
        )
    if pathway is None or product.product_kind != ev.ProductKind.CAR_T or product.lymphodepletion_override:
        return found
    window = cmd.catalogue.get(product.product_code).lymphodepletion_days
    found.extend(refusals(lambda: check_lymphodepletion(pathway, window, product.product_code, started)))
    return found


def follow_up_schedule(product: TherapyProduct, cmd: Command, started: datetime) -> NewEvent:
    """The schedule of visits an infusion calls for, counted from the infusion day."""
    schedule = schedule_for(product.product_kind, started.date(), cmd.policy)
    return cmd.derive(FOLLOW_UP_SCHEDULED, product.id, schedule)


def override_lymphodepletion(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """Only a CAR-T product not yet infused can be given without (or outside) lymphodepletion."""
    if product.product_kind != ev.ProductKind.CAR_T:
        raise OutOfOrder("lymphodepletion applies to CAR-T products, not to an MSC dose", rule="car_t_only")
    return [cmd.record()]


def record_follow_up(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """A follow-up visit of an infused product is one its schedule lists, recorded once, not before it falls due."""
    payload: ev.FollowUpRecorded = cmd.payload
    _check_infused(product, cmd)
    check_visit(product.follow_up_schedule, product.follow_up_done, payload.visit)
    check_window_open(product.follow_up_due, product.follow_up_schedule, payload.visit, cmd.occurred_at.date())
    check_cause_of_death(payload.survival, payload.cause_of_death)
    return [cmd.record()]


def record_adverse_event(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """An adverse event of an infused product, CRS and ICANS on the ASTCT scales."""
    payload: ev.AdverseEventRecorded = cmd.payload
    _check_infused(product, cmd)
    check_grade(payload.category, payload.grade)
    return [cmd.record()]


def _check_infused(product: TherapyProduct, cmd: Command) -> None:
    """Follow-up and adverse events concern a patient who received the product."""
    if product.state != S.INFUSED:
        raise OutOfOrder(
            f"cannot record {cmd.spec.name}: the product is {product.state}, not infused",
            rule="not_infused_yet",
        )


DECIDERS: Mapping[str, Decider] = {
    "LymphodepletionOverrideRecorded": for_product(override_lymphodepletion),
    "FollowUpRecorded": for_product(record_follow_up),
    "AdverseEventRecorded": for_product(record_adverse_event),
}
