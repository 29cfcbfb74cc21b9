"""An open major or critical deviation stops the product moving towards the patient until it is dealt with.

A minor deviation is shown on the product's record and does not block. A major or critical
one blocks release, dispense, thaw and infusion until it is closed (DeviationClosed) — the
quality system has investigated it and decided; until then no one should act as if the
product were fine.
"""

from __future__ import annotations

from domain.errors import ProductOnHold
from domain.product import TherapyProduct

BLOCKING_SEVERITIES = frozenset({"major", "critical"})


def blocking_deviations(product: TherapyProduct) -> dict[int, str]:
    """The open deviations that block a step, by version, with their description."""
    return {
        version: description
        for version, description in product.open_deviations.items()
        if product.deviation_severity.get(version) in BLOCKING_SEVERITIES
    }


def check_no_blocking_deviation(product: TherapyProduct, step: str) -> None:
    """Refuse the step while a major or critical deviation is open, naming each one by its version."""
    blocking = blocking_deviations(product)
    if not blocking:
        return
    listed = "; ".join(
        f"version {version} ({product.deviation_severity[version]}): {description}"
        for version, description in sorted(blocking.items())
    )
    raise ProductOnHold(
        f"cannot record {step}: an open major or critical deviation blocks it ({listed}); "
        "close it with DeviationClosed first",
        rule="open_deviation_blocks_step",
    )
