"""`GET /shipments` and `GET /shipments/{id}`: each shipper's route, custodian, pending hand-over and contents.

A courier, pharmacist or QP looks up the shipment id a hand-over or a receipt is
recorded on; the custodian is whoever accepted the shipper last, and
``handing_over_to`` the party it is offered to until that party accepts. A sponsor
sees only shipments carrying its trials' products, and only those products.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends

from api.rest import access
from api.rest.access import allow
from api.rest.context import ApiContext, context
from api.rest.reads import READ_PROBLEMS
from api.rest.sponsor_scope import is_sponsor, visible_products
from api.rest.tokens import Principal
from domain.errors import NotFound
from domain.shipment import Shipment
from projections import registers

router = APIRouter(tags=["registers"])
Reader = Annotated[Principal, Depends(allow("read shipments", access.REGISTER_READERS))]


def _entry(ctx: ApiContext, principal: Principal, shipment: Shipment) -> dict[str, Any] | None:
    """The shipment as this reader may see it; None when a sponsor may see none of its products."""
    units = visible_products(ctx, principal, shipment.units)
    if is_sponsor(principal) and not units:
        return None
    return registers.shipment_entry(shipment, units)


@router.get("/shipments", response_model=list[dict[str, Any]], responses=READ_PROBLEMS, summary="Shipments")
def list_shipments(principal: Reader, ctx: Annotated[ApiContext, Depends(context)]) -> list[dict[str, Any]]:
    """Every shipment, most recently dispatched first, with where it stands."""
    shipments = registers.every(ctx.ledger.store, ctx.ledger.load, "ShipmentDispatched", Shipment)
    entries = [_entry(ctx, principal, shipment) for shipment in reversed(shipments)]
    return [entry for entry in entries if entry is not None]


@router.get("/shipments/{shipment_id}", response_model=dict[str, Any], responses=READ_PROBLEMS, summary="A shipment")
def one_shipment(shipment_id: UUID, principal: Reader, ctx: Annotated[ApiContext, Depends(context)]) -> dict[str, Any]:
    """One shipment: route, temperature class, custodian, pending hand-over, seal, receipt and contents."""
    found = registers.one(ctx.ledger.load, shipment_id, Shipment, "shipment", str(shipment_id), "shipment_id")
    entry = _entry(ctx, principal, found)
    if entry is None:
        raise NotFound(f"no shipment visible to you has the id {shipment_id}", field="shipment_id")
    return entry
