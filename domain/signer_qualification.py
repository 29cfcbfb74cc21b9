"""At signing: the signer holds a qualification covering the step, valid on the day they sign.

21 CFR Part 11 §11.10(i) and FACT-JACIE's training records (domain/staff_qualification.py).
The requirement is the default for every custody step (steps on products, shipments,
pathways, batches and donations): a unit that has recorded no training is refused, not
silently let through. Annotations and alarms need none — a deviation, a near miss or a
temperature excursion must always reach the ledger — nor do the ledger's own signatures.

The day is the clock's date when the signature is made: the training must be current
when the person answers for the step, whatever time they give for it.
"""

from __future__ import annotations

from datetime import date

from domain.aggregate import Loader
from domain.errors import RuleViolation
from domain.events import Context, Role
from domain.spec import EventSpec
from domain.staff import StaffMember, staff_id_for
from domain.staff_qualification import (
    QUALIFIED_KINDS,
    RENEWED_BY,
    SAFETY_REPORTS,
    Qualification,
    QualificationState,
)


def requires_qualification(spec: EventSpec) -> bool:
    """True for a custody step someone performs; false for registers, annotations, alarms and derived facts."""
    return (
        spec.kind in QUALIFIED_KINDS
        and not spec.annotation
        and spec.derived_from is None
        and spec.name not in SAFETY_REPORTS
    )


def check_signer_qualified(spec: EventSpec, ctx: Context, load: Loader) -> None:
    """Refuse the step unless the signer holds a qualification for it valid on the clock's date."""
    if not requires_qualification(spec) or ctx.actor.role == Role.SYSTEM:
        return
    user = ctx.actor.user_id
    member = ctx.signer if _is_record_of(ctx.signer, user) else load(staff_id_for(user))
    day = ctx.now.date()
    scoped = member.qualifications_for(spec.name) if isinstance(member, StaffMember) else []
    if any(qualification.covers(spec.name, day) for qualification in scoped):
        return
    if not scoped:
        raise RuleViolation(
            f"{user} holds no qualification for {spec.name}: a person signs only the steps their training record "
            f"covers (21 CFR 11.10(i), FACT-JACIE); {RENEWED_BY} records one "
            f"(`custody staff qualify {user} --events {spec.name} ...`)",
            field="user",
            rule="qualification_missing",
        )
    raise _lapsed(user, spec.name, max(scoped, key=lambda q: q.valid_until), day)


def _is_record_of(record: object, user: str) -> bool:
    return isinstance(record, StaffMember) and record.username == user


def _lapsed(user: str, step: str, latest: Qualification, day: date) -> RuleViolation:
    """Why the qualification that would cover the step does not cover it today, and who puts it right."""
    state = latest.state(day)
    renew = f"{RENEWED_BY} renews it (`custody staff qualify {user} --reference {latest.reference} ...`)"
    described = f"qualification {latest.reference!r} of {user} for {latest.describe_scope()}"
    if state is QualificationState.WITHDRAWN and latest.withdrawn_on is not None:
        return RuleViolation(
            f"{described} was withdrawn on {latest.withdrawn_on.isoformat()}: it no longer covers {step}; {renew}",
            field="user",
            rule="qualification_withdrawn",
        )
    if state is QualificationState.NOT_YET_VALID:
        return RuleViolation(
            f"{described} is valid from {latest.valid_from.isoformat()}, not on {day.isoformat()}: "
            f"{step} waits until then",
            field="user",
            rule="qualification_not_yet_valid",
        )
    return RuleViolation(
        f"{described} expired: it was valid until {latest.valid_until.isoformat()} and today is "
        f"{day.isoformat()}; {renew} (it was recorded by {latest.recorded_by})",
        field="user",
        rule="qualification_expired",
    )
