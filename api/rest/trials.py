"""`GET /trials` and `GET /trials/{reference}`: the registered trials, so a user can find the protocol to enrol under.

A sponsor's user sees only the trials it is authorised on (the same list that lets
it read their products); another trial answers 404, exactly as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.rest import access
from api.rest.access import allow
from api.rest.context import ApiContext, context
from api.rest.reads import READ_PROBLEMS
from api.rest.sponsor_scope import is_sponsor
from api.rest.tokens import Principal
from api.rest.writes import COLLECTIONS
from domain.errors import NotFound
from domain.trial import Trial
from projections import registers

router = APIRouter(tags=["registers"])
resolve_trial = next(collection.resolve for collection in COLLECTIONS if collection.kind == "trial")
Reader = Annotated[Principal, Depends(allow("read the trials", access.REGISTER_READERS))]


def shown_to(principal: Principal, trial: Trial) -> bool:
    """A sponsor's user sees a trial only when authorised on it; every other role sees every trial."""
    return not is_sponsor(principal) or principal.username in trial.sponsor_users


@router.get("/trials", response_model=list[dict[str, Any]], responses=READ_PROBLEMS, summary="Registered trials")
def list_trials(principal: Reader, ctx: Annotated[ApiContext, Depends(context)]) -> list[dict[str, Any]]:
    """Every trial this reader may see, by protocol."""
    return registers.trials(ctx.ledger.store, ctx.ledger.load, lambda trial: shown_to(principal, trial))


@router.get("/trials/{reference}", response_model=dict[str, Any], responses=READ_PROBLEMS, summary="One trial")
def one_trial(
    reference: Annotated[str, "the trial's protocol or UUID"],
    principal: Reader,
    ctx: Annotated[ApiContext, Depends(context)],
) -> dict[str, Any]:
    """A trial by its protocol (or id): sponsor, EU CT number and the sponsor's users who read its products."""
    found = registers.one(ctx.ledger.load, resolve_trial(reference), Trial, "trial", repr(reference), "protocol")
    if not shown_to(principal, found):
        raise NotFound(f"no trial visible to you is registered as {reference!r}", field="protocol")
    return registers.trial_entry(found)
