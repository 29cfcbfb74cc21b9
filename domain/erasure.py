"""When a patient's identity may be erased (GDPR art. 17) and who must agree.

The record of a cell-therapy product must stay traceable to its patient for the
retention period of the product (30 years for ATMPs, Directive 2009/120/EC and the
French MTI traceability order), so erasure is refused while any of the patient's
products is still within it, unless a documented legal ground overrides it (a court
order, a supervisory authority's decision). Erasure is irreversible, so it takes two
people: an administrator requests it (they run the ledger and execute the request)
and a pharmacist approves it (the hospital pharmacy is accountable for keeping the
ATMP traceability record, so the person answerable for retention must agree). The
two roles differ, so the two signatures are always two people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.errors import InvalidInput, RuleViolation
from domain.text import checked_text

REQUESTER_ROLES = frozenset({"admin"})
APPROVER_ROLES = frozenset({"pharmacist"})


@dataclass(frozen=True)
class RetainedProduct:
    """One of the patient's products: its catalogue retention and the last time its record changed."""

    product_code: str
    retention_years: int
    last_recorded: datetime


@dataclass(frozen=True)
class ErasureRequest:
    """Who asks, who approves, why, and the legal ground that overrides retention (if any)."""

    requester: str
    requester_role: str
    approver: str
    approver_role: str
    reason: str
    legal_ground: str = ""


def retained_until(product: RetainedProduct) -> date:
    """The day the product's retention ends (29 February counts as 28 February in a common year)."""
    day = product.last_recorded.date()
    year = day.year + product.retention_years
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def check_erasure(request: ErasureRequest, products: tuple[RetainedProduct, ...], now: datetime) -> None:
    """Refuse an erasure that lacks a reason, a second person, or a ground while retention runs."""
    if not request.reason.strip():
        raise InvalidInput("reason is required to erase an identity", field="reason", rule="erasure_reason_required")
    checked_text(request.reason, "reason", free_text=True)
    checked_text(request.legal_ground, "legal_ground", free_text=True)
    if request.requester_role not in REQUESTER_ROLES:
        raise RuleViolation(
            f"requester {request.requester!r} has role {request.requester_role!r}; an erasure is requested by: "
            f"{', '.join(sorted(REQUESTER_ROLES))}",
            field="requester",
            rule="erasure_role_refused",
        )
    if request.approver == request.requester:
        raise RuleViolation(
            "approver must be another person than the requester: an erasure takes two people",
            field="approver",
            rule="erasure_needs_two_people",
        )
    if request.approver_role not in APPROVER_ROLES:
        raise RuleViolation(
            f"approver {request.approver!r} has role {request.approver_role!r}; an erasure is approved by: "
            f"{', '.join(sorted(APPROVER_ROLES))}",
            field="approver",
            rule="erasure_role_refused",
        )
    running = [p for p in products if retained_until(p) > now.date()]
    if running and not request.legal_ground.strip():
        latest = max(running, key=retained_until)
        raise RuleViolation(
            f"legal_ground is required: product {latest.product_code} must stay traceable to its patient until "
            f"{retained_until(latest).isoformat()} ({latest.retention_years} years); give the documented legal ground "
            "that overrides retention",
            field="legal_ground",
            rule="retention_period_running",
        )
