"""What a person sees before a decision that cannot be undone: infusion blockers before a thaw, QC before a release.

A thaw is irreversible, so the product page and the thaw form show whether the infusion
would be allowed now (domain/infusion_readiness.py: the infusion's own rules, every one
that refuses), each reason with the step that lifts it, linked when this person may
record it. A thaw while infusion would be refused takes one deliberate tick, "I thaw
knowing…", which sends the rule codes in the signed payload; the ledger refuses a thaw
that does not name them, through this form as through the API.

An exceptional release is decided on the figures: the physician's request and the QP's
approval forms show the lot's measured QC results beside the criteria, and the QP's form
is not offered until the physician's written request exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from api.rest.context import ApiContext
from api.rest.reads import UNREPLAYABLE
from api.rest.tokens import Principal
from api.web.forms import FormField
from domain.events import Actor, Context
from domain.infusion_readiness import infusion_blockers
from domain.product import ProductState, TherapyProduct
from domain.registry import EVENT_TYPES
from domain.spec import EventSpec
from projections.status_query import status_now

ACKNOWLEDGEMENT = "infusion_blockers_acknowledged"
"""The thaw's payload field naming the rules that refuse infusion; filled by the form's one tick, never typed."""

BEFORE_INFUSION = frozenset(
    {
        ProductState.RELEASED,
        ProductState.RECEIVED_AT_PHARMACY,
        ProductState.STORED,
        ProductState.DISPENSED,
        ProductState.THAWED,
        ProductState.BEDSIDE_VERIFIED,
    }
)
"""Released and not yet given: where whether it could be infused now is worth knowing (earlier, it is noise)."""

RELEASE_DECISIONS = ("ExceptionalReleaseRequested", "ExceptionalReleaseApproved")


@dataclass(frozen=True)
class Remedy:
    """A step that lifts a blocker: a link when this person records it on the product, else who does."""

    step: str
    href: str | None
    roles: tuple[str, ...]


@dataclass(frozen=True)
class ShownBlocker:
    """One reason infusion would be refused now, as the page shows it."""

    rule: str
    message: str
    remedies: tuple[Remedy, ...]


@dataclass(frozen=True)
class Readiness:
    """Whether infusion would be allowed now, and if not, why."""

    blockers: tuple[ShownBlocker, ...]

    @property
    def rules(self) -> str:
        """The rule codes, as the thaw's tick sends them."""
        return " ".join(blocker.rule for blocker in self.blockers)


def _remedy(spec: EventSpec, product_id: UUID, principal: Principal) -> Remedy:
    mine = spec.kind == "product" and spec.allows_role(principal.role)
    href = f"/ui/products/{product_id}/steps/{spec.name}" if mine else None
    return Remedy(spec.name, href, tuple(sorted(str(role) for role in spec.roles)))


def _product(ctx: ApiContext, product_id: UUID) -> TherapyProduct | None:
    """The product replayed, or None when its stored history cannot be replayed (a hostile or older event): the
    page then shows no blockers rather than failing, and the verifier names the event."""
    try:
        found = ctx.ledger.load(product_id)
    except UNREPLAYABLE:
        return None
    return found if isinstance(found, TherapyProduct) else None


def readiness(ctx: ApiContext, principal: Principal, product_id: UUID) -> Readiness | None:
    """The product's infusion blockers at the ledger's clock; None before release or once its story ended."""
    product = _product(ctx, product_id)
    if product is None or product.state not in BEFORE_INFUSION:
        return None
    ledger = ctx.ledger
    now = ledger.clock.now()
    reader = Context(
        actor=Actor(principal.username, principal.name, principal.role),
        occurred_at=now,
        now=now,
        catalogue=ledger.catalogue,
        pathway=ledger.pathway_policy,
        bedside_check_valid_minutes=ledger.settings.bedside_check_valid_minutes,
    )
    shown = tuple(
        ShownBlocker(
            blocker.rule,
            blocker.message,
            tuple(_remedy(EVENT_TYPES[step], product_id, principal) for step in blocker.remedies),
        )
        for blocker in infusion_blockers(product, ledger.load, reader)
    )
    return Readiness(shown)


def product_facts(ctx: ApiContext, principal: Principal, product_id: UUID) -> dict[str, Any]:
    """What the product page shows above its steps: the infusion blockers, and a release decision still waiting."""
    product = _product(ctx, product_id)
    waiting = (
        product is not None
        and not product.is_terminal
        and (product.state == ProductState.QC_OUT_OF_SPEC or product.quarantined)
        and not product.exceptional_release_requested
    )
    return {"readiness": readiness(ctx, principal, product_id), "release_waiting": waiting}


def step_facts(ctx: ApiContext, principal: Principal, spec: EventSpec, aggregate_id: UUID | None) -> dict[str, Any]:
    """What a step form shows before its fields: blockers on the thaw form, QC on the release decisions."""
    if aggregate_id is None or spec.kind != "product":
        return {}
    if spec.name == "Thawed":
        return {"readiness": readiness(ctx, principal, aggregate_id)}
    if spec.name in RELEASE_DECISIONS:
        status = status_now(ctx.ledger.store, aggregate_id, ctx.ledger.clock.now(), ctx.ledger.catalogue)
        return {"release_status": status}
    return {}


def approval_unavailable(ctx: ApiContext, spec: EventSpec, aggregate_id: UUID | None) -> bool:
    """True for the QP's exceptional-release approval while no physician's request is pending: not offered yet."""
    if spec.name != "ExceptionalReleaseApproved" or aggregate_id is None:
        return False
    product = _product(ctx, aggregate_id)
    return product is not None and not product.exceptional_release_requested


def typed_fields(fields: list[FormField]) -> list[FormField]:
    """The inputs the form lays out itself: the acknowledgement is the blockers' own tick, not a typed list."""
    return [field for field in fields if field.name != ACKNOWLEDGEMENT]


def acknowledged(spec: EventSpec, form: dict[str, str], payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with the rule codes the thaw's tick confirmed (nothing ticked: nothing added)."""
    ticked = form.get(ACKNOWLEDGEMENT, "").split()
    if spec.name != "Thawed" or not ticked:
        return payload
    return {**payload, ACKNOWLEDGEMENT: ticked}
