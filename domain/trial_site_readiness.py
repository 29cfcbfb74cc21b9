"""Is a trial site ready on a given day? Each prerequisite's state (met, missing, expiring) with its evidence.

One function answers for activation, for the enrolment/collection/infusion gate and for
every view, so the refusal and the checklist never disagree. The accreditation is read
from the site registry (JACIE or SFGM-TC, covering each activity the site performs for
the trial, on the day); the rest from the trial site's attestations. An attestation counts
only when signed by a role that may vouch for it (domain/trial_site_attesters.py), and the
named pair only while their recorded specialties fit (domain/trial_site_pair.py). A
prerequisite met today whose evidence ends within ``EXPIRY_NOTICE_DAYS`` is shown as
expiring, so the site renews it before it stops being ready.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from domain.aggregate import Loader
from domain.site import Accreditation, Accreditor, Activity, Site, site_id_for
from domain.trial_prerequisite import Prerequisite
from domain.trial_site import Attestation, TrialSite
from domain.trial_site_attesters import ATTESTERS, may_attest
from domain.trial_site_pair import PAIR, SpecialtyCheck, specialty_check

EXPIRY_NOTICE_DAYS = 60
ACCREDITATION = "accreditation"
CELL_THERAPY_ACCREDITORS = frozenset({Accreditor.JACIE.value, Accreditor.SFGM_TC.value})


@dataclass(frozen=True)
class Check:
    """One prerequisite on one day: its state, why, the evidence behind it and, for the pair, the specialty check."""

    name: str
    state: str  # "met", "expiring" or "missing"
    detail: str
    evidence: tuple[dict[str, Any], ...] = ()
    specialty: SpecialtyCheck | None = None

    @property
    def ready(self) -> bool:
        """Met, possibly soon to expire: it holds on the day."""
        return self.state != "missing"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for the CLI and the HTTP API."""
        found = {"prerequisite": self.name, "state": self.state, "detail": self.detail, "evidence": list(self.evidence)}
        return found if self.specialty is None else {**found, "specialty": self.specialty.to_dict()}


def required(trial_site: TrialSite) -> list[str]:
    """The prerequisites this trial site must meet: a GMO authorisation only for a genetically modified product."""
    names = [ACCREDITATION, *(p.value for p in Prerequisite)]
    if trial_site.product_kind != "car_t":
        names.remove(Prerequisite.GMO_AUTHORISATION.value)
    return names


def readiness(trial_site: TrialSite, load: Loader, day: date) -> list[Check]:
    """Every required prerequisite's state on ``day``, in a fixed order."""
    return [_check(name, trial_site, load, day) for name in required(trial_site)]


def missing(trial_site: TrialSite, load: Loader, day: date) -> list[Check]:
    """The prerequisites not met on ``day``."""
    return [check for check in readiness(trial_site, load, day) if not check.ready]


def describe_missing(checks: list[Check]) -> str:
    """The missing prerequisites in words, one after the other."""
    return "; ".join(f"{check.name} ({check.detail})" for check in checks)


def _check(name: str, trial_site: TrialSite, load: Loader, day: date) -> Check:
    if name == ACCREDITATION:
        return _accreditation(trial_site, load, day)
    if name == Prerequisite.STAFF_TRAINING.value:
        return _training(trial_site, day)
    held = [a for (prerequisite, _), a in trial_site.attestations.items() if prerequisite == name]
    evidence = tuple(_evidence(a) for a in held)
    vouched = [a for a in held if may_attest(a.prerequisite, a.signer_role)]
    if held and not vouched:
        return Check(name, "missing", _why_not_vouched(held[-1]), evidence)
    valid = [a for a in vouched if a.holds_on(day)]
    if not valid:
        return Check(name, "missing", _why_missing(held, day), evidence)
    if name in PAIR:
        return _pair(name, valid[-1], trial_site, load, day)
    return _dated(name, valid, day, "attested")


def _pair(name: str, attestation: Attestation, trial_site: TrialSite, load: Loader, day: date) -> Check:
    """A half of the pair, met only while the named physician's recorded specialties fit it."""
    check = specialty_check(name, attestation.user_id or "", trial_site.indications, load)
    if not check.holds:
        return Check(name, "missing", check.detail, (_evidence(attestation),), check)
    return replace(_dated(name, [attestation], day, "attested"), specialty=check)


def _accreditation(trial_site: TrialSite, load: Loader, day: date) -> Check:
    site = load(site_id_for(trial_site.site_code))
    if not isinstance(site, Site):
        return Check(ACCREDITATION, "missing", f"{trial_site.site_code} is not a registered site")
    covering: list[Accreditation] = []
    uncovered = []
    for activity in trial_site.activities:
        found = [
            a for a in site.accreditations.values()
            if a.accreditor in CELL_THERAPY_ACCREDITORS and a.covers(Activity(activity), day)
        ]  # fmt: skip
        if found:
            covering.append(max(found, key=lambda a: a.valid_until))
        else:
            uncovered.append(activity)
    evidence = tuple(_accreditation_evidence(a) for a in dict.fromkeys(covering))
    if uncovered:
        detail = f"no JACIE or SFGM-TC accreditation covers {', '.join(uncovered)} on {day.isoformat()}"
        return Check(ACCREDITATION, "missing", detail, evidence)
    ends = min(a.valid_until for a in covering)
    return _state(ACCREDITATION, ends, day, "accredited", evidence)


def _training(trial_site: TrialSite, day: date) -> Check:
    name = Prerequisite.STAFF_TRAINING.value
    if not trial_site.team:
        return Check(name, "missing", "nobody is designated to sign steps for the trial at this site")
    trainings = {a.user_id: a for (p, _), a in trial_site.attestations.items() if p == name}
    evidence = tuple(_evidence(trainings[user]) for user in trial_site.team if user in trainings)
    not_vouched = [trainings[user] for user in trial_site.team
                   if user in trainings and not may_attest(name, trainings[user].signer_role)]  # fmt: skip
    if not_vouched:
        detail = "; ".join(f"{a.user_id}'s {_why_not_vouched(a)}" for a in not_vouched)
        return Check(name, "missing", detail, evidence)
    untrained = [user for user in trial_site.team if user not in trainings or not trainings[user].holds_on(day)]
    if untrained:
        return Check(name, "missing", f"not trained on the protocol on {day.isoformat()}: {', '.join(untrained)}",
                     evidence)  # fmt: skip
    return _dated(name, [trainings[user] for user in trial_site.team], day, "trained")


def _dated(name: str, valid: list[Attestation], day: date, verb: str) -> Check:
    ends = [a.valid_until for a in valid if a.valid_until is not None]
    return _state(name, min(ends) if ends else None, day, verb, tuple(_evidence(a) for a in valid))


def _state(name: str, ends: date | None, day: date, verb: str, evidence: tuple[dict[str, Any], ...]) -> Check:
    if ends is not None and ends <= day + timedelta(days=EXPIRY_NOTICE_DAYS):
        return Check(name, "expiring", f"{verb} until {ends.isoformat()}, within {EXPIRY_NOTICE_DAYS} days", evidence)
    return Check(name, "met", verb if ends is None else f"{verb} until {ends.isoformat()}", evidence)


def _why_not_vouched(attestation: Attestation) -> str:
    attesters = ATTESTERS[Prerequisite(attestation.prerequisite)]
    return (
        f"attestation signed by {attestation.signed_by} ({attestation.signer_role}), but {attestation.prerequisite} "
        f"is attested by {attesters.names()}"
    )


def _why_missing(held: list[Attestation], day: date) -> str:
    if not held:
        return "not attested"
    latest = max(held, key=lambda a: a.valid_from)
    if latest.valid_from > day:
        return f"valid only from {latest.valid_from.isoformat()}"
    assert latest.valid_until is not None
    return f"expired on {latest.valid_until.isoformat()}"


def _evidence(attestation: Attestation) -> dict[str, Any]:
    return {
        "reference": attestation.reference,
        "attested_by": attestation.attested_by,
        "signed_by": attestation.signed_by,
        "signed_by_name": attestation.signer_name,
        "signed_by_role": attestation.signer_role,
        "valid_from": attestation.valid_from.isoformat(),
        "valid_until": attestation.valid_until.isoformat() if attestation.valid_until else None,
        **({"user_id": attestation.user_id} if attestation.user_id else {}),
        **({"gmo_class": attestation.gmo_class} if attestation.gmo_class is not None else {}),
    }


def _accreditation_evidence(accreditation: Accreditation) -> dict[str, Any]:
    return {
        "reference": accreditation.reference,
        "attested_by": accreditation.accreditor,
        "valid_from": accreditation.valid_from.isoformat(),
        "valid_until": accreditation.valid_until.isoformat(),
        "scope": sorted(accreditation.scope),
    }
