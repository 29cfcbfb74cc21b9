"""What a step form knows in advance from the product: the bags it may name, the failed tests it may accept.

A list whose possible values the ledger already holds is offered as check boxes rather
than typed: the nurse ticks the thawed bags being infused, the QP the failed tests the
exceptional release accepts. Nothing here decides anything: the ledger still judges the
signed step (an unknown or forgotten bag is refused there, as through the API).
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from domain.aggregate import Aggregate
from domain.product import TherapyProduct


class Loads(Protocol):
    """The ledger's replay of one aggregate."""

    def load(self, aggregate_id: UUID) -> Aggregate | None: ...


def known_choices(ledger: Loads, step: str, aggregate_id: UUID | None) -> dict[str, tuple[str, ...]]:
    """The list fields of ``step`` whose choices the product already holds, with those choices."""
    if aggregate_id is None or step not in ("Infused", "ExceptionalReleaseApproved"):
        return {}
    product = ledger.load(aggregate_id)
    if not isinstance(product, TherapyProduct):
        return {}
    if step == "Infused":
        bags = product.thawed_bags or product.bags
        return {"bag_ids": bags} if bags else {}
    failed = tuple(name for name, in_spec in product.qc_results.items() if not in_spec)
    return {"accepted_failed_tests": failed} if failed else {}
