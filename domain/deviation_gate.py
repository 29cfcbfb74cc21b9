"""An open major or critical deviation stops the product moving towards the patient until it is dealt with.

A minor deviation is shown on the product's record and does not block. A major or critical
one blocks release, dispense, thaw and infusion until it is closed (DeviationClosed) — the
quality system has investigated it and decided — or until a documented impact assessment
(DeviationImpactAssessed, domain/deviation_assessment.py) lets a named step go ahead while
the deviation stays open and shown. An assessment counts for the severity the deviation had
when it was made: a deviation reclassified afterwards (EventCorrected) is assessed again.
"""

from __future__ import annotations

from domain.errors import ProductOnHold
from domain.product import TherapyProduct
from domain.product_exception_events import AssessedStep

BLOCKING_SEVERITIES = frozenset({"major", "critical"})

STEP_OF_EVENT: dict[str, AssessedStep] = {
    "ProductReleased": AssessedStep.RELEASE,
    "Dispensed": AssessedStep.DISPENSE,
    "Thawed": AssessedStep.THAW,
    "Infused": AssessedStep.INFUSION,
}
"""The event types the gate guards, and the step an impact assessment names to let each through."""


def blocking_deviations(product: TherapyProduct) -> dict[int, str]:
    """The open deviations that block a step, by version, with their description."""
    return {
        version: description
        for version, description in product.open_deviations.items()
        if product.deviation_severity.get(version) in BLOCKING_SEVERITIES
    }


def who_assesses(step: AssessedStep, product: TherapyProduct) -> str:
    """Who may let a step through: the QP for the release, the treating physician for the clinical steps."""
    if step == AssessedStep.RELEASE:
        return "a QP"
    return f"the product's treating physician ({product.treating_physician})"


def _allowed(product: TherapyProduct, version: int, step: AssessedStep) -> bool:
    """True when an assessment of this deviation, at its current severity, allows the step."""
    assessed = product.deviation_allowances.get(version, {}).get(step.value)
    return assessed is not None and assessed == product.deviation_severity.get(version)


def _describe(product: TherapyProduct, version: int, description: str, step: AssessedStep) -> str:
    """One blocking deviation, and why an earlier assessment no longer counts when it was reclassified since."""
    severity = product.deviation_severity[version]
    text = f"version {version} ({severity}): {description}"
    assessed = product.deviation_allowances.get(version, {}).get(step.value)
    if assessed is not None and assessed != severity:
        text += f" — assessed for {step.value} when it was {assessed}, reclassified since"
    return text


def check_no_blocking_deviation(product: TherapyProduct, event_type: str) -> None:
    """Refuse the step while a major or critical deviation is open and not assessed for it, naming each one."""
    step = STEP_OF_EVENT[event_type]
    blocking = {
        version: description
        for version, description in blocking_deviations(product).items()
        if not _allowed(product, version, step)
    }
    if not blocking:
        return
    listed = "; ".join(
        _describe(product, version, description, step) for version, description in sorted(blocking.items())
    )
    raise ProductOnHold(
        f"cannot record {event_type}: an open major or critical deviation blocks it ({listed}); "
        f"close it with DeviationClosed, or record DeviationImpactAssessed allowing {step.value}, "
        f"signed by {who_assesses(step, product)}",
        rule="open_deviation_blocks_step",
    )
