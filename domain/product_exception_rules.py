"""The product's exception rules: deviations, holds, rejection, destruction, recall, corrections."""

from __future__ import annotations

from collections.abc import Mapping

from domain import product_exception_events as ex
from domain.errors import InvalidInput, OutOfOrder, ResolverIsReporter
from domain.events import NewEvent
from domain.product import ProductState as S
from domain.product import TherapyProduct
from domain.product_checks import check_state, for_product
from domain.spec import Command, Decider


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
    return [cmd.record()]


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


def correct_event(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """A correction must reference an event that exists in this product's history."""
    payload: ex.EventCorrected = cmd.payload
    if payload.corrects_version > product.version:
        raise InvalidInput(
            f"payload.corrects_version {payload.corrects_version} does not exist: the product has "
            f"{product.version} events",
            field="payload.corrects_version",
            rule="no_such_version",
        )
    return [cmd.record()]


DECIDERS: Mapping[str, Decider] = {
    "DeviationRecorded": for_product(record_fact),
    "DeviationClosed": for_product(close_deviation),
    "TemperatureExcursionRecorded": for_product(record_fact),
    "ProductQuarantined": for_product(quarantine),
    "QuarantineLifted": for_product(lift_quarantine),
    "IdentityMismatchRecorded": for_product(record_fact),
    "MismatchResolved": for_product(resolve_mismatch),
    "ReceiptRejected": for_product(reject_receipt),
    "ProductDestroyed": for_product(end_custody),
    "ProductReturned": for_product(end_custody),
    "RecallNotified": for_product(record_fact),
    "EventCorrected": for_product(correct_event),
    "AnnotationAdded": for_product(record_fact),
}
