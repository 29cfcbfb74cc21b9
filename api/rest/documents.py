"""`POST /documents` and `GET /documents/{sha256}`: the files signed steps rely on (README, "Documents").

Storing (multipart: ``file``, ``kind``, ``patient`` for a consent form) answers the
reference a step then puts in its payload: SHA-256, media type read from the content,
size. Who may store a kind is who may sign a step that references that kind (the
payload classes say which, domain/document_ref.py), so a courier stores logger files and
manifests, a QP certificates, and only the care team a consent form.

Reading follows what the document belongs to: the products, shipments, batches and
pathways whose signed events reference it (a sponsor only its trials', as everywhere;
a consent form only the care team and auditors). A document no event references yet is
read by whoever stored it and by pharmacists, QPs and auditors. Anything else — not
stored, or not readable by this reader — is the same 404, so nothing reveals which
documents exist. A consent form whose patient was erased is 410: its key is gone.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import JSONResponse, Response

from api.rest import access
from api.rest.access import allow
from api.rest.context import ApiContext, context
from api.rest.problems import PROBLEM_JSON, ApiProblem, Problem, responses
from api.rest.reads import visible
from api.rest.sponsor_scope import is_sponsor, visible_products
from api.rest.tokens import Principal
from domain.batch import BankBatch
from domain.document_ref import DocumentKind, document_fields
from domain.errors import InvalidInput, NotFound
from domain.events import Role
from domain.registry import EVENT_TYPES
from domain.shipment import Shipment
from ledger.documents import DocumentInfo, DocumentState, DocumentUnavailable, Reference, document_kind

router = APIRouter(tags=["documents"])
R = Role
UPLOAD_CHUNK = 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024
"""Room for the multipart boundaries and the other form fields around a file of the largest allowed size."""
UNREFERENCED_READERS = frozenset({R.PHARMACIST, R.QP, R.AUDITOR})
"""Besides whoever stored it, who reads a document no signed step references yet (to review what was uploaded)."""
EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg", "text/csv": "csv"}


def upload_roles(kind: DocumentKind) -> frozenset[str]:
    """The roles that sign some step whose payload accepts a document of ``kind``."""
    roles: set[str] = set()
    for spec in EVENT_TYPES.values():
        if any(kind in kinds for kinds in document_fields(spec.payload).values()):
            roles.update(str(role) for role in spec.roles)
    return frozenset(roles)


UPLOADERS = frozenset().union(*(upload_roles(kind) for kind in DocumentKind))


async def _read_limited(upload: UploadFile, limit: int) -> bytes:
    """The uploaded file, refused (``document_too_large``) as soon as it passes ``limit`` bytes."""
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(UPLOAD_CHUNK):
        size += len(chunk)
        if size > limit:
            raise ApiProblem(
                413,
                "Document too large",
                f"the file is larger than the {limit} bytes a document may take (CUSTODY_MAX_DOCUMENT_BYTES): "
                "nothing was stored",
                rule="document_too_large",
                field="file",
            )
        parts.append(chunk)
    return b"".join(parts)


@router.post(
    "/documents",
    status_code=201,
    response_model=dict[str, Any],
    responses=responses(401, 403, 409, 413, 422, 503),
    summary="Store a document",
)
async def add_document(
    principal: Annotated[Principal, Depends(allow("store documents", UPLOADERS))],
    ctx: Annotated[ApiContext, Depends(context)],
    file: Annotated[UploadFile, File(description="PDF, PNG, JPEG or CSV; the type is read from the content")],
    kind: Annotated[str, Form(description=", ".join(k.value for k in DocumentKind))],
    patient: Annotated[str | None, Form(description="consent_form only: the patient's pseudonym")] = None,
) -> dict[str, Any] | JSONResponse:
    """Store a file once by its SHA-256 (the same bytes again: 200 and the same answer) and answer its reference."""
    chosen = document_kind(kind)
    if principal.role not in upload_roles(chosen):
        raise access.forbidden(principal, f"store a {chosen} document", upload_roles(chosen))
    content = await _read_limited(file, ctx.settings.max_document_bytes)
    info, stored_now = ctx.ledger.documents.add(
        content,
        chosen,
        uploaded_by=principal.username,
        now=ctx.ledger.clock.now(),
        max_bytes=ctx.settings.max_document_bytes,
        patient=patient or None,
    )
    answer = {**info.to_json(), "stored_now": stored_now}
    if not stored_now:
        return JSONResponse(answer, status_code=200)  # the same bytes again: nothing new was stored
    return answer


def _readable_reference(ctx: ApiContext, principal: Principal, reference: Reference) -> bool:
    role = principal.role
    if reference.aggregate_kind == "product":
        return role in access.PRODUCT_READERS and visible(ctx, principal, reference.aggregate_id)
    if reference.aggregate_kind == "pathway":
        return role in access.PATHWAY_READERS
    if reference.aggregate_kind in ("shipment", "batch") and role in access.REGISTER_READERS:
        if not is_sponsor(principal):
            return True
        found = ctx.ledger.load(reference.aggregate_id)
        products: list[UUID] = []
        if isinstance(found, Shipment):
            products = list(found.units)
        elif isinstance(found, BankBatch):
            products = list(found.allocated.values())
        return bool(visible_products(ctx, principal, products))
    return False


def readable(ctx: ApiContext, principal: Principal, info: DocumentInfo) -> bool:
    """Whether this reader may read the document (module docstring)."""
    references = ctx.ledger.documents.references(info.sha256)
    if not references:
        return principal.username == info.uploaded_by or principal.role in UNREFERENCED_READERS
    if info.patient is not None and principal.role not in access.PATHWAY_READERS:
        return False
    return any(_readable_reference(ctx, principal, reference) for reference in references)


@router.get(
    "/documents/{sha256}",
    response_class=Response,
    responses={
        200: {"content": {media: {} for media in EXTENSIONS}, "description": "The document's bytes"},
        **responses(401, 404, 422, 503),
        410: {
            "model": Problem,
            "description": "A consent form whose patient was erased: its key is gone (document_shredded)",
            "content": {PROBLEM_JSON: {}},
        },
    },
    summary="A document",
)
def get_document(
    sha256: str,
    principal: Annotated[Principal, Depends(allow("read documents", access.EVERYONE))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> Response:
    """The document's bytes, as stored under their SHA-256 and checked against it before they are sent."""
    wanted = sha256.strip().lower()
    if len(wanted) != 64 or any(char not in "0123456789abcdef" for char in wanted):
        raise InvalidInput("sha256 must be 64 hexadecimal digits", field="sha256", rule="invalid_sha256")
    info = ctx.ledger.documents.info(wanted)
    if info is None or not readable(ctx, principal, info):
        raise NotFound(f"no document visible to you has the SHA-256 {wanted}", field="sha256")
    try:
        _, content = ctx.ledger.documents.content(wanted)
    except DocumentUnavailable as unavailable:
        if unavailable.state is DocumentState.SHREDDED:
            raise ApiProblem(
                410,
                "Document shredded",
                "this document was sealed with a patient's key that was erased with their identity; "
                "its signed hash remains, its content can no longer be read",
                rule="document_shredded",
                field="sha256",
            ) from None
        if unavailable.state is DocumentState.NOT_CHECKABLE:
            # The identity key is not on this host (a new server, a restore): an operator fixes it, so 503.
            raise ApiProblem(
                503,
                "Document not readable on this server",
                f'{unavailable}; copy identity.kek to this host (README, "Patient identity and erasure")',
                rule=str(unavailable.state),
                field="sha256",
            ) from None
        raise ApiProblem(
            500, "Document unavailable", f"{unavailable}; run `custody verify`", rule=str(unavailable.state)
        ) from None
    return Response(
        content,
        media_type=str(info.media_type),
        headers={
            "Content-Disposition": f'attachment; filename="{wanted}.{EXTENSIONS[str(info.media_type)]}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "ETag": f'"{wanted}"',
        },
    )
