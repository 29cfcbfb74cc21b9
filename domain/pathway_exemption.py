"""The product-side trace of a site's pathway-managed-elsewhere setting.

When a product is enrolled with no pathway in this ledger, at a collection site whose
signed setting says its patients' pathway is kept elsewhere, enrolment derives this
event on the product: the product then carries, in its own signed history, which
setting let it go without a pathway here, and every reader shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import Meaning as M
from domain.events import Role as R
from domain.payloads import FreeText
from domain.spec import EventSpec


@dataclass(frozen=True)
class PathwayManagedElsewhereApplied:
    """The product is covered by its collection site's pathway-managed-elsewhere setting."""

    site: str
    reason: FreeText


PATHWAY_MANAGED_ELSEWHERE_APPLIED = EventSpec(
    "PathwayManagedElsewhereApplied",
    "product",
    PathwayManagedElsewhereApplied,
    (M.RECORDED,),
    frozenset({R.PHYSICIAN, R.SYSTEM}),
    "Recorded by the domain when a product is enrolled without a pathway in this ledger, under its collection "
    "site's PathwayManagedElsewhereDeclared setting: the product says which setting covers it.",
    derived_from="ProductEnrolled",
)
