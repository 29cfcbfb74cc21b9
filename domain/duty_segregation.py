"""Four eyes: the second half of a step is signed by someone else than the first (EU GMP Annex 16, ATMP §11).

The person who recorded QC does not release the lot; whoever quarantined does not lift
the hold; whoever destroyed does not witness it. A unit too small to separate duties
declares so by a signed setting on its Site (``DutySegregationWaived``); each step then
taken by one person is recorded on the product (``DutySegregationWaiverApplied``) so the
product's status and the audit show it.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from domain.errors import RuleViolation
from domain.events import NewEvent
from domain.product import TherapyProduct
from domain.product_exception_events import DutyRule, DutySegregationWaiverApplied
from domain.product_specs import DUTY_SEGREGATION_WAIVER_APPLIED
from domain.site import Site, site_id_for
from domain.spec import Command


def check_second_person(
    cmd: Command, product: TherapyProduct, first: AbstractSet[str | None], rule: DutyRule, why: str
) -> list[NewEvent]:
    """Nothing when the signer is none of ``first``; the waiver record when the site allows one person; else refuse."""
    if cmd.ctx.actor.user_id not in first:
        return []
    site_code = product.location.site if product.location is not None else None
    site = cmd.load(site_id_for(site_code)) if site_code else None
    if site_code and isinstance(site, Site) and site.duty_segregation_waived is not None:
        applied = DutySegregationWaiverApplied(rule, site_code, site.duty_segregation_waived)
        return [cmd.derive(DUTY_SEGREGATION_WAIVER_APPLIED, product.id, applied)]
    raise RuleViolation(
        f"{cmd.ctx.actor.name} ({cmd.ctx.actor.user_id}) {why}; another person signs {cmd.spec.name} "
        "(or the site's administrator records DutySegregationWaived)",
        field="user",
        rule=rule.value,
    )
