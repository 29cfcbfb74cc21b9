"""`GET /trials/{protocol}/sites`: each site's readiness for a trial, prerequisite by prerequisite.

A sponsor's user sees only the trials it is authorised on; another trial answers 404,
exactly as one that does not exist, so it learns nothing of other sponsors' sites.
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
from api.trial_readiness import site_readiness, trial_of
from domain.errors import NotFound

router = APIRouter(tags=["registers"])
Reader = Annotated[Principal, Depends(allow("read the trials", access.REGISTER_READERS))]


@router.get(
    "/trials/{protocol}/sites",
    response_model=dict[str, Any],
    responses=READ_PROBLEMS,
    summary="A trial's sites and their readiness",
)
def trial_sites(protocol: str, principal: Reader, ctx: Annotated[ApiContext, Depends(context)]) -> dict[str, Any]:
    """Per site: status, ready today or not, each prerequisite (met, missing, expiring within 60 days) and evidence."""
    trial = trial_of(ctx.ledger, protocol)
    if is_sponsor(principal) and principal.username not in trial.sponsor_users:
        raise NotFound(f"no trial is registered under protocol {protocol!r}", field="protocol")
    return site_readiness(ctx.ledger, trial, ctx.ledger.clock.now().date())
