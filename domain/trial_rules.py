"""The trial registry's rules: one trial per protocol number, sponsor users listed once."""

from __future__ import annotations

from collections.abc import Mapping

from domain.errors import InvalidInput, OutOfOrder
from domain.events import NewEvent
from domain.spec import Command, Decider
from domain.trial import SponsorUserAuthorised, SponsorUserRevoked, Trial, TrialRegistered, trial_id_for


def _trial(cmd: Command) -> Trial:
    assert isinstance(cmd.current, Trial)
    return cmd.current


def register_trial(cmd: Command) -> list[NewEvent]:
    """A trial's id is derived from its protocol number, the one products carry."""
    payload: TrialRegistered = cmd.payload
    expected = trial_id_for(payload.protocol)
    if cmd.aggregate_id != expected:
        raise InvalidInput(
            f"aggregate_id {cmd.aggregate_id} is not the trial id of protocol {payload.protocol!r} ({expected}); "
            "a trial's id is derived from its protocol number",
            field="aggregate_id",
            rule="aggregate_id_mismatch",
        )
    return [cmd.record()]


def authorise_sponsor_user(cmd: Command) -> list[NewEvent]:
    """A user is authorised once."""
    payload: SponsorUserAuthorised = cmd.payload
    trial = _trial(cmd)
    if payload.user_id in trial.sponsor_users:
        raise OutOfOrder(f"{payload.user_id} already sees trial {trial.protocol}", rule="already_authorised")
    return [cmd.record()]


def revoke_sponsor_user(cmd: Command) -> list[NewEvent]:
    """Only an authorised user can be revoked."""
    payload: SponsorUserRevoked = cmd.payload
    trial = _trial(cmd)
    if payload.user_id not in trial.sponsor_users:
        raise OutOfOrder(f"{payload.user_id} is not authorised on trial {trial.protocol}", rule="not_authorised")
    return [cmd.record()]


DECIDERS: Mapping[str, Decider] = {
    "TrialRegistered": register_trial,
    "SponsorUserAuthorised": authorise_sponsor_user,
    "SponsorUserRevoked": revoke_sponsor_user,
}
