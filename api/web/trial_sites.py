"""`/ui/trials/{protocol}/sites`: a trial's checklist per site, what is missing shown in red.

The same report as `custody trial readiness` and `GET /trials/{protocol}/sites`; a
sponsor's user sees only its own trials (another answers 404, as one that does not exist).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from api.rest import access
from api.rest.context import ApiContext, context
from api.rest.sponsor_scope import is_sponsor
from api.rest.tokens import Principal
from api.trial_readiness import site_readiness, trial_of
from api.web.rendering import render
from api.web.views import web_allow
from domain.errors import NotFound

router = APIRouter(prefix="/ui", include_in_schema=False)
Reader = Annotated[Principal, Depends(web_allow("read the trials", access.REGISTER_READERS))]


@router.get("/trials/{protocol}/sites", response_class=HTMLResponse)
def trial_sites_page(
    protocol: str, request: Request, principal: Reader, ctx: Annotated[ApiContext, Depends(context)]
) -> HTMLResponse:
    """Each site's status and prerequisites today, with the evidence and who signed it."""
    trial = trial_of(ctx.ledger, protocol)
    if is_sponsor(principal) and principal.username not in trial.sponsor_users:
        raise NotFound(f"no trial is registered under protocol {protocol!r}", field="protocol")
    return render(request, "trial_sites.html", site_readiness(ctx.ledger, trial, ctx.ledger.clock.now().date()))
