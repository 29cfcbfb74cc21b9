"""The gates a product passes on its patient's pathway: treatment allowed, accredited site, conditioning.

Product rules call these at collection and infusion. Backwards compatible by design:
a product whose patient has no pathway in the ledger (recorded before pathways
existed, or at a site that does not keep them) is judged by the custody rules
alone; as soon as the pathway exists, its rules apply — and so does the site registry,
since pathway care happens only in registered, accredited centres.
"""

from __future__ import annotations

from datetime import datetime

from domain.aggregate import Loader
from domain.errors import NotFound, OutOfOrder, RuleViolation, TimeRuleViolation
from domain.pathway import PatientPathway, pathway_id_for
from domain.site import Activity, Site, site_id_for


def find_pathway(load: Loader, pseudonym: str) -> PatientPathway | None:
    """The patient's pathway, or None when the ledger holds none for this pseudonym."""
    found = load(pathway_id_for(pseudonym)) if pseudonym else None
    return found if isinstance(found, PatientPathway) else None


def check_treatment_allowed(pathway: PatientPathway, step: str) -> None:
    """Collection, conditioning and infusion need an eligible RCP, the pair's two signatures and consent."""
    who = f"patient {pathway.pseudonym}"
    if pathway.consent_withdrawn:
        raise OutOfOrder(
            f"cannot record {step}: {who} withdrew consent; the pathway is stopped", rule="consent_withdrawn"
        )
    if pathway.rcp_outcome != "eligible":
        raise OutOfOrder(
            f"cannot record {step}: {who} has no eligible RCP decision (latest: {pathway.rcp_outcome or 'none'})",
            rule="rcp_not_eligible",
        )
    if not pathway.decision_cosigned:
        raise OutOfOrder(
            f"cannot record {step}: {who}'s treatment decision is not signed by both members of the pair",
            rule="treatment_decision_not_cosigned",
        )
    if not pathway.consent_signed:
        raise OutOfOrder(f"cannot record {step}: {who} has no signed consent", rule="consent_required")


def check_site_accredited(
    load: Loader, code: str, activity: Activity, at: datetime, *, required: bool, field: str
) -> None:
    """A registered site must hold an accreditation covering the activity that day; pathway care needs one."""
    site = load(site_id_for(code)) if code else None
    if not isinstance(site, Site):
        if required:
            raise NotFound(
                f"{field} {code!r} is not a registered site; a patient on a care pathway is treated only in "
                "registered, accredited centres (record SiteRegistered first)",
                field=field,
                rule="site_not_registered",
            )
        return
    day = at.date()
    if not site.covers(activity, day):
        raise RuleViolation(
            f"{site.name} ({site.code}) holds no accreditation covering {activity.value} on {day.isoformat()}",
            field=field,
            rule="site_not_accredited",
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
