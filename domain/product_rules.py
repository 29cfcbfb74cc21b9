"""The product's rules from enrolment to release: collection, manufacturing, QC and the two releases."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from uuid import UUID

from domain import product_events as ev
from domain.batch import DOSE_ALLOCATED, BankBatch, DoseAllocated, check_dose_available
from domain.deviation_gate import check_no_blocking_deviation
from domain.donation import DinUse, assign_din
from domain.duty_segregation import check_second_person
from domain.errors import InvalidInput, NotFound, OutOfOrder, RuleViolation, TimeRuleViolation
from domain.events import NewEvent, Role
from domain.identifiers import parse_coi, product_id_for
from domain.payloads import parse_time
from domain.plausibility import APHERESIS_CD3, APHERESIS_TNC, APHERESIS_VOLUME, check_plausible, check_subset_count
from domain.product import ProductState as S
from domain.product import TherapyProduct
from domain.product_checks import check_interval, check_not_on_hold, check_state, for_product
from domain.product_exception_events import DutyRule
from domain.product_exception_rules import check_accepted_tests, check_notified_parties
from domain.product_pathway_rules import check_collection_gates, check_enrolment_gates
from domain.product_transport import check_at_product_site
from domain.release_panel import check_whole_panel, judge_results
from domain.spec import Command, Decider


def enrol(cmd: Command) -> list[NewEvent]:
    """A product is opened under its COI's own id, for a catalogued product of the declared kind, on its pathway."""
    payload: ev.ProductEnrolled = cmd.payload
    expected_id = product_id_for(parse_coi(payload.coi))
    if cmd.aggregate_id != expected_id:
        raise InvalidInput(
            f"aggregate_id {cmd.aggregate_id} is not the product id of COI {payload.coi} ({expected_id}); "
            "a product's id is derived from its COI",
            field="aggregate_id",
            rule="aggregate_id_mismatch",
        )
    entry = cmd.catalogue.get(payload.product_code, field="payload.product_code")
    if entry.kind != payload.product_kind:
        raise InvalidInput(
            f"payload.product_kind is {payload.product_kind}, but {entry.code} is a {entry.kind} product",
            field="payload.product_kind",
            rule="product_kind_mismatch",
        )
    if payload.product_kind == ev.ProductKind.CAR_T:
        for name in ("batch_id", "dose_number", "sec"):
            if getattr(payload, name) is not None:
                raise InvalidInput(
                    f"payload.{name} is for MSC bank doses; an autologous CAR-T product has no bank batch",
                    field=f"payload.{name}",
                    rule="not_for_car_t",
                )
    covered = check_enrolment_gates(cmd, payload)
    if payload.product_kind == ev.ProductKind.CAR_T:
        return [cmd.record(), *covered]
    return [cmd.record(), _allocate_dose(cmd, payload), *covered]


def _allocate_dose(cmd: Command, payload: ev.ProductEnrolled) -> NewEvent:
    """An MSC product takes one dose of a released bank batch."""
    for name in ("batch_id", "dose_number"):
        if getattr(payload, name) is None:
            raise InvalidInput(f"payload.{name} is required for an MSC dose", field=f"payload.{name}", rule="required")
    assert payload.batch_id is not None and payload.dose_number is not None
    batch = cmd.load(UUID(payload.batch_id))
    if not isinstance(batch, BankBatch) or not batch.registered:
        raise NotFound(f"payload.batch_id: no bank batch with id {payload.batch_id}", field="payload.batch_id")
    check_dose_available(batch, payload.product_code, payload.dose_number)
    return cmd.derive(DOSE_ALLOCATED, batch.id, DoseAllocated(str(cmd.aggregate_id), payload.dose_number))


def collect_apheresis(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """Only autologous products are collected, on the pathway's gates; a new collection may follow a failed lot."""
    payload: ev.ApheresisCollected = cmd.payload
    if product.product_kind != ev.ProductKind.CAR_T:
        raise OutOfOrder("cannot record ApheresisCollected: an MSC dose comes from a bank batch", rule="car_t_only")
    check_state(product, (S.ENROLLED, S.COLLECTED, S.MANUFACTURING_FAILED), "ApheresisCollected")
    if any(collection.din == payload.din for collection in product.collections):
        raise OutOfOrder(f"DIN {payload.din} is already recorded for this product", rule="din_already_recorded")
    entry = cmd.catalogue.get(product.product_code)
    check_plausible(payload.volume_ml, "payload.volume_ml", APHERESIS_VOLUME, entry)
    check_plausible(payload.tnc_count, "payload.tnc_count", APHERESIS_TNC, entry)
    check_plausible(payload.cd3_count, "payload.cd3_count", APHERESIS_CD3, entry)
    check_subset_count(payload.cd3_count, "payload.cd3_count", payload.tnc_count, "payload.tnc_count")
    started = parse_time(payload.started_at)
    check_interval(started, parse_time(payload.ended_at), cmd.occurred_at, "payload.started_at", "payload.ended_at")
    check_collection_gates(product, cmd, payload.site, started)
    return [cmd.record(), assign_din(cmd, payload.din, DinUse.APHERESIS, product.id, "payload.din")]


def start_manufacturing(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """Manufacture starts from a received apheresis no older than the catalogue allows."""
    check_state(product, (S.RECEIVED_AT_MANUFACTURER,), "ManufacturingStarted")
    check_at_product_site(product, cmd.payload.site, "ManufacturingStarted", "payload.site")
    collection = product.latest_collection
    max_age = cmd.catalogue.get(product.product_code).collection_max_age_days
    if collection is not None and cmd.occurred_at - collection.ended_at > timedelta(days=max_age):
        age = (cmd.occurred_at - collection.ended_at).days
        raise TimeRuleViolation(
            f"apheresis {collection.din} ended {collection.ended_at.isoformat()}, {age} days before "
            "manufacture; "
            f"{product.product_code} allows at most {max_age} days",
            field="occurred_at",
            rule="apheresis_too_old",
        )
    return [cmd.record()]


def complete_manufacturing(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """The lot completed is the lot started, in no more bags than the product allows."""
    payload: ev.ManufacturingCompleted = cmd.payload
    check_state(product, (S.MANUFACTURING,), "ManufacturingCompleted")
    if payload.lot != product.lot:
        raise InvalidInput(
            f"payload.lot {payload.lot} is not the lot in manufacture ({product.lot})",
            field="payload.lot",
            rule="lot_mismatch",
        )
    bags_max = cmd.catalogue.get(product.product_code).bags_max
    if len(payload.bag_ids) > bags_max:
        raise InvalidInput(
            f"payload.bag_ids has {len(payload.bag_ids)} bags; {product.product_code} allows at most {bags_max}",
            field="payload.bag_ids",
            rule="too_many_bags",
        )
    if len(set(payload.bag_ids)) != len(payload.bag_ids):
        raise InvalidInput("payload.bag_ids lists a bag twice", field="payload.bag_ids", rule="duplicate_bag")
    return [cmd.record()]


def fail_manufacturing(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """A lot may fail while made or at QC; it is a normal path, not an error."""
    check_state(product, (S.MANUFACTURING, S.MANUFACTURED, S.QC_OUT_OF_SPEC), "ManufacturingFailed")
    return [cmd.record()]


def record_qc(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """QC results follow manufacture, may be retested before release, and are judged against the panel."""
    check_state(product, (S.MANUFACTURED, S.QC_IN_SPEC, S.QC_OUT_OF_SPEC), "QcResultsRecorded")
    judge_results(cmd.catalogue.get(product.product_code).release_panel, cmd.payload.tests)
    return [cmd.record()]


def release(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """The QP releases only a lot whose QC is within specification, and not on hold."""
    check_state(product, (S.QC_IN_SPEC,), "ProductReleased", rule="release_requires_in_spec_qc")
    panel = cmd.catalogue.get(product.product_code).release_panel
    check_whole_panel(panel, product.qc_results, product.product_code, "QcResultsRecorded")
    check_not_on_hold(product, "ProductReleased")
    check_no_blocking_deviation(product, "ProductReleased")
    waiver = check_second_person(
        cmd, product, product.qc_recorders, DutyRule.RELEASE_BY_QC_RECORDER, "recorded this lot's QC results"
    )
    return [cmd.record(), *waiver]


def request_exceptional_release(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """Only the treating physician asks, in writing, for an out-of-specification or held product."""
    if cmd.ctx.actor.role != Role.PHYSICIAN:
        raise RuleViolation(
            f"an exceptional release is requested in writing by the treating physician, not a {cmd.ctx.actor.role}",
            rule="requested_by_treating_physician",
        )
    if cmd.ctx.actor.user_id != product.treating_physician:
        raise RuleViolation(
            f"{cmd.ctx.actor.name} ({cmd.ctx.actor.user_id}) is not this product's treating physician "
            f"({product.treating_physician}); only they request an exceptional release",
            field="user",
            rule="requested_by_treating_physician",
        )
    if product.state != S.QC_OUT_OF_SPEC and not product.quarantined:
        raise OutOfOrder(
            f"cannot request an exceptional release: the product is {product.state}, neither out of "
            "specification nor quarantined",
            rule="exceptional_release_not_applicable",
        )
    if product.exceptional_release_requested:
        raise OutOfOrder("an exceptional release request is already pending", rule="request_already_pending")
    return [cmd.record()]


def approve_exceptional_release(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """An exceptional release answers a pending written request (EU GMP for ATMPs §11.5)."""
    if not product.exceptional_release_requested:
        raise OutOfOrder(
            "cannot approve an exceptional release: no ExceptionalReleaseRequested is pending",
            rule="no_pending_request",
        )
    payload: ev.ExceptionalReleaseApproved = cmd.payload
    check_accepted_tests(product, payload.accepted_failed_tests or [])
    check_notified_parties(product, payload.notified)
    return [cmd.record()]


DECIDERS: Mapping[str, Decider] = {
    "ProductEnrolled": enrol,
    "ApheresisCollected": for_product(collect_apheresis),
    "ManufacturingStarted": for_product(start_manufacturing),
    "ManufacturingCompleted": for_product(complete_manufacturing),
    "ManufacturingFailed": for_product(fail_manufacturing),
    "QcResultsRecorded": for_product(record_qc),
    "ProductReleased": for_product(release),
    "ExceptionalReleaseRequested": for_product(request_exceptional_release),
    "ExceptionalReleaseApproved": for_product(approve_exceptional_release),
}
