"""The trial site's rules: opened for a registered trial and site, attested with complete evidence, activated ready.

A sponsor user signs only for a trial the registry lists them on; each prerequisite is
attested by a role that can vouch for it (domain/trial_site_attesters.py) and the named
pair by physicians whose specialties fit (domain/trial_site_pair.py); activation is refused
unless every prerequisite holds on the day, naming each one missing; and
``check_trial_site_active`` is the gate enrolment, collection and infusion pass for a
product in a registered trial.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from domain.aggregate import Loader
from domain.errors import InvalidInput, NotFound, OutOfOrder, RuleViolation, TimeRuleViolation
from domain.events import NewEvent, Role
from domain.pathway_gates import check_registered_physician
from domain.payloads import parse_date
from domain.site_gates import registered_site
from domain.spec import Command, Decider
from domain.staff import StaffMember, staff_id_for
from domain.trial import Trial, trial_id_for
from domain.trial_prerequisite import Prerequisite
from domain.trial_site import (
    EXPIRING,
    PER_PERSON,
    Status,
    TrialPrerequisiteAttested,
    TrialSite,
    TrialSiteOpened,
    TrialStaffDesignated,
    trial_site_id_for,
)
from domain.trial_site_attesters import check_attester
from domain.trial_site_pair import check_pair_specialty
from domain.trial_site_readiness import describe_missing, missing


def _trial_site(cmd: Command) -> TrialSite:
    assert isinstance(cmd.current, TrialSite)
    return cmd.current


def _check_sponsor_on_trial(cmd: Command, protocol: str) -> None:
    """A sponsor signs for its own trial only: the one whose sponsor users list it."""
    if cmd.ctx.actor.role != Role.SPONSOR:
        return
    trial = cmd.load(trial_id_for(protocol))
    if not isinstance(trial, Trial) or cmd.ctx.actor.user_id not in trial.sponsor_users:
        raise RuleViolation(
            f"{cmd.ctx.actor.user_id} is not a sponsor user of trial {protocol}; "
            "a sponsor signs for its own trials only",
            field="user",
            rule="sponsor_not_on_trial",
        )


def _open_site(cmd: Command) -> TrialSite:
    """The target, signed for by its sponsor or an administrator, and not closed."""
    trial_site = _trial_site(cmd)
    _check_sponsor_on_trial(cmd, trial_site.protocol)
    if trial_site.status == Status.CLOSED:
        raise OutOfOrder(
            f"{trial_site.site_code} is closed for trial {trial_site.protocol}; nothing more is recorded on it",
            rule="trial_site_closed",
        )
    return trial_site


def open_trial_site(cmd: Command) -> list[NewEvent]:
    """A registered trial at a registered site, under the id derived from both."""
    payload: TrialSiteOpened = cmd.payload
    expected = trial_site_id_for(payload.protocol, payload.site_code)
    if cmd.aggregate_id != expected:
        raise InvalidInput(
            f"aggregate_id {cmd.aggregate_id} is not the trial site id of {payload.protocol!r} at "
            f"{payload.site_code!r} ({expected}); a trial site's id is derived from both",
            field="aggregate_id",
            rule="aggregate_id_mismatch",
        )
    if not isinstance(cmd.load(trial_id_for(payload.protocol)), Trial):
        raise NotFound(
            f"payload.protocol {payload.protocol!r} is not a registered trial (record TrialRegistered first)",
            field="payload.protocol",
            rule="trial_not_registered",
        )
    registered_site(cmd.load, payload.site_code, "payload.site_code")
    _check_sponsor_on_trial(cmd, payload.protocol)
    for name in ("indications", "activities"):
        values = getattr(payload, name)
        if len(set(values)) != len(values):
            raise InvalidInput(f"payload.{name} lists a value twice", field=f"payload.{name}", rule="duplicate_value")
    return [cmd.record()]


def attest_prerequisite(cmd: Command) -> list[NewEvent]:
    """Signed by a role that can vouch for it; evidence complete for its kind: validity, person, GMO class."""
    trial_site = _open_site(cmd)
    payload: TrialPrerequisiteAttested = cmd.payload
    kind = payload.prerequisite
    check_attester(kind, cmd.ctx.actor.role)
    start = parse_date(payload.valid_from, field="payload.valid_from")
    if payload.valid_until is None and kind in EXPIRING:
        raise InvalidInput(
            f"payload.valid_until is required for {kind}: it lapses, and the site stops being ready that day",
            field="payload.valid_until",
            rule="valid_until_required",
        )
    if payload.valid_until is not None and parse_date(payload.valid_until, field="payload.valid_until") < start:
        raise TimeRuleViolation(
            f"payload.valid_until {payload.valid_until} is before payload.valid_from {payload.valid_from}",
            field="payload.valid_until",
            rule="ends_before_start",
        )
    if kind == Prerequisite.GMO_AUTHORISATION and trial_site.product_kind != "car_t":
        raise RuleViolation(
            f"payload.prerequisite gmo_authorisation applies to a genetically modified product; this site's trial "
            f"product is {trial_site.product_kind}",
            field="payload.prerequisite",
            rule="gmo_not_applicable",
        )
    if kind == Prerequisite.GMO_AUTHORISATION and payload.gmo_class is None:
        raise InvalidInput(
            "payload.gmo_class is required for a GMO confined-use authorisation (class 1 to 4)",
            field="payload.gmo_class",
            rule="gmo_class_required",
        )
    _check_person(cmd, trial_site, kind, payload.user_id)
    return [cmd.record()]


def _check_person(cmd: Command, trial_site: TrialSite, kind: Prerequisite, user_id: str | None) -> None:
    """The pair are registered physicians of the right specialty; a training names a registered person."""
    if kind not in PER_PERSON:
        if user_id is not None:
            raise InvalidInput(
                f"payload.user_id names a person, but {kind} is not attested for a person",
                field="payload.user_id",
                rule="user_not_expected",
            )
        return
    if user_id is None:
        raise InvalidInput(f"payload.user_id is required for {kind}", field="payload.user_id", rule="user_required")
    if kind == Prerequisite.STAFF_TRAINING:
        check_registered_staff(cmd.load, user_id, "payload.user_id")
    else:
        check_registered_physician(cmd.load, user_id, "payload.user_id")
        check_pair_specialty(kind, user_id, trial_site.indications, cmd.load)


def check_registered_staff(load: Loader, user_id: str, field: str) -> None:
    """The person is a registered staff member."""
    if not isinstance(load(staff_id_for(user_id)) if user_id.strip() else None, StaffMember):
        raise NotFound(
            f"{field} {user_id!r} is not a registered staff member; name the person by their username",
            field=field,
            rule="staff_not_registered",
        )


def designate_staff(cmd: Command) -> list[NewEvent]:
    """A registered person, designated once."""
    trial_site = _open_site(cmd)
    payload: TrialStaffDesignated = cmd.payload
    check_registered_staff(cmd.load, payload.user_id, "payload.user_id")
    if payload.user_id in trial_site.team:
        raise OutOfOrder(
            f"payload.user_id {payload.user_id} is already designated for trial {trial_site.protocol} at "
            f"{trial_site.site_code}",
            field="payload.user_id",
            rule="already_designated",
        )
    return [cmd.record()]


def activate(cmd: Command) -> list[NewEvent]:
    """Only when every prerequisite holds on the day of the activation; the refusal names each one missing."""
    trial_site = _open_site(cmd)
    if trial_site.status == Status.ACTIVE:
        raise OutOfOrder(f"{trial_site.site_code} is already active for {trial_site.protocol}", rule="already_active")
    gaps = missing(trial_site, cmd.load, cmd.occurred_at.date())
    if gaps:
        raise RuleViolation(
            f"{trial_site.site_code} cannot be activated for trial {trial_site.protocol} on "
            f"{cmd.occurred_at.date().isoformat()}: missing {describe_missing(gaps)}",
            field=f"prerequisites.{gaps[0].name}",
            rule="trial_site_not_ready",
        )
    return [cmd.record()]


def suspend(cmd: Command) -> list[NewEvent]:
    """Only an active site is suspended."""
    trial_site = _open_site(cmd)
    if trial_site.status != Status.ACTIVE:
        raise OutOfOrder(
            f"{trial_site.site_code} is {trial_site.status} for {trial_site.protocol}, not active",
            rule="trial_site_not_active",
        )
    return [cmd.record()]


def close(cmd: Command) -> list[NewEvent]:
    """A site closes once."""
    _open_site(cmd)
    return [cmd.record()]


def check_trial_site_active(load: Loader, protocol: str | None, site_code: str, at: datetime, *, field: str) -> None:
    """A step for a trial happens at a site active for it and ready on the step's day.

    A product naming no trial is not a trial product. One naming a trial the registry does not hold is refused:
    a typo in the protocol must not switch the trial's rules off.
    """
    if not protocol:
        return
    if not isinstance(load(trial_id_for(protocol)), Trial):
        raise NotFound(
            f"payload.trial_protocol {protocol!r} is not a registered trial; check the protocol number, or register "
            "the trial (TrialRegistered) and activate its sites first",
            field="payload.trial_protocol",
            rule="trial_not_registered",
        )
    trial_site = load(trial_site_id_for(protocol, site_code))
    day = at.date()
    if not isinstance(trial_site, TrialSite):
        raise RuleViolation(
            f"{field} {site_code!r} is not opened for trial {protocol}: no prerequisite is recorded and the sponsor "
            "has not activated it",
            field=field,
            rule="trial_site_not_activated",
        )
    gaps = missing(trial_site, load, day)
    active = trial_site.status == Status.ACTIVE and trial_site.activated_at is not None
    if not active or (trial_site.activated_at is not None and day < trial_site.activated_at.date()):
        what = (
            f"missing {describe_missing(gaps)}" if gaps else "every prerequisite is met; the sponsor must activate it"
        )
        raise RuleViolation(
            f"{field} {site_code!r} is not activated for trial {protocol} on {day.isoformat()} "
            f"({trial_site.status}): {what}",
            field=field,
            rule="trial_site_not_activated",
        )
    if gaps:
        raise RuleViolation(
            f"{field} {site_code!r} is no longer ready for trial {protocol} on {day.isoformat()}: missing "
            f"{describe_missing(gaps)}",
            field=field,
            rule="trial_site_not_ready",
        )


DECIDERS: Mapping[str, Decider] = {
    "TrialSiteOpened": open_trial_site,
    "TrialPrerequisiteAttested": attest_prerequisite,
    "TrialStaffDesignated": designate_staff,
    "TrialSiteActivated": activate,
    "TrialSiteSuspended": suspend,
    "TrialSiteClosed": close,
}
