"""`POST /cois`: a fresh COI under this site's FIN, so an integrator enrolling a product need not invent one.

A COI is reserved by enrolling it: the product's id is derived from it and ``ProductEnrolled``
opens that id once (a second enrolment is refused ``already_exists``). The sequence is drawn at
random from the 36⁶ the standard allows and checked unused, rather than counted up: two callers
at the same moment then never receive the same COI (a counter would hand both the same next
number until one enrolled), and the COIs printed on labels say nothing of how many patients a
site treats. The year is the site's (``CUSTODY_TIMEZONE``), as printed on its labels.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends

from api.rest.access import allow
from api.rest.context import ApiContext, context
from api.rest.problems import ApiProblem, responses
from api.rest.tokens import Principal
from domain.identifiers import Coi, allocate_coi, product_id_for
from domain.registry import EVENT_TYPES
from ledger.service import CustodyLedger

router = APIRouter(tags=["writing"])
ENROLLERS = frozenset(str(role) for role in EVENT_TYPES["ProductEnrolled"].roles)
"""Who may ask for a COI: who may enrol the product it is for."""
_ALPHABET = string.ascii_uppercase + string.digits
ATTEMPTS = 8


def fresh_coi(ledger: CustodyLedger, draw: Callable[[str], str] = secrets.choice) -> Coi:
    """A COI of this facility and year that no product carries yet; ``draw`` picks one character."""
    year = ledger.clock.now().astimezone(ZoneInfo(ledger.settings.timezone)).year
    for _ in range(ATTEMPTS):
        coi = allocate_coi(ledger.settings.facility, year, "".join(draw(_ALPHABET) for _ in range(6)))
        if ledger.load(product_id_for(coi)) is None:
            return coi
    raise ApiProblem(
        503, "Service unavailable", f"no unused COI found in {ATTEMPTS} draws; try again",
        rule="coi_allocation_failed", field="coi",
    )  # fmt: skip


@router.post(
    "/cois",
    status_code=201,
    response_model=dict[str, Any],
    responses=responses(401, 403, 503),
    summary="A fresh COI for this facility, to enrol a product under",
)
def allocate(
    principal: Annotated[Principal, Depends(allow("allocate COIs", ENROLLERS))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> dict[str, Any]:
    """The COI (as stored and as printed), the facility and the product id it will give; enrol it with
    ``POST /products`` (``payload.coi``). Nothing is stored until then."""
    coi = fresh_coi(ctx.ledger)
    return {
        "coi": coi.value,
        "eye_readable": coi.eye_readable,
        "facility": ctx.ledger.settings.facility,
        "product_id": str(product_id_for(coi)),
    }
