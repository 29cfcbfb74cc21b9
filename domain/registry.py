"""The domain's single way in: given a requested event, decide which facts may be recorded.

The ledger loads aggregates through ``load``, calls ``decide``, then signs and stores
the returned events atomically and replays them with ``Aggregate.apply``. ``decide``
checks what every event shares (type, signature meaning, times, payload shape, whether
the target exists) and hands the rest to the aggregate's rules. It never mutates what
it loaded; derived events on other aggregates carry the same time and their spec's
default meaning.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any
from uuid import UUID

from domain import (
    batch_rules,
    catalogue_rules,
    logger_rules,
    lymphodepletion_planning,
    pathway_rules,
    product_exception_rules,
    product_pathway_rules,
    product_pharmacy_rules,
    product_rules,
    shipment_rules,
    site_rules,
    step_gates,
    storage_logger_rules,
    treatment_order_rules,
    trial_rules,
    trial_site_rules,
)
from domain.aggregate import Aggregate, Loader
from domain.batch import BATCH_SPECS, BankBatch
from domain.catalogue_events import CATALOGUE_SPECS, SiteCatalogue
from domain.deadline_alert import ALERT_SPECS, DeadlineAlert
from domain.document_rules import check_documents
from domain.donation import DONATION_SPECS, Donation
from domain.errors import (
    InvalidInput,
    NotFound,
    OutOfOrder,
    RuleViolation,
    TimeRuleViolation,
    UnknownEventType,
)
from domain.events import Context, Meaning, NewEvent
from domain.follow_up import FOLLOW_UP_SPECS
from domain.ln2_position import LN2_POSITION_SPECS, Ln2Position
from domain.logger_events import LOGGER_SPECS
from domain.manufacturing_schedule import SCHEDULE_SPECS, ManufacturingSchedule
from domain.pathway import PATHWAY_SPECS, PatientPathway
from domain.payloads import parse_payload
from domain.product import TherapyProduct
from domain.product_specs import PRODUCT_SPECS
from domain.shipment import SHIPMENT_SPECS, Shipment
from domain.signer_qualification import check_signer_qualified
from domain.site import SITE_SPECS, Site
from domain.spec import Command, Decider, EventSpec
from domain.storage_logger_events import STORAGE_LOGGER_SPECS
from domain.treatment_order import ORDER_SPECS
from domain.trial import TRIAL_SPECS, Trial
from domain.trial_site import TRIAL_SITE_SPECS, TrialSite

EVENT_TYPES: Mapping[str, EventSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            *PRODUCT_SPECS,
            *FOLLOW_UP_SPECS,
            *SHIPMENT_SPECS,
            *LOGGER_SPECS,
            *STORAGE_LOGGER_SPECS,
            *BATCH_SPECS,
            *PATHWAY_SPECS,
            *SITE_SPECS,
            *TRIAL_SPECS,
            *DONATION_SPECS,
            *LN2_POSITION_SPECS,
            *TRIAL_SITE_SPECS,
            *CATALOGUE_SPECS,
            *SCHEDULE_SPECS,
            *ORDER_SPECS,
            *lymphodepletion_planning.PLANNING_SPECS,
            *ALERT_SPECS,
        )
    }
)
"""Every event type the domain knows, by name."""

AGGREGATE_CLASSES: Mapping[str, type[Aggregate]] = MappingProxyType(
    {
        cls.kind: cls
        for cls in (
            TherapyProduct,
            Shipment,
            BankBatch,
            PatientPathway,
            Site,
            Trial,
            Donation,
            Ln2Position,
            TrialSite,
            SiteCatalogue,
            ManufacturingSchedule,
            DeadlineAlert,
        )
    }
)
"""The class that replays each kind of aggregate."""

_DECIDERS: Mapping[str, Decider] = {
    **product_rules.DECIDERS,
    **product_pharmacy_rules.DECIDERS,
    **product_exception_rules.DECIDERS,
    **shipment_rules.DECIDERS,
    **logger_rules.DECIDERS,
    **storage_logger_rules.DECIDERS,
    **batch_rules.DECIDERS,
    **product_pathway_rules.DECIDERS,
    **pathway_rules.DECIDERS,
    **site_rules.DECIDERS,
    **trial_rules.DECIDERS,
    **trial_site_rules.DECIDERS,
    **catalogue_rules.DECIDERS,
    **treatment_order_rules.DECIDERS,
    **lymphodepletion_planning.DECIDERS,
}


def decide(
    event_type: str, aggregate_id: UUID, payload: Mapping[str, Any], ctx: Context, load: Loader
) -> list[NewEvent]:
    """Check a requested event against every rule and return the facts to sign and store, in order."""
    spec = _spec_for(event_type)
    meaning = _check_meaning(spec, ctx)
    _check_role(spec, ctx)
    check_signer_qualified(spec, ctx, load)
    _check_occurred_at(ctx)
    parsed = parse_payload(spec.payload, payload)
    current = _load_target(spec, aggregate_id, load)
    _check_after_previous_step(current, ctx)
    check_documents(spec, parsed, ctx, current)
    command = Command(spec, aggregate_id, parsed, ctx, load, current, meaning)
    step_gates.check_step(command)
    events = _DECIDERS[spec.name](command)
    _check_derived_after_previous_steps(events, aggregate_id, ctx, load)
    return events


def _spec_for(event_type: str) -> EventSpec:
    """Known event types only; derived ones are recorded through the event they follow from."""
    spec = EVENT_TYPES.get(event_type)
    if spec is None:
        raise UnknownEventType(
            f"unknown event type {event_type!r}; known types: {', '.join(sorted(EVENT_TYPES))}", field="type"
        )
    if spec.derived_from is not None:
        raise OutOfOrder(
            f"{event_type} is recorded by the domain when {spec.derived_from} is recorded; record that instead",
            field="type",
            rule="derived_event",
        )
    return spec


def _check_meaning(spec: EventSpec, ctx: Context) -> Meaning:
    """Every signature states its meaning (21 CFR 11.50), and it must be one that fits the step."""
    allowed = ", ".join(spec.meanings)
    if ctx.meaning is None:
        raise InvalidInput(
            f"the signature's meaning is required for {spec.name} (one of: {allowed})",
            field="meaning",
            rule="meaning_required",
        )
    if ctx.meaning not in spec.meanings:
        raise InvalidInput(
            f"meaning {str(ctx.meaning)!r} does not fit {spec.name}; allowed: {allowed}",
            field="meaning",
            rule="meaning_not_allowed",
        )
    return Meaning(ctx.meaning)


def _check_role(spec: EventSpec, ctx: Context) -> None:
    check_role(spec, ctx.actor.role)


def check_role(spec: EventSpec, role: str) -> None:
    """Only the roles that perform a step may sign it (an auditor or a sponsor records nothing).

    Also asked before a step's evidence is stored (a logger file), so a refused signer leaves nothing behind."""
    if not spec.allows_role(role):
        allowed = ", ".join(sorted(r.value for r in spec.roles))
        raise RuleViolation(
            f"a user with role {role!r} may not record {spec.name}; it is recorded by: {allowed}",
            field="user",
            rule="role_not_allowed",
        )


# Ten years: past any retrospective entry a unit makes, and far enough from year 1 that no window computed
# from a step's time can leave the calendar.
MAX_BACKDATING = timedelta(days=3653)


def _check_occurred_at(ctx: Context) -> None:
    """A step's time carries its offset and is not in the future."""
    if ctx.occurred_at.tzinfo is None or ctx.occurred_at.utcoffset() is None:
        raise InvalidInput(
            f"occurred_at {ctx.occurred_at.isoformat()} has no time zone offset",
            field="occurred_at",
            rule="timezone_required",
        )
    if ctx.occurred_at < ctx.now - MAX_BACKDATING:
        raise TimeRuleViolation(
            f"occurred_at {ctx.occurred_at.isoformat()} is more than {MAX_BACKDATING.days} days before now: "
            "a step is recorded while its traces are fresh, not decades later",
            field="occurred_at",
            rule="occurred_too_long_ago",
        )
    if ctx.occurred_at > ctx.now:
        raise TimeRuleViolation(
            f"occurred_at {ctx.occurred_at.isoformat()} is in the future (now is {ctx.now.isoformat()})",
            field="occurred_at",
            rule="occurred_in_future",
        )


def _load_target(spec: EventSpec, aggregate_id: UUID, load: Loader) -> Aggregate | None:
    """A creation needs a fresh id; any other event needs an existing aggregate of the right kind.

    A singleton's (the catalogue's) first event opens it at its fixed id; later ones continue it."""
    current = load(aggregate_id)
    if spec.creates:
        if current is not None:
            raise OutOfOrder(
                f"{spec.kind} {aggregate_id} already exists; {spec.name} opens a new one",
                field="aggregate_id",
                rule="already_exists",
            )
        return None
    if current is None:
        if spec.singleton:
            return None
        raise NotFound(f"no {spec.kind} with id {aggregate_id}", field="aggregate_id")
    if current.kind != spec.kind:
        raise NotFound(
            f"{aggregate_id} is a {current.kind}, not a {spec.kind}: {spec.name} applies to a {spec.kind}",
            field="aggregate_id",
            rule="wrong_aggregate_kind",
        )
    return current


def _check_after_previous_step(aggregate: Aggregate | None, ctx: Context) -> None:
    """A history reads in the order things happened: no step before the one already recorded."""
    if aggregate is None or aggregate.last_occurred_at is None:
        return
    previous = aggregate.last_occurred_at
    if ctx.occurred_at < previous:
        raise TimeRuleViolation(
            f"occurred_at {ctx.occurred_at.isoformat()} is before the previous step of this {aggregate.kind} "
            f"({previous.isoformat()})",
            field="occurred_at",
            rule="before_previous_step",
        )


def _check_derived_after_previous_steps(events: list[NewEvent], target_id: UUID, ctx: Context, load: Loader) -> None:
    """Derived events obey the same order on the aggregates they land on."""
    for other_id in dict.fromkeys(event.aggregate_id for event in events if event.aggregate_id != target_id):
        _check_after_previous_step(load(other_id), ctx)
