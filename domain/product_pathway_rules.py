"""Where the product meets its patient's pathway: the gates of collection and infusion, and what follows infusion.

Collection and infusion check the pathway (eligible RCP, the pair's two signatures,
consent not withdrawn), the site's accreditation for the activity that day and, for a
CAR-T infusion, lymphodepletion inside the product's window unless a physician overrode
it in writing. Infusion then generates the follow-up schedule that visits are recorded against.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from domain import product_events as ev
from domain.errors import OutOfOrder
from domain.events import NewEvent
from domain.follow_up import FOLLOW_UP_SCHEDULED, check_grade, check_visit, schedule_for
from domain.pathway_gates import check_lymphodepletion, check_site_accredited, check_treatment_allowed, find_pathway
from domain.product import ProductState as S
from domain.product import TherapyProduct
from domain.product_checks import for_product
from domain.site import Activity
from domain.spec import Command, Decider


def check_collection_gates(product: TherapyProduct, cmd: Command, site: str, started: datetime) -> None:
    """With a pathway: treatment allowed and the collection site accredited for collection that day."""
    pathway = find_pathway(cmd.load, product.patient_pseudonym)
    if pathway is not None:
        check_treatment_allowed(pathway, "ApheresisCollected")
    check_site_accredited(
        cmd.load, site, Activity.COLLECTION, started, required=pathway is not None, field="payload.site"
    )


def check_infusion_gates(product: TherapyProduct, cmd: Command, site: str, started: datetime) -> None:
    """With a pathway: treatment allowed, an accredited infusion site and, for CAR-T, lymphodepletion."""
    pathway = find_pathway(cmd.load, product.patient_pseudonym)
    if pathway is not None:
        check_treatment_allowed(pathway, "Infused")
    check_site_accredited(
        cmd.load, site, Activity.INFUSION, started, required=pathway is not None, field="payload.site"
    )
    if pathway is None or product.product_kind != ev.ProductKind.CAR_T or product.lymphodepletion_override:
        return
    window = cmd.catalogue.get(product.product_code).lymphodepletion_days
    check_lymphodepletion(pathway, window, product.product_code, started)


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
    """A follow-up visit of an infused product is one its schedule lists, recorded once."""
    payload: ev.FollowUpRecorded = cmd.payload
    _check_infused(product, cmd)
    check_visit(product.follow_up_schedule, product.follow_up_done, payload.visit)
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
