"""The thaw-to-infusion window: thawed cells lose viability, so the label's window is a hard limit.

Kept apart from the pharmacy rules so that infusion itself and the readiness shown
before a thaw (domain/infusion_readiness.py) judge by the one rule.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.errors import TimeRuleViolation
from domain.product import TherapyProduct
from domain.spec import Command


def check_thaw_window(product: TherapyProduct, cmd: Command, started: datetime) -> None:
    """Cells left too long after thawing lose viability: the label's window is a hard limit."""
    thawed = product.thaw_completed_at
    if thawed is None:
        return
    if started < thawed:
        raise TimeRuleViolation(
            f"payload.started_at {started.isoformat()} is before thawing completed ({thawed.isoformat()})",
            field="payload.started_at",
            rule="infusion_before_thaw",
        )
    entry = cmd.catalogue.get(product.product_code)
    window = entry.thaw_to_infusion_min
    if window is None:
        return
    from_start = entry.thaw_window_from == "start" and product.thaw_started_at is not None
    origin = product.thaw_started_at if from_start and product.thaw_started_at is not None else thawed
    deadline = origin + timedelta(minutes=window)
    if started > deadline:
        over = (started - deadline).total_seconds() / 60
        counted = "the start of thaw" if from_start else "thaw completion"
        raise TimeRuleViolation(
            f"infusion started {started.isoformat()}, {over:.0f} min after the deadline "
            f"{deadline.isoformat()} "
            f"({window} min after {counted} for {product.product_code}); record NotInfused",
            field="payload.started_at",
            rule="thaw_to_infusion_window_exceeded",
        )
