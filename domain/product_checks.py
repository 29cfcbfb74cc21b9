"""The product's shared rules, one small ``check_…`` function each, raising the error that names it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from uuid import UUID

from domain.aggregate import Aggregate, Loader
from domain.errors import (
    IdentityMismatch,
    NotFound,
    OutOfOrder,
    ProductOnHold,
    TerminalState,
    TimeRuleViolation,
)
from domain.events import NewEvent
from domain.product import ProductState, TherapyProduct
from domain.product_exception_events import IdentityMismatchRecorded
from domain.product_specs import IDENTITY_MISMATCH_RECORDED
from domain.spec import Command, Decider, derived_event

ProductDecider = Callable[[TherapyProduct, Command], list[NewEvent]]


def current_product(cmd: Command) -> TherapyProduct:
    """The product the command targets (the registry has checked it exists and is a product)."""
    assert isinstance(cmd.current, TherapyProduct)
    return cmd.current


def for_product(decide: ProductDecider) -> Decider:
    """Wrap a product rule: hand it the loaded product, refusing non-annotations after a terminal state."""

    def decide_on_product(cmd: Command) -> list[NewEvent]:
        product = current_product(cmd)
        if not cmd.spec.annotation:
            check_not_terminal(product, cmd.spec.name)
        return decide(product, cmd)

    decide_on_product.__doc__ = decide.__doc__
    return decide_on_product


def load_product(load: Loader, product_id: UUID, field: str) -> TherapyProduct:
    """Load another product a command names, refusing ids that are not products."""
    found: Aggregate | None = load(product_id)
    if not isinstance(found, TherapyProduct) or found.state is None:
        raise NotFound(f"{field}: no product with id {product_id}", field=field)
    return found


def check_not_terminal(product: TherapyProduct, step: str) -> None:
    """Only annotations may follow infusion, destruction or return."""
    if product.is_terminal:
        raise TerminalState(
            f"cannot record {step}: the product is {product.state}; only annotations, follow-up, "
            "deviations and corrections may be added now"
        )


def check_state(product: TherapyProduct, allowed: Iterable[ProductState], step: str, rule: str = "wrong_state") -> None:
    """Refuse a step the custody chain does not allow from the product's current state."""
    allowed = tuple(allowed)
    if product.state not in allowed:
        raise OutOfOrder(
            f"cannot record {step}: the product is {product.state}; it must be "
            f"{' or '.join(state.value for state in allowed)}",
            rule=rule,
        )


def check_not_on_hold(product: TherapyProduct, step: str) -> None:
    """A quarantined or suspended product must not move towards the patient."""
    refusals = hold_refusals(product, step)
    if refusals:
        raise refusals[0]


def hold_refusals(product: TherapyProduct, step: str) -> list[ProductOnHold]:
    """Each hold on the product, as the refusal it makes: both are shown when both stand, before a thaw."""
    refusals = []
    if product.suspended:
        refusals.append(
            ProductOnHold(
                f"cannot record {step}: the product is suspended after an identity mismatch "
                f"({product.suspension_reason}); record MismatchResolved first",
                rule="product_suspended",
            )
        )
    if product.quarantined:
        refusals.append(
            ProductOnHold(
                f"cannot record {step}: the product is quarantined ({product.quarantine_reason}); "
                "record QuarantineLifted or an exceptional release first",
                rule="product_quarantined",
            )
        )
    return refusals


def check_identity(cmd: Command, product: TherapyProduct, step: str, field: str, scanned: str) -> None:
    """Stop the step on a label or wristband mismatch, leaving a safety record of the near miss."""
    is_coi = field.endswith("coi")
    expected = product.coi if is_coi else product.patient_pseudonym
    if scanned == expected:
        return
    what = "COI" if is_coi else "patient"
    safety = derived_event(
        IDENTITY_MISMATCH_RECORDED,
        product.id,
        IdentityMismatchRecorded(step=step, field=field, expected=expected, scanned=scanned),
        cmd.occurred_at,
    )
    raise IdentityMismatch(
        f"{step} stopped: scanned {what} {scanned!r} does not match the product's {what} {expected!r}; "
        "do not proceed, the product is suspended until the mismatch is resolved",
        field=field,
        safety_events=[safety],
    )


def check_interval(start: datetime, end: datetime, occurred_at: datetime, start_field: str, end_field: str) -> None:
    """A start/end pair must be in order and not later than the step it belongs to."""
    if end < start:
        raise TimeRuleViolation(
            f"{end_field} {end.isoformat()} is before {start_field} {start.isoformat()}",
            field=end_field,
            rule="ends_before_start",
        )
    if end > occurred_at:
        raise TimeRuleViolation(
            f"{end_field} {end.isoformat()} is after the step's occurred_at {occurred_at.isoformat()}",
            field=end_field,
            rule="after_occurred_at",
        )
