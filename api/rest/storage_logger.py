"""`POST /products/{reference}/storage-logger` and `GET …`: a tank's logger file over a product's LN2 storage.

Posting (multipart: ``file``, the tank logger's CSV export; ``tank`` and ``site``, by
default the tank the product was last stored in; ``meaning``, ``recorded`` or
``verified``; ``password`` when the signing session needs it; ``occurred_at``, default
now) reads the file, refuses a bad row with its line number (422 ``invalid_logger_file``,
nothing stored), a tank the product never sat in (409 ``product_never_in_tank``) and a
file covering none of its stays there (409 ``logger_file_outside_storage``); then stores
the file by hash and records it on the product, and the ledger signs what it reads in it
(domain/storage_logger_rules.py). 201, or 200 with ``already_imported`` when the same
bytes were imported for this product before. The product is named by UUID or COI in the
path, never by patient identity. Reading lists the summaries the ledger signed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.rest import access
from api.rest.access import allow
from api.rest.context import ApiContext, context
from api.rest.documents import _read_limited
from api.rest.logger import answered
from api.rest.problems import responses
from api.rest.reads import _product_id
from api.rest.tokens import Principal
from domain.storage_logger_events import STORAGE_LOGGER_FILE_IMPORTED
from ledger.clock import instant_field
from ledger.logger_import import LoggerImport
from ledger.storage_logger_import import import_storage_logger_file, storage_summaries

router = APIRouter(tags=["recording"])
IMPORTERS = frozenset(str(role) for role in STORAGE_LOGGER_FILE_IMPORTED.roles)


@router.post(
    "/products/{reference}/storage-logger",
    status_code=201,
    response_model=dict[str, Any],
    responses=responses(401, 403, 404, 409, 413, 422, 503),
    summary="Import an LN2 tank's logger file over a product's storage",
)
async def import_storage_logger(
    request: Request,
    reference: str,
    principal: Annotated[Principal, Depends(allow("import logger files", IMPORTERS))],
    ctx: Annotated[ApiContext, Depends(context)],
    file: Annotated[UploadFile, File(description="the tank logger's CSV export (docs/temperature-loggers.md)")],
    tank: Annotated[str | None, Form(description="the tank the file monitors; default its last")] = None,
    site: Annotated[str | None, Form(description="the tank's site; default the site of that tank's stay")] = None,
    meaning: Annotated[str, Form(description="recorded or verified")] = "recorded",
    password: Annotated[str | None, Form(description="needed when no signing session is open")] = None,
    occurred_at: Annotated[str | None, Form(description="when the file was read; default now")] = None,
) -> dict[str, Any] | JSONResponse:
    """Read, store and record the file once; an excursion quarantines the product, a gap is a deviation."""
    product_id = _product_id(ctx, principal, reference)
    content = await _read_limited(file, ctx.settings.max_document_bytes)
    when = instant_field(occurred_at, "occurred_at") if occurred_at else None

    def run() -> LoggerImport:
        return import_storage_logger_file(
            ctx.ledger, product_id, content, user=principal.username, site=site, tank=tank, meaning=meaning,
            password=password, occurred_at=when, session=principal.session, channel="rest",
        )  # fmt: skip

    return answered(request, product_id, await run_in_threadpool(run))


@router.get(
    "/products/{reference}/storage-logger",
    response_model=list[dict[str, Any]],
    responses=responses(401, 403, 404, 422, 503),
    summary="A product's LN2 storage logger summaries",
)
def storage_logger_summaries(
    reference: str,
    principal: Annotated[Principal, Depends(allow("read products", access.PRODUCT_READERS))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> list[dict[str, Any]]:
    """What the ledger read in each tank logger file imported for the product, oldest first."""
    return storage_summaries(ctx.ledger, _product_id(ctx, principal, reference))
