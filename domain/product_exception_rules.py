"""The product's exception rules: deviations, holds, rejection, destruction, recall, corrections."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from domain import product_exception_events as ex
from domain.deviation_assessment import assess_deviation_impact
from domain.duty_segregation import check_second_person
from domain.errors import InvalidInput, OutOfOrder, ResolverIsReporter, RuleViolation
from domain.events import NewEvent, Role
from domain.excursion_rules import record_excursion
from domain.follow_up import FOLLOW_UP_SPECS, check_cause_of_death
from domain.payloads import parse_payload, payload_to_json
from domain.product import ProductState as S
from domain.product import TherapyProduct
from domain.product_checks import check_state, for_product
from domain.product_events import NotifiedParty
from domain.product_specs import PRODUCT_SPECS
from domain.release_panel import test_key
from domain.spec import Command, Decider, EventSpec

_PRODUCT_EVENT_SPECS: Mapping[str, EventSpec] = {spec.name: spec for spec in (*PRODUCT_SPECS, *FOLLOW_UP_SPECS)}

MANUFACTURER_EVENTS = frozenset(
    {
        "ManufacturingStarted", "ManufacturingCompleted", "ManufacturingFailed", "QcResultsRecorded",
        "ProductReleased", "ExceptionalReleaseApproved",
    }
)  # fmt: skip
"""The manufacturer's own facts, on which the QP also acts as quality assurance (there is no QA role)."""

LIFTER_BY_CUSTODIAN = {"manufacturer": Role.QP, "hospital": Role.PHARMACIST}
"""Who assesses a held product where it is: the QP at the manufacturer, the pharmacist at the hospital pharmacy."""


def record_fact(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """Some facts are always worth recording: deviations, alarms, near misses, notes."""
    return [cmd.record()]


def close_deviation(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """Only an open deviation can be closed, and only once."""
    payload: ex.DeviationClosed = cmd.payload
    if payload.deviation_version not in product.open_deviations:
        open_ids = ", ".join(map(str, sorted(product.open_deviations))) or "none"
        raise OutOfOrder(
            f"no open deviation recorded at version {payload.deviation_version} (open: {open_ids})",
            field="payload.deviation_version",
            rule="deviation_not_open",
        )
    return [cmd.record()]


def quarantine(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """A quarantine is placed once; a second reason goes in a deviation or a note."""
    if product.quarantined:
        raise OutOfOrder(
            f"the product is already quarantined ({product.quarantine_reason})", rule="already_quarantined"
        )
    return [cmd.record()]


def lift_quarantine(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """A quarantine is lifted after an assessment; a recall is lifted only by an exceptional release."""
    if not product.quarantined:
        raise OutOfOrder("cannot lift a quarantine: the product is not quarantined", rule="not_quarantined")
    if product.recalled:
        raise OutOfOrder(
            "a recalled product stays quarantined: return or destroy it, or request an exceptional release",
            rule="product_recalled",
        )
    if product.released and product.qc_in_spec is False and not product.exceptional_release:
        raise OutOfOrder(
            f"the product's QC is out of specification ({', '.join(product.qc_failed_tests)}): only an exceptional "
            "release, requested by the treating physician and approved by a QP, can lift this hold",
            rule="qc_out_of_spec_needs_exceptional_release",
        )
    expected = LIFTER_BY_CUSTODIAN[product.custodian_site_kind]
    if cmd.ctx.actor.role != expected:
        raise RuleViolation(
            f"the product is at the {product.custodian_site_kind}: its quarantine is lifted by a {expected}, "
            f"not a {cmd.ctx.actor.role}",
            field="user",
            rule="lift_by_custodian_role",
        )
    waiver = check_second_person(
        cmd, product, {product.quarantined_by} - {None}, ex.DutyRule.LIFT_BY_QUARANTINER, "placed this quarantine"
    )
    return [cmd.record(), *waiver]


def resolve_mismatch(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """A suspension is lifted only once the identity mismatch is explained, by someone else than who scanned it.

    The person whose scan mismatched may be the one who misread, or the one under
    pressure to proceed: a second pair of eyes must find the cause.
    """
    if not product.suspended:
        raise OutOfOrder("cannot resolve a mismatch: the product is not suspended for one", rule="not_suspended")
    reporter = product.mismatch_reporters.get(cmd.ctx.actor.user_id)
    if reporter is not None:
        raise ResolverIsReporter(
            f"{reporter} recorded this near miss (the scan that mismatched) and cannot also resolve it; "
            "another physician, pharmacist or QP records MismatchResolved",
            field="user",
        )
    return [cmd.record()]


def reject_receipt(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """A site rejects a product it has just received, before storing or using it."""
    check_state(product, (S.RECEIVED_AT_MANUFACTURER, S.RECEIVED_AT_PHARMACY), "ReceiptRejected")
    return [cmd.record()]


def end_custody(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """Destruction or return ends custody from any state short of a terminal one."""
    return [cmd.record()]


def destroy(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """A product is destroyed through the waste route its catalogue entry names (GMO waste for CAR-T)."""
    payload: ex.ProductDestroyed = cmd.payload
    route = cmd.catalogue.get(product.product_code).waste_stream
    if payload.waste_stream != route:
        raise InvalidInput(
            f"payload.waste_stream is {payload.waste_stream}, but {product.product_code} goes to {route} waste",
            field="payload.waste_stream",
            rule="waste_route_mismatch",
        )
    return [cmd.record()]


def witness_destruction(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """A destruction is witnessed once, after it is recorded, by someone else than who destroyed."""
    if product.state != S.DESTROYED:
        raise OutOfOrder(
            f"cannot record DestructionWitnessed: the product is {product.state}, not destroyed",
            rule="no_destruction_to_witness",
        )
    if product.destruction_witnessed_by is not None:
        raise OutOfOrder(
            f"the destruction is already witnessed by {product.destruction_witnessed_by}",
            rule="destruction_already_witnessed",
        )
    waiver = check_second_person(
        cmd, product, {product.destroyed_by} - {None}, ex.DutyRule.WITNESS_IS_DESTROYER, "destroyed this product"
    )
    return [cmd.record(), *waiver]


def check_accepted_tests(product: TherapyProduct, accepted: list[str]) -> None:
    """The QP names exactly the out-of-specification tests they saw and accept, as recorded (or corrected)."""
    failed = set(product.qc_failed_tests)
    keys = [test_key(name) for name in accepted]
    if set(keys) != failed or len(keys) != len(set(keys)):
        shown = ", ".join(sorted(failed)) or "none"
        raise InvalidInput(
            f"payload.accepted_failed_tests must name exactly the tests out of specification ({shown}); "
            f"got {', '.join(accepted) or 'none'}",
            field="payload.accepted_failed_tests",
            rule="accepted_tests_mismatch",
        )


def check_notified_parties(product: TherapyProduct, notified: list[NotifiedParty]) -> None:
    """A trial product's sponsor and ANSM, or a licensed product's marketing-authorisation holder, are told."""
    trial = bool(product.trial)
    required = (
        {NotifiedParty.SPONSOR, NotifiedParty.COMPETENT_AUTHORITY}
        if trial
        else {NotifiedParty.MARKETING_AUTHORISATION_HOLDER}
    )
    missing = sorted(required - set(notified))
    if missing:
        kind = "a trial product" if trial else "a licensed product"
        raise InvalidInput(
            f"payload.notified must include {', '.join(missing)} for {kind}",
            field="payload.notified",
            rule="notified_parties_missing",
        )


def correct_event(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """A correction names an event of this product, by someone who may record that kind of event, with valid values.

    A correction of a correction corrects the same original fact; nothing is deleted.
    """
    payload: ex.EventCorrected = cmd.payload
    if payload.corrects_version > product.version:
        raise InvalidInput(
            f"payload.corrects_version {payload.corrects_version} does not exist: the product has "
            f"{product.version} events",
            field="payload.corrects_version",
            rule="no_such_version",
        )
    root = product.root_of(payload.corrects_version)
    corrected_type = product.facts[root][0]
    spec = _PRODUCT_EVENT_SPECS.get(corrected_type)
    if spec is None:
        raise InvalidInput(
            f"payload.corrects_version {payload.corrects_version} is a {corrected_type}, which is not corrected here",
            field="payload.corrects_version",
            rule="not_correctable",
        )
    check_corrector(cmd, spec)
    merged = {**product.effective_payload(root), **payload.corrections}
    values = payload_to_json(parse_payload(spec.payload, merged, prefix="payload.corrections"))
    if corrected_type == "FollowUpRecorded":
        check_cause_of_death(values.get("survival"), values.get("cause_of_death"), "payload.corrections")
    corrections = {name: values.get(name) for name in payload.corrections}
    return [cmd.record(replace(payload, corrections=corrections))]


def check_corrector(cmd: Command, spec: EventSpec) -> None:
    """Only a role that may record the corrected event corrects it; the QP also as QA of the manufacturer's facts."""
    role = cmd.ctx.actor.role
    if spec.allows_role(role) or (role == Role.QP and spec.name in MANUFACTURER_EVENTS):
        return
    allowed = ", ".join(sorted(r.value for r in spec.roles))
    raise RuleViolation(
        f"a {role} may not correct a {spec.name}; it is corrected by who may record it ({allowed})",
        field="user",
        rule="corrector_role_not_allowed",
    )


DECIDERS: Mapping[str, Decider] = {
    "DeviationRecorded": for_product(record_fact),
    "DeviationClosed": for_product(close_deviation),
    "DeviationImpactAssessed": for_product(assess_deviation_impact),
    "TemperatureExcursionRecorded": for_product(record_excursion),
    "ProductQuarantined": for_product(quarantine),
    "QuarantineLifted": for_product(lift_quarantine),
    "IdentityMismatchRecorded": for_product(record_fact),
    "MismatchResolved": for_product(resolve_mismatch),
    "ReceiptRejected": for_product(reject_receipt),
    "ProductDestroyed": for_product(destroy),
    "DestructionWitnessed": for_product(witness_destruction),
    "ProductReturned": for_product(end_custody),
    "RecallNotified": for_product(record_fact),
    "EventCorrected": for_product(correct_event),
    "AnnotationAdded": for_product(record_fact),
}
