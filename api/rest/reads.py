"""Reads: product status and history, patient timelines, inventory, audit trail, metrics, verification.

Every read catches its projection up first, so it answers with everything stored
so far. A sponsor sees only the products of the trials it is authorised on; a
product of another trial answers 404, exactly as a product that does not exist,
so a sponsor learns nothing about other trials. Patient identity is never
returned: the pseudonym only.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.rest import access
from api.rest.access import allow
from api.rest.context import ApiContext, context
from api.rest.problems import ApiProblem, responses
from api.rest.read_routing import READ_FROM, read_store
from api.rest.tokens import Principal
from api.rest.writes import COLLECTIONS, StoredEvent
from domain.errors import NotFound
from domain.events import Actor, Role
from domain.product import TherapyProduct
from domain.trial import visible_to
from ledger.audit_log import read_audit
from ledger.bundle import export_bundle
from ledger.clock import instant_field
from ledger.document_check import document_notes
from ledger.envelope import Envelope
from ledger.store import EventStore
from ledger.trust_anchor import home_trust_anchor
from ledger.verifier import VerifyOptions, stored_checkpoints, verify_store
from projections import queries
from projections.status_query import list_status, status_as_of, status_now

router = APIRouter(tags=["reading"])
READ_PROBLEMS = responses(401, 403, 404, 422, 503)
resolve_product = COLLECTIONS[0].resolve
ProductReference = Annotated[str, "the product's UUID or its COI"]
UNREPLAYABLE = (LookupError, TypeError, ValueError, AttributeError)
"""What replaying a stored payload of an unexpected shape raises (undecodable bytes are a ValueError)."""


class SignedJSON(JSONResponse):
    """Signed events exactly as stored, even text UTF-8 cannot carry: a lone surrogate travels as its
    JSON escape (``\\ud800``), as in the stored bytes, instead of failing the answer."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


class ProductStatus(BaseModel):
    """A product's projected status: state, custodian, location, holds, running deadlines."""

    product_id: str
    coi: str
    state: str
    version: int = Field(description="The product's version: send it as If-Match with the next step.")
    model_config = {"extra": "allow"}


class QcTestReading(BaseModel):
    """One test of the release panel: measured value and unit (or reading), criterion, computed verdict."""

    name: str
    in_panel: bool = Field(description="False for a test the catalogue's panel does not list (shown as declared).")
    criterion: str = Field(description='The acceptance criterion as a QP reads it ("≥ 80 %", "no growth").')
    value: Any = Field(description="The measured value (numeric tests), as signed; None when missing.")
    unit: Any = Field(description="The unit the value was measured in.")
    result: Any = Field(description='The reading as signed ("61 %", "no growth").')
    verdict: str = Field(description="in_spec, out_of_spec, or missing (no result yet: the panel is incomplete).")
    verdict_basis: str | None = Field(description="computed from the value and criterion, or declared.")
    corrected_by: list[int] = Field(description="The EventCorrected versions that changed this result.")
    original: dict[str, Any] | None = Field(description="When corrected: the reading first signed, and its verdict.")
    model_config = {"extra": "allow"}


class QcPanel(BaseModel):
    """The current lot's QC results against the release panel of the catalogue in force."""

    lot: str
    complete: bool | None = Field(description="Whether every test of the panel has a result (release needs it).")
    missing: list[str]
    out_of_specification: list[str]
    tests: list[QcTestReading]
    model_config = {"extra": "allow"}


class CorrectionChain(BaseModel):
    """A corrected fact: its original values, each correction in order, the values in force, side by side."""

    version: int
    event_type: str
    original: dict[str, Any]
    corrections: list[dict[str, Any]] = Field(description="Who, when, why, which fields; each names what it corrects.")
    in_force: dict[str, Any]
    changes: list[dict[str, Any]] = Field(description="Each differing value: path, original, in_force.")
    model_config = {"extra": "allow"}


class ProductStatusDetails(ProductStatus):
    """One product's status with what is read from its history at query time."""

    qc: QcPanel | None = Field(description="None before manufacture, for a bank dose, or a history not replayable.")
    corrections: list[CorrectionChain] | None = Field(description="None when the history cannot be replayed.")


class ProductHistory(BaseModel):
    """Every signed event of one product, in the order the ledger stored them."""

    product_id: UUID
    events: list[StoredEvent]


class Checkpoint(BaseModel):
    """The ledger's latest signed checkpoint (a C2SP signed note)."""

    origin: str
    size: int = Field(description="How many events the checkpoint covers.")
    root_hash: str = Field(description="RFC 9162 Merkle tree head over those events, base64.")
    note: str = Field(description="The signed note, verifiable with the ledger's public key.")


class Verification(BaseModel):
    """The whole ledger re-verified: hashes, signatures, chains, keys and checkpoints."""

    intact: bool
    events: int
    aggregates: int
    checkpoints: int
    failures: list[dict[str, Any]]
    trust_anchor: bool = Field(description="Whether ledger.pub was used to anchor the key history.")
    notes: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Sealed documents this server cannot open, never failures: shredded_document (the patient's "
        "identity was erased) or document_not_checkable_here (identity.kek is not on this host).",
    )


def _actor(principal: Principal) -> Actor:
    return Actor(user_id=principal.username, name=principal.name, role=principal.role)


def visible(ctx: ApiContext, principal: Principal, product_id: UUID) -> bool:
    """Whether the product is readable; a sponsor's trial is learnt by replay, so a product whose stored
    history cannot be replayed (a hostile or older event) is not shown to a sponsor rather than failing the list."""
    if principal.role != Role.SPONSOR:
        return True
    try:
        product = ctx.ledger.load(product_id)
        return isinstance(product, TherapyProduct) and visible_to(_actor(principal), product, ctx.ledger.load)
    except UNREPLAYABLE:
        return False


def _product_id(ctx: ApiContext, principal: Principal, reference: str) -> UUID:
    product_id = resolve_product(reference)
    if not visible(ctx, principal, product_id):
        raise NotFound(f"no product visible to you has the id {reference}", field="product_id")
    return product_id


def _product_history(
    ctx: ApiContext, principal: Principal, reference: str, store: EventStore | None = None
) -> tuple[UUID, list[Envelope]]:
    """A readable product's id and signed events (from ``store``: the replica's or the primary's); 404 otherwise."""
    product_id = _product_id(ctx, principal, reference)
    history = (store or ctx.ledger.store).history(product_id)
    if not history or history[0].body.get("aggregate_kind") != "product":
        raise NotFound(f"no product has the id {reference}", field="product_id")
    return product_id, history


def _instant(text: str | None, field: str) -> datetime | None:
    return None if text is None else instant_field(text, field)


@router.get("/products", response_model=list[ProductStatus], responses=READ_PROBLEMS, summary="List products")
def products(
    request: Request,
    response: Response,
    principal: Annotated[Principal, Depends(allow("read products", access.PRODUCT_READERS))],
    ctx: Annotated[ApiContext, Depends(context)],
    state: Annotated[str | None, Query(max_length=64, description="Only products in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Every product's status, most recently changed first (a sponsor's: its trials' only)."""
    store, now = read_store(request, response, ctx, principal), ctx.ledger.clock.now()
    if principal.role != Role.SPONSOR:
        return list_status(store, now, state=state, limit=limit, offset=offset)
    # A sponsor sees its trials' products only: filtered here, so the page is cut after the filter.
    rows = [row for row in list_status(store, now, state=state) if visible(ctx, principal, UUID(row["product_id"]))]
    return rows[offset : offset + limit]


@router.get(
    "/products/{reference}",
    response_model=ProductStatusDetails,
    responses=READ_PROBLEMS,
    summary="A product's status",
)
def product(
    reference: str,
    request: Request,
    response: Response,
    principal: Annotated[Principal, Depends(allow("read products", access.PRODUCT_READERS))],
    ctx: Annotated[ApiContext, Depends(context)],
    as_of: Annotated[
        str | None, Query(description="ISO 8601 with offset: what the ledger had recorded by then.")
    ] = None,
) -> dict[str, Any]:
    """Status now (from the projection), or as of a moment (replayed from the signed events). ETag: its version.

    ``qc`` lists each test of the release panel beside its criterion, with the computed verdict, missing tests, and a
    corrected result beside the one first signed; ``corrections`` shows every corrected fact's chain."""
    product_id = _product_id(ctx, principal, reference)
    moment = _instant(as_of, "as_of")
    store = read_store(request, response, ctx, principal)
    if moment is None:
        row = status_now(store, product_id, ctx.ledger.clock.now(), ctx.ledger.catalogue)
    else:
        row = status_as_of(store, product_id, moment, ctx.ledger.catalogue)
    response.headers["ETag"] = f'"{row["version"]}"'
    return row


@router.get(
    "/products/{reference}/timeline",
    response_model=ProductHistory,
    responses=READ_PROBLEMS,
    summary="A product's signed history",
)
def product_timeline(
    reference: str,
    request: Request,
    principal: Annotated[Principal, Depends(allow("read products", access.PRODUCT_READERS))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> Response:
    """Every event of the product with its hash and signature, oldest first."""
    routed = Response()
    product_id, history = _product_history(ctx, principal, reference, read_store(request, routed, ctx, principal))
    answer = SignedJSON({"product_id": str(product_id), "events": [envelope.to_json() for envelope in history]})
    if READ_FROM in routed.headers:  # only the routing header: the scratch response's own length is not this one's
        answer.headers[READ_FROM] = routed.headers[READ_FROM]
    return answer


@router.get(
    "/products/{reference}/export",
    response_model=dict[str, Any],
    responses=READ_PROBLEMS,
    summary="A product's verification bundle",
)
def product_export(
    reference: str,
    principal: Annotated[Principal, Depends(allow("export products", access.PRODUCT_READERS))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> Response:
    """The offline bundle (docs/bundle-format.md): events, inclusion proofs, checkpoint, keys. Verify it with
    `custody verify-bundle`, which opens no store."""
    product_id, _ = _product_history(ctx, principal, reference)
    return SignedJSON(export_bundle(ctx.ledger, product_id))


@router.get(
    "/patients/{pseudonym}/timeline",
    response_model=list[dict[str, Any]],
    responses=READ_PROBLEMS,
    summary="A patient's timeline",
)
def patient_timeline(
    pseudonym: Annotated[str, "the patient's pseudonym, never their identity"],
    principal: Annotated[Principal, Depends(allow("read patient timelines", access.PATIENT_READERS))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> list[dict[str, Any]]:
    """Every event of every product of the patient, in the order things happened (pseudonym only)."""
    return queries.timeline(ctx.ledger.store, pseudonym)


@router.get("/inventory", response_model=list[dict[str, Any]], responses=READ_PROBLEMS, summary="Units on hand")
def inventory(
    principal: Annotated[Principal, Depends(allow("read the inventory", access.INVENTORY_READERS))],
    ctx: Annotated[ApiContext, Depends(context)],
    site: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Units on hand by site, LN2 tank, rack, box and position, with status; one page (500 units unless asked)."""
    return queries.inventory(ctx.ledger.store, site, limit=limit, offset=offset)


@router.get("/audit", response_model=dict[str, list[dict[str, Any]]], responses=READ_PROBLEMS, summary="Audit trail")
def audit(
    principal: Annotated[Principal, Depends(allow("read the audit trail", access.AUDIT_READERS))],
    ctx: Annotated[ApiContext, Depends(context)],
    user: Annotated[str | None, Query(max_length=128)] = None,
    since: Annotated[str | None, Query(description="ISO 8601 with offset.")] = None,
    role: Annotated[str | None, Query(max_length=32)] = None,
    site: Annotated[str | None, Query(max_length=128)] = None,
) -> dict[str, Any]:
    """Every signed event by user, role, site and time, plus the near misses and deviations.

    An auditor or an administrator also gets ``security_log``: the audit-log rows (identity
    reveals and erasures, wrong signing passwords, signing locks and unlocks; pseudonyms, never
    an identity), filtered by the same ``user`` (as actor or subject) and ``since``.
    """
    moment = _instant(since, "since")
    trail: dict[str, Any] = queries.audit(ctx.ledger.store, user=user, since=moment, role=role, site=site)
    if principal.role in {str(role) for role in access.SECURITY_LOG_READERS}:
        rows = read_audit(ctx.ledger.store, person=user, since=moment)
        trail["security_log"] = [entry.to_dict() for entry in rows]
    return trail


@router.get("/metrics", response_model=list[dict[str, Any]], responses=READ_PROBLEMS, summary="Turnaround metrics")
def metrics(
    principal: Annotated[Principal, Depends(allow("read metrics", access.METRICS_READERS))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> list[dict[str, Any]]:
    """Vein-to-vein, collection-to-release and release-to-infusion, in days, per product kind and site."""
    return queries.metrics(ctx.ledger.store)


@router.get("/verify", response_model=Verification, responses=READ_PROBLEMS, summary="Verify the whole ledger")
def verify(
    request: Request,
    response: Response,
    principal: Annotated[Principal, Depends(allow("verify the ledger", access.VERIFIERS))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> dict[str, Any]:
    """Re-check every stored event and checkpoint from the raw rows, anchored in ledger.pub (on the replica if any)."""
    trusted = home_trust_anchor(ctx.settings.home)
    options = VerifyOptions(trusted=trusted, ledger_id=ctx.ledger.meta.ledger_id(), workers=ctx.settings.verify_workers)
    store = read_store(request, response, ctx, principal)
    report = verify_store(store, options)
    notes = [finding.to_json() for finding in document_notes(store)]  # as `custody verify` prints them
    return {**report.to_json(), "trust_anchor": trusted is not None, "notes": notes}


@router.get("/checkpoints/latest", response_model=Checkpoint, responses=READ_PROBLEMS, summary="The latest checkpoint")
def latest_checkpoint(
    principal: Annotated[Principal, Depends(allow("read checkpoints", access.EVERYONE))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> dict[str, Any]:
    """The latest signed checkpoint: keep a copy, and later `custody verify --against` it."""
    stored = stored_checkpoints(ctx.ledger.store)
    if not stored:
        raise ApiProblem(404, "Not found", "no checkpoint has been signed yet", rule="not_found")
    last = stored[-1]
    return {
        "origin": last.origin,
        "size": last.size,
        "root_hash": base64.b64encode(last.root).decode(),
        "note": last.note,
    }
