"""`GET /catalogue`: the signed product catalogue in force, and who changed what, when and why.

The figures every step is judged by (storage limits, windows, bag counts, release panels),
the site's mapping and its SHA-256 (what `custody catalogue diff` compares a file with), and
each signed ``CatalogueChanged`` with its signer, meaning, times, reason and the settings it
changed (projections/catalogue_view.py). Changes are signed with `custody catalogue apply`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.rest import access
from api.rest.access import allow
from api.rest.context import ApiContext, context
from api.rest.reads import READ_PROBLEMS
from api.rest.tokens import Principal
from projections.catalogue_view import catalogue_view

router = APIRouter(tags=["registers"])
Reader = Annotated[Principal, Depends(allow("read the product catalogue", access.CATALOGUE_READERS))]


@router.get("/catalogue", response_model=dict[str, Any], responses=READ_PROBLEMS, summary="The signed catalogue")
def signed_catalogue(principal: Reader, ctx: Annotated[ApiContext, Depends(context)]) -> dict[str, Any]:
    """The catalogue in force (entries, mapping, sha256) and the history of its signed changes, oldest first."""
    return catalogue_view(ctx.ledger.catalogues.aggregate())
