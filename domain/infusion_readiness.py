"""Would infusion be allowed now? Every reason it would be refused, before a bag is thawed.

Thawing cannot be undone: a bag thawed for a patient who cannot then be infused is
lost. So the unit is shown, before the thaw, every rule that would refuse the
infusion at this moment — the holds, an open major deviation not assessed for
infusion, the patient's pathway (consent, RCP, the pair's decision), the infusion
site, lymphodepletion and, once thawed, the thaw-to-infusion window and the bedside
checks' validity — each with its rule code and the step that lifts it. The rules are
the infusion's own check functions, run one after the other instead of stopping at
the first; only the order of the bedside and the infusion itself is left out (that is
the procedure still to come, not a reason to refuse).

A thaw while infusion would be refused is allowed only when its payload names those
rule codes (``infusion_blockers_acknowledged``): a deliberate, signed decision the
history keeps, never a thaw that slipped through.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from domain.aggregate import Loader
from domain.bedside_rules import check_checks_cover_infusion, check_first_check_fresh
from domain.deviation_gate import check_no_blocking_deviation
from domain.errors import CustodyError, RuleViolation
from domain.events import Context, Meaning
from domain.product import ProductState, TherapyProduct
from domain.product_checks import hold_refusals
from domain.product_pathway_rules import infusion_gate_refusals
from domain.product_specs import INFUSED
from domain.refusals import refusals
from domain.spec import Command
from domain.thaw_window import check_thaw_window

ON_THE_UNIT = frozenset({ProductState.DISPENSED, ProductState.THAWED, ProductState.BEDSIDE_VERIFIED})
"""Where the product is its infusion site: before it is dispensed, the unit that will infuse is not known yet."""

REMEDIES: dict[str, tuple[str, ...]] = {
    "product_suspended": ("MismatchResolved",),
    "product_quarantined": ("QuarantineLifted", "ExceptionalReleaseRequested"),
    "open_deviation_blocks_step": ("DeviationImpactAssessed", "DeviationClosed"),
    "consent_required": ("ConsentSigned",),
    "rcp_not_eligible": ("RcpDecisionRecorded",),
    "treatment_decision_not_cosigned": ("TreatmentDecisionCosigned",),
    "lymphodepletion_missing": ("LymphodepletionOverrideRecorded", "LymphodepletionRecorded"),
    "lymphodepletion_window": ("LymphodepletionOverrideRecorded",),
    "site_not_registered": ("SiteRegistered",),
    "site_not_accredited": ("AccreditationGranted",),
    "bedside_check_expired": ("BedsideCheckPerformed",),
    "thaw_to_infusion_window_exceeded": ("NotInfused",),
}
"""The steps that lift each refusal, the one to try first first; a rule absent here has no way around
(consent withdrawn) or none a form offers (a pathway kept nowhere: the message says what to do)."""


@dataclass(frozen=True)
class Blocker:
    """One reason infusion would be refused now: the rule, the refusal's own words, the steps that lift it."""

    rule: str
    message: str
    remedies: tuple[str, ...]


def infusion_blockers(product: TherapyProduct, load: Loader, ctx: Context) -> list[Blocker]:
    """Every rule that would refuse this product's infusion at ``ctx.occurred_at`` (empty: it would be allowed).

    ``ctx`` brings the clock and the site's figures (catalogue, pathway policy, bedside
    validity); its actor is not judged. Nothing is recorded and nothing is loaded but
    through ``load``.
    """
    cmd = Command(INFUSED, product.id, None, ctx, load, product, Meaning.PERFORMED)
    at = ctx.occurred_at
    found: list[CustodyError] = [*hold_refusals(product, INFUSED.name)]
    found.extend(refusals(lambda: check_no_blocking_deviation(product, INFUSED.name)))
    found.extend(_after_thaw(product, cmd))
    site = product.location.site if product.location is not None and product.state in ON_THE_UNIT else None
    found.extend(infusion_gate_refusals(product, cmd, site, at))
    return [Blocker(refusal.rule, refusal.message, REMEDIES.get(refusal.rule, ())) for refusal in found]


def _after_thaw(product: TherapyProduct, cmd: Command) -> list[CustodyError]:
    """Once thawed: the window still open, and bedside checks still valid (or none made yet)."""
    at = cmd.occurred_at
    first = product.bedside_performed
    checks = [lambda: check_thaw_window(product, cmd, at), lambda: check_checks_cover_infusion(cmd, product, at)]
    if first is not None and product.bedside_witnessed is None:
        checks.append(lambda: check_first_check_fresh(cmd, first, "BedsideCheckWitnessed"))
    return refusals(*checks)


def check_blockers_acknowledged(product: TherapyProduct, cmd: Command, acknowledged: Collection[str] | None) -> None:
    """A thaw while infusion would be refused names exactly the rules that refuse it, so the choice is signed.

    Exactly: a code left out means the person did not see that reason; a code that
    does not stand (any more) would make the signed record say something untrue.
    """
    blockers = infusion_blockers(product, cmd.load, cmd.ctx)
    current = {blocker.rule for blocker in blockers}
    given = set(acknowledged or ())
    if given == current:
        return
    field = "payload.infusion_blockers_acknowledged"
    reasons = "; ".join(f"{blocker.rule}: {blocker.message}" for blocker in blockers)
    if current - given:
        missing = ", ".join(sorted(current - given))
        raise RuleViolation(
            f"infusion would be refused now ({reasons}); a bag thawed now could not be given. Thaw only knowing "
            f"it, by listing in {field} every rule that refuses it ({', '.join(sorted(current))}); missing: {missing}",
            field=field,
            rule="thaw_blockers_not_acknowledged",
        )
    extra = ", ".join(sorted(given - current))
    standing = f"the rules that do: {', '.join(sorted(current))}" if current else "none does: leave it empty"
    raise RuleViolation(
        f"{field} names {extra}, which does not refuse infusion now; list only {standing}",
        field=field,
        rule="thaw_blockers_not_acknowledged",
    )
