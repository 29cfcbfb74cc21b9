"""The gates a product passes on its patient's pathway: a pathway at all, treatment allowed, a current decision.

Every product belongs to its patient's pathway: enrolment, collection, conditioning and
infusion need an eligible RCP decision no older than the site allows, the pair's two
signatures and consent not withdrawn. A pseudonym with no pathway is refused — a typo
must never switch the pathway rules off. The one way around is a site's signed
``PathwayManagedElsewhereDeclared`` setting, which enrolment copies onto the product
(``PathwayManagedElsewhereApplied``) so every later step, and every reader, sees it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.aggregate import Loader
from domain.errors import NotFound, OutOfOrder, RuleViolation, TimeRuleViolation
from domain.pathway import PatientPathway, pathway_id_for
from domain.staff import StaffMember, staff_id_for


def find_pathway(load: Loader, pseudonym: str) -> PatientPathway | None:
    """The patient's pathway, or None when the ledger holds none for this pseudonym."""
    found = load(pathway_id_for(pseudonym)) if pseudonym.strip() else None
    return found if isinstance(found, PatientPathway) else None


def require_pathway(load: Loader, pseudonym: str, step: str, *, exempt_by: str | None) -> PatientPathway | None:
    """The patient's pathway; None only for a product a site's pathway-managed-elsewhere setting covers."""
    pathway = find_pathway(load, pseudonym)
    if pathway is not None or exempt_by is not None:
        return pathway
    raise OutOfOrder(
        f"cannot record {step}: the ledger holds no care pathway for patient {pseudonym!r}; enrol the patient "
        "(PatientEnrolled, an eligible RCP decision, the pair's co-signed decision and consent) first, or check the "
        "pseudonym",
        field="payload.patient_pseudonym",
        rule="pathway_required",
    )


def check_treatment_allowed(pathway: PatientPathway, step: str) -> None:
    """Enrolment, collection, conditioning and infusion need an eligible RCP, the pair's two signatures, consent."""
    refusals = treatment_refusals(pathway, step)
    if refusals:
        raise refusals[0]


def treatment_refusals(pathway: PatientPathway, step: str) -> list[OutOfOrder]:
    """Every reason the pathway refuses treatment, most serious first: a step is refused for the first one,
    and a unit preparing an irreversible step is shown them all (domain/infusion_readiness.py)."""
    who = f"patient {pathway.pseudonym}"
    refusals = []
    if pathway.consent_withdrawn:
        stopped = f"cannot record {step}: {who} withdrew consent; the pathway is stopped"
        refusals.append(OutOfOrder(stopped, rule="consent_withdrawn"))
    if pathway.rcp_outcome != "eligible":
        refusals.append(
            OutOfOrder(
                f"cannot record {step}: {who} has no eligible RCP decision (latest: {pathway.rcp_outcome or 'none'})",
                rule="rcp_not_eligible",
            )
        )
    if not pathway.decision_cosigned:
        refusals.append(
            OutOfOrder(
                f"cannot record {step}: {who}'s treatment decision is not signed by both members of the pair",
                rule="treatment_decision_not_cosigned",
            )
        )
    if not pathway.consent_signed:
        refusals.append(OutOfOrder(f"cannot record {step}: {who} has no signed consent", rule="consent_required"))
    return refusals


def check_rcp_current(pathway: PatientPathway, at: datetime, valid_days: int, step: str, field: str) -> None:
    """A decision judges the patient as at the meeting: it counts ``valid_days``, then the RCP decides again."""
    meeting = pathway.rcp_meeting_at
    if meeting is None or at - meeting <= timedelta(days=valid_days):
        return
    age = (at - meeting).days
    raise TimeRuleViolation(
        f"cannot record {step}: patient {pathway.pseudonym}'s RCP decision of {meeting.date().isoformat()} is {age} "
        f"days old at {field} ({at.isoformat()}); a decision counts for {valid_days} days "
        "(CUSTODY_RCP_DECISION_VALID_DAYS): present the patient to the RCP again",
        field=field,
        rule="rcp_decision_expired",
    )


def check_registered_physician(load: Loader, user_id: str, field: str, *, printed_name: str | None = None) -> None:
    """A physician named in a step is a registered staff member whose role is physician, named as registered."""
    member = load(staff_id_for(user_id)) if user_id.strip() else None
    if not isinstance(member, StaffMember):
        raise NotFound(
            f"{field} {user_id!r} is not a registered staff member; name the physician by their username",
            field=field,
            rule="staff_not_registered",
        )
    if member.role != "physician":
        raise RuleViolation(
            f"{field} {user_id!r} ({member.name}) is registered as {member.role}, not as a physician",
            field=field,
            rule="not_a_physician",
        )
    if printed_name is not None and printed_name.strip() != member.name:
        name_field = field.removesuffix(".user_id") + ".name"
        raise RuleViolation(
            f"{name_field} {printed_name!r} is not how {user_id} is registered ({member.name!r})",
            field=name_field,
            rule="staff_name_mismatch",
        )


def check_lymphodepletion(
    pathway: PatientPathway, window: tuple[int, int] | None, product_code: str, started: datetime
) -> None:
    """A CAR-T infusion follows conditioning, inside the product's window counted from its last day."""
    day = started.date()
    courses = [course for course in pathway.lymphodepletions if course.ended_on <= day]
    if not courses:
        raise OutOfOrder(
            f"no lymphodepletion is recorded for patient {pathway.pseudonym} before {day.isoformat()}; record "
            "LymphodepletionRecorded, or a physician's LymphodepletionOverrideRecorded with a written reason",
            field="payload.started_at",
            rule="lymphodepletion_missing",
        )
    if window is None:
        return
    latest = max(course.ended_on for course in courses)
    gap = (day - latest).days
    low, high = window
    if not low <= gap <= high:
        raise TimeRuleViolation(
            f"infusion on {day.isoformat()} is {gap} days after lymphodepletion ended ({latest.isoformat()}); "
            f"{product_code} is infused {low} to {high} days after it, unless a physician records "
            "LymphodepletionOverrideRecorded with a written reason",
            field="payload.started_at",
            rule="lymphodepletion_window",
        )
