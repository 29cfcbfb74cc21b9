"""`GET /products/{id}/fhir`: one product's history as a FHIR R5 Bundle, for systems that speak FHIR.

The same readers as the product's status, under the same rule: a sponsor reads only the
products of its trials, and any other product answers 404 exactly as one that does not
exist (api/rest/reads.py). The bundle names the patient by pseudonym only and carries each
step's signature and hash (projections/fhir_export.py; mapping in docs/fhir.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from api.rest import access
from api.rest.access import allow
from api.rest.context import ApiContext, context
from api.rest.problems import ApiProblem, responses
from api.rest.reads import SignedJSON, resolve_product, visible
from api.rest.tokens import Principal
from domain.errors import NotFound
from projections.fhir_export import ProductNotFound, export_fhir

router = APIRouter(tags=["reading"])
FHIR_JSON = "application/fhir+json"


class FhirJSON(SignedJSON):
    """The bundle as FHIR's own JSON media type."""

    media_type = FHIR_JSON


@router.get(
    "/products/{reference}/fhir",
    response_model=dict[str, Any],
    response_class=FhirJSON,
    responses=responses(401, 403, 404, 409, 422, 503),
    summary="A product's history as a FHIR R5 Bundle",
)
def product_fhir(
    reference: str,
    principal: Annotated[Principal, Depends(allow("read products", access.PRODUCT_READERS))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> Response:
    """A ``collection`` Bundle: the product and its bags, the pseudonymous patient, apheresis and infusion, the
    dispense, QC results and adverse events, and one Provenance per signed step with its signature and hash."""
    product_id = resolve_product(reference)
    if not visible(ctx, principal, product_id):
        raise NotFound(f"no product visible to you has the id {reference}", field="product_id")
    try:
        bundle = export_fhir(ctx.ledger, product_id)
    except ProductNotFound:
        raise NotFound(f"no product has the id {reference}", field="product_id") from None
    except (LookupError, TypeError, ValueError, AttributeError):
        # A stored history this version cannot replay (a hostile or older event): say so, never a 500.
        raise ApiProblem(
            409,
            "Conflict",
            "this product's stored history cannot be replayed into FHIR; run `custody verify` to locate the event",
            rule="history_not_replayable",
            field="product_id",
        ) from None
    return FhirJSON(bundle)
