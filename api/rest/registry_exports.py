"""Registry rows over HTTP: the periodic DESCAR-T or EBMT submission, and one product's rows.

The same rows as `custody registry-export` (projections/registry_export.py), as JSON: the
registry's columns in order, one object per row, and the COIs withheld for want of the
patient's consent. The care team and auditors read them (access.REGISTRY_EXPORTERS);
the pseudonym is the only patient reference, and it is in the body, never the URL.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.rest import access
from api.rest.access import allow
from api.rest.context import ApiContext, context
from api.rest.problems import responses
from api.rest.reads import resolve_product
from api.rest.tokens import Principal
from domain.payloads import parse_date
from projections.registry_export import export_product, export_since, registry_format

router = APIRouter(tags=["reading"])
Exporter = Annotated[Principal, Depends(allow("read registry exports", access.REGISTRY_EXPORTERS))]


@router.get(
    "/registry-exports/{registry}",
    response_model=dict[str, Any],
    responses=responses(401, 403, 409, 422, 503),
    summary="Rows for DESCAR-T or EBMT: one per treated patient and per follow-up visit",
)
def registry_rows(
    registry: str,
    principal: Exporter,
    ctx: Annotated[ApiContext, Depends(context)],
    since: Annotated[
        str | None, Query(max_length=10, description="YYYY-MM-DD: only infusions and visits on or after this day.")
    ] = None,
) -> dict[str, object]:
    """``registry`` is ``descar-t`` or ``ebmt``; 409 ``registry_field_missing`` names every fact to record first."""
    fmt = registry_format(registry)
    day = parse_date(since, field="since") if since is not None else None
    return export_since(ctx.ledger, fmt, day).to_json()


@router.get(
    "/products/{reference}/registry/{registry}",
    response_model=dict[str, Any],
    responses=responses(401, 403, 404, 409, 422, 503),
    summary="One product's registry rows",
)
def product_registry_rows(
    reference: str, registry: str, principal: Exporter, ctx: Annotated[ApiContext, Depends(context)]
) -> dict[str, object]:
    """409 when the product was never infused, is outside the registry's scope, its patient did not agree to
    transmission, or a required fact is missing; each names its rule and the field."""
    fmt = registry_format(registry)
    return export_product(ctx.ledger, resolve_product(reference), fmt).to_json()
