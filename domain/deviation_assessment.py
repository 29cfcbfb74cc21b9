"""An impact assessment lets a step go ahead while a major or critical deviation stays open.

Closing a deviation waits for its investigation, which may take weeks; a patient's product
may not. EU GMP for ATMPs (§11.5 and the deviation chapter) lets the product go ahead when
a documented assessment concludes the deviation does not affect its quality or safety for
that use. The assessment names the deviation by its version, the steps it allows, the
reasoning and its reference in the quality system; the deviation stays open and shown
until it is closed. Who answers for each step is who answers for the step itself: the
Qualified Person for the release, and for the clinical steps (dispense, thaw, infusion)
the product's treating physician — the one who requests an exceptional release
(domain/product_rules.py), since the benefit to that patient is what is weighed.
"""

from __future__ import annotations

from domain.deviation_gate import BLOCKING_SEVERITIES
from domain.errors import InvalidInput, OutOfOrder, RuleViolation
from domain.events import NewEvent, Role
from domain.product import TherapyProduct
from domain.product_exception_events import AssessedStep, DeviationImpactAssessed
from domain.spec import Command


def assess_deviation_impact(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """An open, blocking deviation of this product, steps named once each, each by the person who answers for it."""
    payload: DeviationImpactAssessed = cmd.payload
    check_assessable(product, payload.deviation_version)
    check_steps_named_once(payload.steps)
    for step in payload.steps:
        check_assessor(product, cmd, step)
    return [cmd.record()]


def check_assessable(product: TherapyProduct, version: int) -> None:
    """The deviation was recorded on this product, is still open, and is major or critical."""
    recorded = ", ".join(map(str, sorted(product.deviation_severity))) or "none"
    if version not in product.deviation_severity:
        raise InvalidInput(
            f"payload.deviation_version {version} is not a deviation of this product (deviations: {recorded})",
            field="payload.deviation_version",
            rule="impact_assessment_unknown_deviation",
        )
    if version not in product.open_deviations:
        raise OutOfOrder(
            f"payload.deviation_version {version}: that deviation is closed; a closed deviation blocks nothing and "
            "needs no impact assessment",
            field="payload.deviation_version",
            rule="impact_assessment_closed_deviation",
        )
    severity = product.deviation_severity[version]
    if severity not in BLOCKING_SEVERITIES:
        raise OutOfOrder(
            f"payload.deviation_version {version}: that deviation is {severity}; it is shown but blocks no step, so "
            "there is nothing for an impact assessment to allow (reclassify it with EventCorrected if it is major)",
            field="payload.deviation_version",
            rule="impact_assessment_not_blocking",
        )


def check_steps_named_once(steps: list[AssessedStep]) -> None:
    """A step named twice is a typing slip, refused rather than silently merged."""
    seen: set[AssessedStep] = set()
    for index, step in enumerate(steps):
        if step in seen:
            raise InvalidInput(
                f"payload.steps[{index}] names {step.value} a second time; name each step once",
                field=f"payload.steps[{index}]",
                rule="duplicate_step",
            )
        seen.add(step)


def check_assessor(product: TherapyProduct, cmd: Command, step: AssessedStep) -> None:
    """The release is assessed by a QP; dispense, thaw and infusion by the product's treating physician."""
    actor = cmd.ctx.actor
    if step == AssessedStep.RELEASE:
        if actor.role != Role.QP:
            raise RuleViolation(
                f"an impact assessment allowing release is signed by a QP, not a {actor.role}; "
                "a physician assesses dispense, thaw and infusion",
                field="user",
                rule="impact_assessment_wrong_role",
            )
        return
    if actor.role != Role.PHYSICIAN:
        raise RuleViolation(
            f"an impact assessment allowing {step.value} is signed by the product's treating physician "
            f"({product.treating_physician}), not a {actor.role}",
            field="user",
            rule="impact_assessment_wrong_role",
        )
    if actor.user_id != product.treating_physician:
        raise RuleViolation(
            f"{actor.name} ({actor.user_id}) is not this product's treating physician "
            f"({product.treating_physician}); only they assess the impact on {step.value}",
            field="user",
            rule="impact_assessment_not_treating_physician",
        )
