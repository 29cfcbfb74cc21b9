"""`GET /sites` and `GET /sites/{reference}`: the registered sites, so a user can find the codes steps name.

Each site comes with its accreditations (accreditor, reference, scope, validity,
withdrawal), the activities it is covered for today, and its signed "pathway managed
elsewhere" setting, if any. Sites are public to every role: a code is not patient
data, and anyone who records a step must be able to find it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.rest import access
from api.rest.access import allow
from api.rest.context import ApiContext, context
from api.rest.reads import READ_PROBLEMS
from api.rest.tokens import Principal
from api.rest.writes import COLLECTIONS
from domain.site import Site
from projections import registers

router = APIRouter(tags=["registers"])
resolve_site = next(collection.resolve for collection in COLLECTIONS if collection.kind == "site")
Reader = Annotated[Principal, Depends(allow("read the sites", access.REGISTER_READERS))]


@router.get("/sites", response_model=list[dict[str, Any]], responses=READ_PROBLEMS, summary="Registered sites")
def list_sites(principal: Reader, ctx: Annotated[ApiContext, Depends(context)]) -> list[dict[str, Any]]:
    """Every registered site by code, with its accreditations and what they cover today."""
    return registers.sites(ctx.ledger.store, ctx.ledger.load, ctx.ledger.clock.now().date())


@router.get("/sites/{reference}", response_model=dict[str, Any], responses=READ_PROBLEMS, summary="One site")
def one_site(
    reference: Annotated[str, "the site's code or UUID"],
    principal: Reader,
    ctx: Annotated[ApiContext, Depends(context)],
) -> dict[str, Any]:
    """A site by its code (or id): accreditations, their scope and validity, and its pathway setting."""
    found = registers.one(ctx.ledger.load, resolve_site(reference), Site, "site", repr(reference), "code")
    return registers.site_entry(found, ctx.ledger.clock.now().date())
