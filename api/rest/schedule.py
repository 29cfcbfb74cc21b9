"""`GET /schedule`: the planning worklist of open treatment orders (apheresis, manufacturing slot, infusion).

The care team and auditors read it, as they read the pathways the orders belong to
(access.PATHWAY_READERS); patients appear by pseudonym only. ``since`` defaults to today
in the site's time zone.
"""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query

from api.rest import access
from api.rest.access import allow
from api.rest.context import ApiContext, context
from api.rest.problems import responses
from api.rest.tokens import Principal
from domain.payloads import parse_date
from projections.schedule_query import schedule

router = APIRouter(tags=["reading"])


@router.get(
    "/schedule",
    response_model=dict[str, Any],
    responses=responses(401, 403, 422, 503),
    summary="Upcoming apheresis, manufacturing slot and infusion days of the open treatment orders",
)
def planned(
    principal: Annotated[Principal, Depends(allow("read the schedule", access.PATHWAY_READERS))],
    ctx: Annotated[ApiContext, Depends(context)],
    since: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD; default today.")] = None,
) -> dict[str, Any]:
    """One row per planned day: ``day``, ``kind`` (apheresis, manufacturing_slot, infusion), the pseudonym, the
    manufacturer and the order's version on the pathway."""
    today = ctx.ledger.clock.now().astimezone(ZoneInfo(ctx.ledger.settings.timezone)).date()
    day = parse_date(since, field="since") if since is not None else today
    return {"since": day.isoformat(), "planned": schedule(ctx.ledger, day)}
