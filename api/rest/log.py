"""The transparency log served to monitors: consistency proofs between any two tree sizes.

Every signed-in role may read it, as it may read the latest checkpoint: the proofs
and roots say nothing about any product or patient, only that the log grew by
appending. The answer is the one `custody proof --json` prints.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.rest import access
from api.rest.access import allow
from api.rest.context import ApiContext, context
from api.rest.problems import responses
from api.rest.tokens import Principal
from ledger.consistency import consistency_answer

router = APIRouter(tags=["reading"])


class ConsistencyProof(BaseModel):
    """PROOF(from, D[to]) of RFC 9162 §2.1.4, with both roots and any checkpoint the ledger signed at either size."""

    from_: int = Field(alias="from", description="The earlier tree size (the checkpoint you kept).")
    to: int = Field(description="The later tree size (default: the latest signed checkpoint).")
    from_root: str = Field(description="The log's root at `from`, base64: compare with your checkpoint.")
    to_root: str = Field(description="The log's root at `to`, base64.")
    proof: list[str] = Field(description="The proof's hashes, base64, in RFC 9162 order.")
    from_checkpoint: str | None = Field(description="The ledger's signed note at `from`, if it signed one.")
    to_checkpoint: str | None = Field(description="The ledger's signed note at `to`, if it signed one.")
    model_config = {"populate_by_name": True}


@router.get(
    "/log/consistency",
    response_model=ConsistencyProof,
    response_model_by_alias=True,
    responses=responses(401, 403, 422, 503),
    summary="A consistency proof between two tree sizes",
)
def consistency(
    principal: Annotated[Principal, Depends(allow("read the log", access.EVERYONE))],
    ctx: Annotated[ApiContext, Depends(context)],
    old: Annotated[str | None, Query(alias="from", description="The tree size you already trust.")] = None,
    new: Annotated[str | None, Query(alias="to", description="A later tree size.")] = None,
) -> dict[str, Any]:
    """Check it with `verify_consistency` (RFC 9162 §2.1.4.2) and the two signed roots you hold."""
    return consistency_answer(ctx.ledger.store, old, new)
