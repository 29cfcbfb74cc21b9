"""`GET /pathways/{reference}`: a patient's care pathway (pair, RCP, decision, consent, conditioning).

The reference is the pathway's id or the patient's pseudonym, never their identity.
As for ``/patients/{pseudonym}/timeline``, the access log records the route template
only, so a pseudonym in the path never reaches the log. A pathway is clinical: the
care team and auditors read it, never a sponsor or a courier.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.cli_pathway import pathway_state
from api.rest import access
from api.rest.access import allow
from api.rest.context import ApiContext, context
from api.rest.reads import READ_PROBLEMS
from api.rest.tokens import Principal
from api.rest.writes import COLLECTIONS
from domain.pathway import PatientPathway
from projections import registers

router = APIRouter(tags=["registers"])
resolve_pathway = next(collection.resolve for collection in COLLECTIONS if collection.kind == "pathway")


@router.get(
    "/pathways/{reference}", response_model=dict[str, Any], responses=READ_PROBLEMS, summary="A patient's pathway"
)
def one_pathway(
    reference: Annotated[str, "the pathway's UUID or the patient's pseudonym"],
    principal: Annotated[Principal, Depends(allow("read care pathways", access.PATHWAY_READERS))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> dict[str, Any]:
    """Where the pathway stands: the pair, RCP outcome, treatment decision, consent, lymphodepletion courses and the
    open treatment order (manufacturer, apheresis day, manufacturing slot, planned infusion), if any."""
    pathway_id = resolve_pathway(reference)
    found = registers.one(ctx.ledger.load, pathway_id, PatientPathway, "care pathway", repr(reference), "reference")
    return pathway_state(found)
