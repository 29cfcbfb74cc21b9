"""`POST /shipments/{id}/logger` and `GET /shipments/{id}/logger`: a received shipper's logger file, judged.

Posting (multipart: ``file``, the logger's CSV export; ``meaning``, ``recorded`` or
``verified``; ``password`` when the signing session needs it; ``occurred_at``, default now)
reads the file, refuses a bad row with its line number (422 ``invalid_logger_file``, field
``readings[12].temperature``, nothing stored), stores the file by hash and records it on
the shipment; the ledger signs what it reads in it (domain/logger_rules.py). The answer is
the document, the ledger's summary and every event stored: 201, or 200 with
``already_imported`` when the same bytes were imported for this shipment before (nothing
is recorded twice, so a retried upload is harmless). Reading lists the summaries the
ledger signed for the shipment's files, for whoever reads shipments.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.rest import access
from api.rest.access import allow
from api.rest.access_log import note_change
from api.rest.context import ApiContext, context
from api.rest.documents import _read_limited
from api.rest.problems import responses
from api.rest.shipments import one_shipment
from api.rest.tokens import Principal
from domain.logger_events import SHIPMENT_LOGGER_FILE_IMPORTED
from ledger.clock import instant_field
from ledger.logger_import import LoggerImport, import_logger_file, imported_files

router = APIRouter(tags=["recording"])
IMPORTERS = frozenset(str(role) for role in SHIPMENT_LOGGER_FILE_IMPORTED.roles)


def _answer(done: LoggerImport) -> dict[str, Any]:
    return {
        "document": done.document.to_json(),
        "already_imported": done.already_imported,
        "summary": done.summary,
        "events": [envelope.to_json() for envelope in done.envelopes],
    }


@router.post(
    "/shipments/{shipment_id}/logger",
    status_code=201,
    response_model=dict[str, Any],
    responses=responses(401, 403, 404, 409, 413, 422, 503),
    summary="Import a received shipper's logger file",
)
async def import_logger(
    request: Request,
    shipment_id: UUID,
    principal: Annotated[Principal, Depends(allow("import logger files", IMPORTERS))],
    ctx: Annotated[ApiContext, Depends(context)],
    file: Annotated[UploadFile, File(description="CSV: ISO 8601 time with offset and °C per row (README)")],
    meaning: Annotated[str, Form(description="recorded or verified")] = "recorded",
    password: Annotated[str | None, Form(description="needed when no signing session is open")] = None,
    occurred_at: Annotated[str | None, Form(description="when the file was read; default now")] = None,
) -> dict[str, Any] | JSONResponse:
    """Read, store and record the file once; an excursion holds every product in the shipper, a gap is a deviation."""
    content = await _read_limited(file, ctx.settings.max_document_bytes)
    when = instant_field(occurred_at, "occurred_at") if occurred_at else None

    def run() -> LoggerImport:
        return import_logger_file(
            ctx.ledger, shipment_id, content, user=principal.username, meaning=meaning, password=password,
            occurred_at=when, session=principal.session, channel="rest",
        )  # fmt: skip

    return answered(request, shipment_id, await run_in_threadpool(run))


def answered(request: Request, aggregate_id: UUID, done: LoggerImport) -> dict[str, Any] | JSONResponse:
    """201 with what was recorded, or 200 with the earlier import of the same bytes; noted in the access log."""
    note_change(
        request,
        aggregate_id=str(aggregate_id),
        event_types=[envelope.type for envelope in done.envelopes],
        replayed=done.already_imported,
    )
    answer = _answer(done)
    return JSONResponse(answer, status_code=200) if done.already_imported else answer


@router.get(
    "/shipments/{shipment_id}/logger",
    response_model=list[dict[str, Any]],
    responses=responses(401, 403, 404, 422, 503),
    summary="A shipment's logger summaries",
)
def logger_summaries(
    shipment_id: UUID,
    principal: Annotated[Principal, Depends(allow("read shipments", access.REGISTER_READERS))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> list[dict[str, Any]]:
    """What the ledger read in each logger file imported for the shipment, oldest first."""
    shown = {str(unit) for unit in one_shipment(shipment_id, principal, ctx)["units"]}  # a sponsor: its trials'
    summaries = imported_files(ctx.ledger, shipment_id)
    return [{**one, "products": [p for p in one["products"] if p["product_id"] in shown]} for one in summaries]
