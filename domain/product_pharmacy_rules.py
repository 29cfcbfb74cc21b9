"""The product's rules from the pharmacy to the patient: storage, dispense, thaw, bedside checks, infusion."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from domain import product_events as ev
from domain.errors import InvalidInput, OutOfOrder, RuleViolation, TimeRuleViolation
from domain.events import NewEvent
from domain.payloads import parse_time
from domain.product import ProductState as S
from domain.product import TherapyProduct
from domain.product_checks import check_identity, check_interval, check_not_on_hold, check_state, for_product
from domain.product_pathway_rules import check_infusion_gates, follow_up_schedule
from domain.spec import Command, Decider


def store(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """A received product goes into LN2 (or moves within it) only at or below its storage limit."""
    payload: ev.StoredInLN2 = cmd.payload
    check_state(product, (S.RECEIVED_AT_PHARMACY, S.STORED), "StoredInLN2")
    limit = cmd.catalogue.get(product.product_code).storage_max_c
    if limit is not None and payload.temperature_c > limit:
        raise RuleViolation(
            f"payload.temperature_c {payload.temperature_c:g} °C is above {product.product_code}'s storage "
            f"limit of {limit:g} °C; do not store it as is: record a TemperatureExcursionRecorded instead",
            field="payload.temperature_c",
            rule="storage_temperature_above_limit",
        )
    return [cmd.record()]


def dispense(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """The pharmacist dispenses a released product after verifying the release and the label."""
    payload: ev.Dispensed = cmd.payload
    check_state(product, (S.STORED, S.RECEIVED_AT_PHARMACY), "Dispensed")
    if not payload.release_verified:
        raise RuleViolation(
            "payload.release_verified must be true: verify the certificate of release before dispensing",
            field="payload.release_verified",
            rule="release_verification_required",
        )
    if not product.released:
        raise OutOfOrder("cannot record Dispensed: the product has not been released", rule="not_released")
    check_not_on_hold(product, "Dispensed")
    check_identity(cmd, product, "Dispensed", "payload.scanned_coi", payload.scanned_coi)
    check_identity(cmd, product, "Dispensed", "payload.scanned_patient", payload.scanned_patient)
    return [cmd.record()]


def thaw(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """A dispensed bag of this product is thawed; its completion starts the infusion window."""
    payload: ev.Thawed = cmd.payload
    check_state(product, (S.DISPENSED,), "Thawed")
    check_not_on_hold(product, "Thawed")
    if payload.bag_id is not None and product.bags and payload.bag_id not in product.bags:
        raise InvalidInput(
            f"payload.bag_id {payload.bag_id} is not a bag of lot {product.lot} ({', '.join(product.bags)})",
            field="payload.bag_id",
            rule="unknown_bag",
        )
    check_interval(
        parse_time(payload.started_at),
        parse_time(payload.completed_at),
        cmd.occurred_at,
        "payload.started_at",
        "payload.completed_at",
    )
    return [cmd.record()]


def perform_bedside_check(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """The first of two independent checks of wristband against label, on a thawed product."""
    payload: ev.BedsideCheck = cmd.payload
    check_state(product, (S.THAWED,), "BedsideCheckPerformed")
    check_not_on_hold(product, "BedsideCheckPerformed")
    if product.bedside_performed is not None:
        raise OutOfOrder(
            f"the first bedside check was already performed by {product.bedside_performed.name}; "
            "a second person records BedsideCheckWitnessed",
            rule="bedside_check_already_performed",
        )
    check_identity(cmd, product, "BedsideCheckPerformed", "payload.scanned_coi", payload.scanned_coi)
    check_identity(cmd, product, "BedsideCheckPerformed", "payload.scanned_patient", payload.scanned_patient)
    return [cmd.record()]


def witness_bedside_check(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """The second check is made by someone else than the first, after it."""
    payload: ev.BedsideCheck = cmd.payload
    check_state(product, (S.THAWED,), "BedsideCheckWitnessed")
    check_not_on_hold(product, "BedsideCheckWitnessed")
    first = product.bedside_performed
    if first is None:
        raise OutOfOrder(
            "cannot witness the bedside check: no BedsideCheckPerformed has been recorded",
            rule="bedside_check_not_performed",
        )
    if first.user_id == cmd.ctx.actor.user_id:
        raise RuleViolation(
            f"the bedside check needs two distinct people: {first.name} performed the first check and "
            "cannot also witness it",
            rule="two_distinct_users",
        )
    check_identity(cmd, product, "BedsideCheckWitnessed", "payload.scanned_coi", payload.scanned_coi)
    check_identity(cmd, product, "BedsideCheckWitnessed", "payload.scanned_patient", payload.scanned_patient)
    return [cmd.record()]


def infuse(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """Infusion follows both bedside checks, starts within the thaw-to-infusion window, and schedules follow-up."""
    payload: ev.Infused = cmd.payload
    check_state(product, (S.BEDSIDE_VERIFIED,), "Infused", rule="bedside_verification_required")
    check_not_on_hold(product, "Infused")
    started, ended = parse_time(payload.started_at), parse_time(payload.ended_at)
    check_interval(started, ended, cmd.occurred_at, "payload.started_at", "payload.ended_at")
    unknown = [bag for bag in payload.bag_ids if product.bags and bag not in product.bags]
    if unknown:
        raise InvalidInput(
            f"payload.bag_ids {', '.join(unknown)} not in lot {product.lot} ({', '.join(product.bags)})",
            field="payload.bag_ids",
            rule="unknown_bag",
        )
    _check_thaw_window(product, cmd, started)
    site = payload.site or (product.location.site if product.location else "")
    check_infusion_gates(product, cmd, site, started)
    return [cmd.record(), follow_up_schedule(product, cmd, started)]


def _check_thaw_window(product: TherapyProduct, cmd: Command, started: datetime) -> None:
    """Cells left too long after thawing lose viability: the label's window is a hard limit."""
    thawed = product.thaw_completed_at
    if thawed is None:
        return
    if started < thawed:
        raise TimeRuleViolation(
            f"payload.started_at {started.isoformat()} is before thawing completed ({thawed.isoformat()})",
            field="payload.started_at",
            rule="infusion_before_thaw",
        )
    window = cmd.catalogue.get(product.product_code).thaw_to_infusion_min
    if window is None:
        return
    deadline = thawed + timedelta(minutes=window)
    if started > deadline:
        over = (started - deadline).total_seconds() / 60
        raise TimeRuleViolation(
            f"infusion started {started.isoformat()}, {over:.0f} min after the deadline "
            f"{deadline.isoformat()} "
            f"({window} min after thaw completion for {product.product_code}); record NotInfused",
            field="payload.started_at",
            rule="thaw_to_infusion_window_exceeded",
        )


def record_not_infused(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """A product at the pharmacy or on the unit may end up not given."""
    allowed = (S.RECEIVED_AT_PHARMACY, S.STORED, S.DISPENSED, S.THAWED, S.BEDSIDE_VERIFIED)
    check_state(product, allowed, "NotInfused")
    return [cmd.record()]


DECIDERS: Mapping[str, Decider] = {
    "StoredInLN2": for_product(store),
    "Dispensed": for_product(dispense),
    "Thawed": for_product(thaw),
    "BedsideCheckPerformed": for_product(perform_bedside_check),
    "BedsideCheckWitnessed": for_product(witness_bedside_check),
    "Infused": for_product(infuse),
    "NotInfused": for_product(record_not_infused),
}
