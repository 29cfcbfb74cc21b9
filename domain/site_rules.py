"""The registry's rules: a site is registered once under its own code; accreditations are well formed."""

from __future__ import annotations

from collections.abc import Mapping

from domain.errors import InvalidInput, OutOfOrder, TimeRuleViolation
from domain.events import NewEvent
from domain.payloads import parse_date
from domain.site import AccreditationGranted, AccreditationWithdrawn, Site, SiteRegistered, site_id_for
from domain.spec import Command, Decider


def _site(cmd: Command) -> Site:
    assert isinstance(cmd.current, Site)
    return cmd.current


def register_site(cmd: Command) -> list[NewEvent]:
    """A site's id is derived from its code, so the code cannot later name another site."""
    payload: SiteRegistered = cmd.payload
    expected = site_id_for(payload.code)
    if cmd.aggregate_id != expected:
        raise InvalidInput(
            f"aggregate_id {cmd.aggregate_id} is not the site id of {payload.code!r} ({expected}); "
            "a site's id is derived from its code",
            field="aggregate_id",
            rule="aggregate_id_mismatch",
        )
    return [cmd.record()]


def grant_accreditation(cmd: Command) -> list[NewEvent]:
    """An accreditation's validity runs forwards, and its activities are listed once."""
    payload: AccreditationGranted = cmd.payload
    start = parse_date(payload.valid_from, field="payload.valid_from")
    end = parse_date(payload.valid_until, field="payload.valid_until")
    if end < start:
        raise TimeRuleViolation(
            f"payload.valid_until {end.isoformat()} is before payload.valid_from {start.isoformat()}",
            field="payload.valid_until",
            rule="ends_before_start",
        )
    if len(set(payload.scope)) != len(payload.scope):
        raise InvalidInput("payload.scope lists an activity twice", field="payload.scope", rule="duplicate_activity")
    return [cmd.record()]


def withdraw_accreditation(cmd: Command) -> list[NewEvent]:
    """Only an accreditation the site holds, and has not already lost, can be withdrawn."""
    site = _site(cmd)
    payload: AccreditationWithdrawn = cmd.payload
    held = site.accreditations.get(payload.reference)
    if held is None:
        known = ", ".join(site.accreditations) or "none"
        raise InvalidInput(
            f"payload.reference {payload.reference!r} is not an accreditation of {site.code} (held: {known})",
            field="payload.reference",
            rule="unknown_accreditation",
        )
    if held.withdrawn_on is not None:
        raise OutOfOrder(f"accreditation {payload.reference} is already withdrawn", rule="already_withdrawn")
    return [cmd.record()]


def declare_pathway_managed_elsewhere(cmd: Command) -> list[NewEvent]:
    """The setting is declared once; declaring it again would hide that it was already in force."""
    site = _site(cmd)
    if site.pathway_managed_elsewhere is not None:
        raise OutOfOrder(
            f"{site.code}'s pathway is already declared managed elsewhere ({site.pathway_managed_elsewhere})",
            rule="pathway_setting_already_declared",
        )
    return [cmd.record()]


def revoke_pathway_managed_elsewhere(cmd: Command) -> list[NewEvent]:
    """Only a setting in force can be revoked."""
    site = _site(cmd)
    if site.pathway_managed_elsewhere is None:
        raise OutOfOrder(
            f"{site.code} has no pathway-managed-elsewhere setting in force to revoke",
            rule="pathway_setting_not_declared",
        )
    return [cmd.record()]


def waive_duty_segregation(cmd: Command) -> list[NewEvent]:
    """The setting is declared once, so its reason and its signer stay the ones in force."""
    site = _site(cmd)
    if site.duty_segregation_waived is not None:
        raise OutOfOrder(
            f"{site.code} already waives the segregation of duties ({site.duty_segregation_waived})",
            rule="duty_setting_already_declared",
        )
    return [cmd.record()]


def restore_duty_segregation(cmd: Command) -> list[NewEvent]:
    """Only a waiver in force can end."""
    site = _site(cmd)
    if site.duty_segregation_waived is None:
        raise OutOfOrder(
            f"{site.code} has no duty-segregation waiver in force to end", rule="duty_setting_not_declared"
        )
    return [cmd.record()]


DECIDERS: Mapping[str, Decider] = {
    "DutySegregationWaived": waive_duty_segregation,
    "DutySegregationRestored": restore_duty_segregation,
    "SiteRegistered": register_site,
    "AccreditationGranted": grant_accreditation,
    "AccreditationWithdrawn": withdraw_accreditation,
    "PathwayManagedElsewhereDeclared": declare_pathway_managed_elsewhere,
    "PathwayManagedElsewhereRevoked": revoke_pathway_managed_elsewhere,
}
