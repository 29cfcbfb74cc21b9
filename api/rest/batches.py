"""`GET /batches` and `GET /batches/{id}`: the MSC bank batches, their release and the doses left.

A physician or pharmacist enrolling an MSC product looks up the batch id and the
doses still free; the QP sees QC, release and recall. A sponsor sees only batches
with a dose allocated to its trials' products, and only those allocations.
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
from domain.batch import BankBatch
from domain.errors import NotFound
from projections import registers

router = APIRouter(tags=["registers"])
Reader = Annotated[Principal, Depends(allow("read bank batches", access.REGISTER_READERS))]


def _entry(ctx: ApiContext, principal: Principal, batch: BankBatch) -> dict[str, Any] | None:
    """The batch as this reader may see it; None when a sponsor may see none of its allocations."""
    shown = set(visible_products(ctx, principal, batch.allocated.values()))
    if is_sponsor(principal) and not shown:
        return None
    return registers.batch_entry(batch, {dose: p for dose, p in batch.allocated.items() if p in shown})


@router.get("/batches", response_model=list[dict[str, Any]], responses=READ_PROBLEMS, summary="MSC bank batches")
def list_batches(principal: Reader, ctx: Annotated[ApiContext, Depends(context)]) -> list[dict[str, Any]]:
    """Every bank batch, by lot, with its QC, release, recall and doses left."""
    batches = registers.every(ctx.ledger.store, ctx.ledger.load, "BatchRegistered", BankBatch)
    entries = [_entry(ctx, principal, batch) for batch in batches]
    return sorted((entry for entry in entries if entry is not None), key=lambda entry: entry["lot"])


@router.get("/batches/{batch_id}", response_model=dict[str, Any], responses=READ_PROBLEMS, summary="A bank batch")
def one_batch(batch_id: UUID, principal: Reader, ctx: Annotated[ApiContext, Depends(context)]) -> dict[str, Any]:
    """One bank batch: lot, donor DIN, product, QC, release, recall and the doses allocated."""
    found = registers.one(ctx.ledger.load, batch_id, BankBatch, "bank batch", str(batch_id), "batch_id")
    entry = _entry(ctx, principal, found)
    if entry is None:
        raise NotFound(f"no bank batch visible to you has the id {batch_id}", field="batch_id")
    return entry
