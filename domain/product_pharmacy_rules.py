"""The product's rules from the pharmacy to the patient: storage, dispense, thaw, bedside checks, infusion."""

from __future__ import annotations

from collections.abc import Mapping

from domain import product_events as ev
from domain.bedside_identity import WristbandScan
from domain.bedside_rules import (
    check_bag_label,
    check_checks_cover_infusion,
    check_first_check_fresh,
    check_round_open,
    check_wristband,
    wristband_scan,
)
from domain.deviation_gate import check_no_blocking_deviation
from domain.errors import OutOfOrder, RuleViolation
from domain.events import NewEvent
from domain.infusion_readiness import check_blockers_acknowledged
from domain.ln2_position import free, occupy
from domain.payloads import parse_time
from domain.plausibility import INFUSED_VIABLE_CELLS, INFUSED_VOLUME, check_plausible
from domain.product import Location, TherapyProduct
from domain.product import ProductState as S
from domain.product_bags import check_infused_bags, check_thawed_bag
from domain.product_checks import check_identity, check_interval, check_not_on_hold, check_state, for_product
from domain.product_pathway_rules import check_infusion_gates, follow_up_schedule
from domain.product_transport import check_at_product_site
from domain.spec import Command, Decider
from domain.temperature_verdict import check_declared_verdict, storage_range
from domain.thaw_window import check_thaw_window


def store(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """A received product goes into a free LN2 position (or moves within the pharmacy) at or below its limit.

    Moving frees the old position in the same transaction; the position and site checks
    live in ``ln2_position`` and ``product_transport``.
    """
    payload: ev.StoredInLN2 = cmd.payload
    check_state(product, (S.RECEIVED_AT_PHARMACY, S.STORED), "StoredInLN2")
    check_at_product_site(product, payload.site, "StoredInLN2", "payload.site")
    acceptable = storage_range(cmd.catalogue.get(product.product_code))
    within = acceptable.admits(payload.temperature_c)
    check_declared_verdict(
        payload.temperature_ok,
        within,
        f"tank {payload.tank} read {payload.temperature_c:g} °C",
        f"{acceptable.describe()} for {product.product_code} in storage",
        "payload.temperature_ok",
    )
    if not within:
        raise RuleViolation(
            f"payload.temperature_c {payload.temperature_c:g} °C is above {product.product_code}'s storage "
            f"limit of {acceptable.high_c:g} °C; do not store it as is: record a TemperatureExcursionRecorded instead",
            field="payload.temperature_c",
            rule="storage_temperature_above_limit",
        )
    place = Location(payload.site, payload.tank, payload.rack, payload.box, payload.position)
    return [cmd.record(), *occupy(cmd, product, place)]


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
    check_no_blocking_deviation(product, "Dispensed")
    check_identity(cmd, product, "Dispensed", "payload.scanned_coi", payload.scanned_coi)
    check_identity(cmd, product, "Dispensed", "payload.scanned_patient", payload.scanned_patient)
    return [cmd.record(), *free(cmd, product)]


def thaw(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """A dispensed bag of this product is thawed; the first completion starts the infusion window.

    Several bags may be thawed one after the other, before the bedside checks; each thaw
    names its bag when the lot has several, so every bag can be accounted for.
    """
    payload: ev.Thawed = cmd.payload
    check_state(product, (S.DISPENSED, S.THAWED), "Thawed")
    if product.state == S.THAWED and product.bedside_performed is not None:
        raise OutOfOrder(
            "cannot record Thawed: the bedside check has started on the bags already thawed", rule="wrong_state"
        )
    check_not_on_hold(product, "Thawed")
    check_no_blocking_deviation(product, "Thawed")
    check_thawed_bag(product, payload.bag_id)
    check_interval(
        parse_time(payload.started_at),
        parse_time(payload.completed_at),
        cmd.occurred_at,
        "payload.started_at",
        "payload.completed_at",
    )
    check_blockers_acknowledged(product, cmd, payload.infusion_blockers_acknowledged)
    return [cmd.record()]


def perform_bedside_check(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """The first of two independent checks of labels and wristband, on a thawed product (again once lapsed)."""
    payload: ev.BedsideCheck = cmd.payload
    scan = wristband_scan(payload)
    check_state(product, (S.THAWED, S.BEDSIDE_VERIFIED), "BedsideCheckPerformed")
    check_not_on_hold(product, "BedsideCheckPerformed")
    check_round_open(cmd, product)
    return [_checked(cmd, product, "BedsideCheckPerformed", payload, scan)]


def _checked(
    cmd: Command, product: TherapyProduct, step: str, payload: ev.BedsideCheck, scan: WristbandScan
) -> NewEvent:
    """The three scans of one bedside check, then what the ledger keeps of it (never the wristband)."""
    check_identity(cmd, product, step, "payload.scanned_coi", payload.scanned_coi)
    check_bag_label(cmd, product, step, payload.scanned_bag_id)
    version = check_wristband(cmd, product, step, scan)
    return cmd.record(
        ev.BedsideCheckRecorded(
            scanned_coi=payload.scanned_coi,
            scanned_bag_id=payload.scanned_bag_id,
            wristband_matched=True,
            identity_version=version,
        )
    )


def witness_bedside_check(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """The second check is made by someone else than the first, after it, while the first is still valid."""
    payload: ev.BedsideCheck = cmd.payload
    scan = wristband_scan(payload)
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
    check_first_check_fresh(cmd, first, "BedsideCheckWitnessed")
    return [_checked(cmd, product, "BedsideCheckWitnessed", payload, scan)]


def infuse(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """Infusion follows both bedside checks, starts within the thaw-to-infusion window, and schedules follow-up."""
    payload: ev.Infused = cmd.payload
    check_state(product, (S.BEDSIDE_VERIFIED,), "Infused", rule="bedside_verification_required")
    check_not_on_hold(product, "Infused")
    check_no_blocking_deviation(product, "Infused")
    started, ended = parse_time(payload.started_at), parse_time(payload.ended_at)
    check_interval(started, ended, cmd.occurred_at, "payload.started_at", "payload.ended_at")
    check_infused_bags(product, payload.bag_ids)
    entry = cmd.catalogue.get(product.product_code)
    check_plausible(payload.volume_ml, "payload.volume_ml", INFUSED_VOLUME, entry)
    check_plausible(payload.viable_cells, "payload.viable_cells", INFUSED_VIABLE_CELLS, entry)
    check_thaw_window(product, cmd, started)
    check_checks_cover_infusion(cmd, product, started)
    site = payload.site or (product.location.site if product.location else "")
    check_infusion_gates(product, cmd, site, started)
    return [cmd.record(), follow_up_schedule(product, cmd, started)]


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
