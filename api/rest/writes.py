"""Writes: record one signed step on a product (or shipment, batch, pathway, site, trial).

Order of checks, each answering before the next is tried: the token (401), the
role against the event kind (403), the body's JSON and its ``type`` (422), the role
against that type (403), the headers (422), the idempotency key (a stored answer
is given again; 409 while the first copy runs), then the ledger: the expected
version (409), the domain's rules (404/409/422) and the signature (401 when the
password is needed). The answer is every stored event, with hash and signature.
"""

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.rest.access import allow, forbidden
from api.rest.access_log import note_change
from api.rest.body_limits import MAX_JSON_DEPTH, json_depth_exceeds
from api.rest.context import ApiContext, context
from api.rest.event_schemas import REF, kind_schemas, request_name, request_schema, requestable
from api.rest.problems import ApiProblem, responses
from api.rest.read_routing import note_write
from api.rest.tokens import Principal
from domain.errors import InvalidInput
from domain.events import Role
from domain.identifiers import parse_coi, product_id_for
from domain.manufacturing_schedule import schedule_id_for
from domain.pathway import pathway_id_for
from domain.registry import EVENT_TYPES
from domain.site import site_id_for
from domain.text import first_bad_text
from domain.trial import trial_id_for
from ledger.canonical import CanonicalizationError, canonical_json
from ledger.clock import instant_field
from ledger.envelope import Envelope
from ledger.idempotency import Claim, ClaimLost, ClaimState
from ledger.merkle_log import checkpoint_if_due
from ledger.recorders import InTransaction

LOG = logging.getLogger("custody.api")
router = APIRouter(tags=["recording"])
WRITE_PROBLEMS = responses(401, 403, 404, 409, 413, 422, 503, 507)
IDEMPOTENCY_KEY_MAX = 200
ENROL_TYPE = "ProductEnrolled"


class StoredEvent(BaseModel):
    """A stored event exactly as verifiers read it: the signed body, its SHA-256 and the Ed25519 signature."""

    body: dict[str, Any] = Field(description="The canonical (RFC 8785) body that was hashed and signed.")
    hash: str = Field(description="SHA-256 of the canonical body, hex.")
    signature: str = Field(description="Ed25519 signature (base64) over the context prefix and the hash.")


class WriteResult(BaseModel):
    """What one request stored: the requested event and any the domain derived from it, in order."""

    aggregate_id: UUID = Field(description="The aggregate the request was addressed to.")
    version: int = Field(description="Its version after this write: send it as If-Match next time.")
    events: list[StoredEvent]


@dataclass(frozen=True)
class Collection:
    """An addressable kind of aggregate, and how a reference to one becomes its id."""

    path: str
    kind: str
    resolve: Callable[[str], UUID]
    reference: str


def _uuid_or(derive: Callable[[str], UUID]) -> Callable[[str], UUID]:
    def resolve(reference: str) -> UUID:
        try:
            return UUID(reference)
        except ValueError:
            return derive(reference)

    return resolve


def _product(reference: str) -> UUID:
    return product_id_for(parse_coi(reference, field="product_id"))


def _uuid_only(reference: str) -> UUID:
    try:
        return UUID(reference)
    except ValueError:
        raise InvalidInput(f"{reference!r} is not a UUID", field="id", rule="invalid_identifier") from None


COLLECTIONS = (
    Collection("products", "product", _uuid_or(_product), "the product's UUID or its COI (as printed or scanned)"),
    Collection("shipments", "shipment", _uuid_only, "the shipment's UUID"),
    Collection("batches", "batch", _uuid_only, "the bank batch's UUID"),
    Collection("pathways", "pathway", _uuid_or(pathway_id_for), "the pathway's UUID or the patient's pseudonym"),
    Collection("sites", "site", _uuid_or(site_id_for), "the site's UUID or its code"),
    Collection("trials", "trial", _uuid_or(trial_id_for), "the trial's UUID or its protocol"),
    Collection("trial-sites", "trial_site", _uuid_only, "the trial site's UUID (`custody trial readiness` prints it)"),
    Collection(
        "manufacturing-schedules",
        "manufacturing_schedule",
        _uuid_or(schedule_id_for),
        "the schedule's UUID or the manufacturer's site code",
    ),
)


def writers(kind: str) -> frozenset[str]:
    """Every role that may record at least one event type of this kind."""
    return frozenset(str(role) for spec in requestable(kind) for role in spec.roles if role is not Role.SYSTEM)


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise ApiProblem(
            422, "Invalid request", f"the body is not JSON: {error}", rule="invalid_json", field="body"
        ) from None
    except RecursionError:
        body = None
    if body is None or json_depth_exceeds(body):
        raise ApiProblem(
            422, "Invalid request", f"the body is nested more than {MAX_JSON_DEPTH} levels deep",
            rule="too_deep", field="body",
        )  # fmt: skip
    if not isinstance(body, dict):
        raise ApiProblem(422, "Invalid request", "the body must be a JSON object", rule="not_an_object", field="body")
    bad_text = first_bad_text(body, "body")
    if bad_text is not None:  # named here: the canonical encoder below would trip on a lone surrogate first
        where, rule, why = bad_text
        field = where.removeprefix("body.")
        raise ApiProblem(422, "Invalid request", f"{field} {why}", rule=rule, field=field)
    try:
        canonical_json(body)  # what is signed and what identifies a retry: refuse what it cannot encode, not 500
    except CanonicalizationError as error:
        raise ApiProblem(
            422, "Invalid request", f"the body cannot be signed as canonical JSON (RFC 8785): {error}",
            rule="not_canonical_json", field="body",
        ) from None  # fmt: skip
    return body


def _expected_version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise ApiProblem(
            422,
            "Invalid request",
            f'If-Match {if_match!r} must be the version you read (the ETag), e.g. "3"',
            rule="invalid_if_match",
            field="If-Match",
        )
    return int(text)


def _idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not 1 <= len(value) <= IDEMPOTENCY_KEY_MAX or not value.isascii() or not value.isprintable():
        raise ApiProblem(
            422,
            "Invalid request",
            f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters (a UUID is ideal)",
            rule="invalid_idempotency_key",
            field="Idempotency-Key",
        )
    return value


def _text(body: dict[str, Any], name: str, required: bool) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ApiProblem(422, "Invalid request", f"{name} must be a string", rule="schema", field=name)
    return value


@dataclass(frozen=True)
class Step:
    """A write request, checked as far as the HTTP layer checks it."""

    event_type: str
    aggregate_id: UUID
    payload: dict[str, Any]
    meaning: str | None
    occurred_at: datetime | None
    password: str | None
    expected_version: int | None


def _step(
    kind: str, body: dict[str, Any], principal: Principal, aggregate_id: UUID | None, if_match: str | None
) -> Step:
    event_type = _text(body, "type", required=True)
    spec = EVENT_TYPES.get(event_type or "")
    if spec is None or spec.kind != kind or spec.derived_from is not None:
        known = ", ".join(s.name for s in requestable(kind))
        raise ApiProblem(
            422, "Invalid request", f"type {event_type!r} is not recorded here; use one of: {known}",
            rule="unknown_event_type", field="type",
        )  # fmt: skip
    if aggregate_id is None and spec.name != ENROL_TYPE:
        raise ApiProblem(
            422, "Invalid request", f"type {event_type!r} cannot open a product: POST /products takes {ENROL_TYPE}",
            rule="unknown_event_type", field="type",
        )  # fmt: skip
    if not spec.allows_role(principal.role):
        raise forbidden(principal, f"record {spec.name}", frozenset(str(r) for r in spec.roles))
    unknown = sorted(set(body) - {"type", "payload", "meaning", "occurred_at", "password"})
    if unknown:
        raise ApiProblem(
            422, "Invalid request", f"unknown field {unknown[0]!r}", rule="unknown_field", field=unknown[0]
        )
    payload = body.get("payload")
    if not isinstance(payload, dict):
        raise ApiProblem(422, "Invalid request", "payload must be a JSON object", rule="schema", field="payload")
    occurred = _text(body, "occurred_at", required=False)
    occurred_at = instant_field(occurred, "occurred_at") if occurred is not None else None
    if aggregate_id is None:
        coi = payload.get("coi")
        if not isinstance(coi, str):
            raise ApiProblem(422, "Invalid request", "payload.coi is required", rule="required", field="payload.coi")
        aggregate_id = product_id_for(parse_coi(coi, field="payload.coi"))
    return Step(
        event_type=spec.name,
        aggregate_id=aggregate_id,
        payload=payload,
        meaning=_text(body, "meaning", required=False),
        occurred_at=occurred_at,
        password=_text(body, "password", required=False),
        expected_version=_expected_version(if_match),
    )


def _request_hash(path: str, body: dict[str, Any], if_match: str | None) -> str:
    """What makes two requests "the same": path, body without the password, and If-Match."""
    stable = {"path": path, "body": {k: v for k, v in body.items() if k != "password"}, "if_match": if_match}
    return hashlib.sha256(canonical_json(stable)).hexdigest()


def _result(aggregate_id: UUID, envelopes: list[Envelope], ctx: ApiContext) -> dict[str, Any]:
    own = [e.version for e in envelopes if e.aggregate_id == aggregate_id]
    version = own[-1] if own else ctx.ledger.replay(ctx.ledger.history(aggregate_id))[1].version
    return {"aggregate_id": str(aggregate_id), "version": version, "events": [e.to_json() for e in envelopes]}


async def record_step(
    request: Request,
    response: Response,
    kind: str,
    aggregate_id: UUID | None,
    principal: Principal,
    ctx: ApiContext,
    if_match: str | None,
    idempotency_key: str | None,
) -> Any:
    """Check, sign and store one step; give a stored answer again to a retried request."""
    body = await _json_object(request)
    step = _step(kind, body, principal, aggregate_id, if_match)
    key = _idempotency_key(idempotency_key)
    claim = None
    if key is not None:
        request_hash = _request_hash(request.url.path, body, if_match)
        claim = await run_in_threadpool(
            ctx.idempotency.claim, principal.username, key, request_hash, ctx.ledger.clock.now()
        )
        if claim.state is not ClaimState.NEW:
            return _claimed(request, response, claim)

    def answer(envelopes: list[Envelope]) -> list[InTransaction]:
        if claim is None or key is None:
            return []
        result = _result(step.aggregate_id, envelopes, ctx)
        return [ctx.idempotency.answer_in_transaction(claim, principal.username, key, 201, result)]

    def store() -> list[Envelope]:
        return ctx.ledger.record(
            step.event_type, step.aggregate_id, step.payload,
            user=principal.username, meaning=step.meaning, password=step.password,
            occurred_at=step.occurred_at, expected_version=step.expected_version, session=principal.session,
            with_events=answer, channel="rest",
        )  # fmt: skip

    try:
        envelopes = await run_in_threadpool(store)
    except ClaimLost as lost:
        raise ApiProblem(
            409, "Request taken over by its retry", str(lost), rule=lost.rule, field="Idempotency-Key"
        ) from None
    except BaseException:
        if claim is not None and key is not None:
            await run_in_threadpool(ctx.idempotency.release, principal.username, key, claim)
        raise
    # Stored and committed (with its idempotent answer): nothing after this point may turn it into an error.
    result = _result(step.aggregate_id, envelopes, ctx)
    await run_in_threadpool(_checkpoint_after_write, ctx)
    await run_in_threadpool(note_write, ctx, principal, response)  # read-your-writes on a replica
    note_change(
        request,
        aggregate_id=result["aggregate_id"],
        event_types=[e["body"]["type"] for e in result["events"]],
        versions=[e["body"]["version"] for e in result["events"]],
    )
    response.status_code = 201
    response.headers["ETag"] = f'"{result["version"]}"'
    return result


def _claimed(request: Request, response: Response, claim: Claim) -> Any:
    """The answer to a request whose key was already claimed: the stored answer, or why there is none."""
    if claim.state is ClaimState.ANSWERED:
        stored = claim.response or {}
        note_change(request, replayed=True, aggregate_id=stored.get("aggregate_id"))
        response.headers["Idempotent-Replayed"] = "true"
        if "version" in stored:
            response.headers["ETag"] = f'"{stored["version"]}"'
        response.status_code = claim.status or 201
        return stored
    if claim.state is ClaimState.PENDING:
        raise ApiProblem(
            409, "Request in progress",
            f"a request with this Idempotency-Key started at {claim.created_at} has no answer yet: retry after "
            f"{claim.retry_after} s; if it was interrupted, nothing was stored and the retry will record the step once",
            rule="idempotency_in_progress", field="Idempotency-Key", headers={"Retry-After": str(claim.retry_after)},
        )  # fmt: skip
    raise ApiProblem(
        422, "Invalid request",
        "this Idempotency-Key was already used for a different request: use a new key for a new request",
        rule="idempotency_key_reused", field="Idempotency-Key",
    )  # fmt: skip


def _checkpoint_after_write(ctx: ApiContext) -> None:
    """Sign a checkpoint when one is due; a failure is logged and retried at the next write, never answered."""
    try:
        checkpoint_if_due(ctx.ledger)
    except Exception:
        LOG.exception("checkpoint after a write failed; the step is stored, the next write tries again")


def _body_doc(schema: dict[str, Any], example: dict[str, Any] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"requestBody": {"required": True, "content": {"application/json": content}}}


IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="The version you read (ETag): 409 if someone recorded a step since."),
]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="Any unique string (a UUID): a retry with it stores nothing twice."),
]


def _add_events_route(collection: Collection) -> None:
    body, _ = kind_schemas(collection.kind)
    kind = collection.kind
    gate = allow(f"record {kind} events", writers(kind))

    @router.post(
        f"/{collection.path}/{{reference}}/events",
        status_code=201,
        response_model=WriteResult,
        responses=WRITE_PROBLEMS,
        summary=f"Record a signed step on a {kind}",
        operation_id=f"record_{kind}_event",
        openapi_extra=_body_doc(body),
    )
    async def record(
        request: Request,
        response: Response,
        reference: str,
        principal: Annotated[Principal, Depends(gate)],
        ctx: Annotated[ApiContext, Depends(context)],
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        aggregate_id = collection.resolve(reference)
        return await record_step(request, response, kind, aggregate_id, principal, ctx, if_match, idempotency_key)

    record.__doc__ = (
        f"One step on a {kind}, addressed by {collection.reference}. The body's `type` chooses the schema; "
        "every event this step causes is stored in the same transaction, signed by you."
    )


for _collection in COLLECTIONS:
    _add_events_route(_collection)

ENROL = EVENT_TYPES["ProductEnrolled"]
ENROL_EXAMPLE = {
    "type": "ProductEnrolled",
    "meaning": "approved",
    "payload": {
        "coi": "CHF999926964B8A",
        "product_kind": "car_t",
        "product_code": "ACADEMIC-CD19",
        "patient_pseudonym": "PSN-SLE-0001",
        "indication": "systemic_lupus_erythematosus",
        "treating_physician": "physician",
        "collection_site": "CHU-F9999 apheresis unit",
    },
}


@router.post(
    "/products",
    status_code=201,
    response_model=WriteResult,
    responses=WRITE_PROBLEMS,
    summary="Enrol a product under its COI",
    operation_id="enrol_product",
    openapi_extra=_body_doc({"$ref": REF.format(model=request_name(ENROL))}, ENROL_EXAMPLE),
)
async def enrol(
    request: Request,
    response: Response,
    principal: Annotated[Principal, Depends(allow("enrol products", frozenset(str(r) for r in ENROL.roles)))],
    ctx: Annotated[ApiContext, Depends(context)],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Open a patient's product under a COI: the product's id is derived from the COI, so it is enrolled once."""
    result = await record_step(request, response, "product", None, principal, ctx, None, idempotency_key)
    response.headers["Location"] = f"/products/{result['aggregate_id']}"
    return result


def components() -> dict[str, dict[str, Any]]:
    """Every named schema the events endpoints refer to, for the OpenAPI document."""
    named: dict[str, dict[str, Any]] = {}
    for collection in COLLECTIONS:
        named.update(kind_schemas(collection.kind)[1])
    named.setdefault(request_name(ENROL), request_schema(ENROL)[0])
    return named
