"""The COI label: its DataMatrix, and a page the size of a bag label to print.

The label carries the COI twice, as Code 128 for the linear scanners and as an
ISBT 128 DataMatrix for 2D imagers, with the eye-readable COI and its check
character (docs/labels.md). Nothing on it names the patient: the pseudonym
is printed, the identity stays sealed in the ledger.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse

from api.rest.context import ApiContext, context
from api.rest.reads import visible
from api.rest.tokens import Principal
from api.web import barcode
from api.web.rendering import render
from api.web.session import web_principal
from api.web.views import product_reference
from domain.errors import NotFound
from domain.identifiers import Coi
from projections.status_query import status_now

router = APIRouter(prefix="/ui", include_in_schema=False)
Signed = Annotated[Principal, Depends(web_principal)]
Ctx = Annotated[ApiContext, Depends(context)]


def _status(ctx: ApiContext, principal: Principal, reference: str) -> tuple[UUID, dict[str, object]]:
    product_id = product_reference(reference)
    if not visible(ctx, principal, product_id):
        raise NotFound(f"no product visible to you has the id {reference}", field="product")
    return product_id, status_now(ctx.ledger.store, product_id, ctx.ledger.clock.now(), ctx.ledger.catalogue)


@router.get("/products/{reference}/datamatrix.svg")
def datamatrix(reference: str, principal: Signed, ctx: Ctx) -> Response:
    """The COI's ISBT 128 data structure (``&/`` + COI) as a DataMatrix (SVG)."""
    _product_id, status = _status(ctx, principal, reference)
    return Response(barcode.datamatrix_svg(Coi(str(status["coi"])).data_structure), media_type="image/svg+xml")


@router.get("/products/{reference}/label", response_class=HTMLResponse)
def label_page(reference: str, request: Request, principal: Signed, ctx: Ctx) -> HTMLResponse:
    """The COI label on a page the size of a bag label (100 × 50 mm), to print."""
    product_id, status = _status(ctx, principal, reference)
    coi = Coi(str(status["coi"]))
    return render(request, "label.html", {"product_id": product_id, "status": status, "coi": coi})
