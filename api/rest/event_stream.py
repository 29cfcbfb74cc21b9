"""`GET /events/stream`: each new event the caller may read, pushed as a server-sent event within a second.

The stream follows the log (it polls the notification log every ``POLL_SECONDS``;
SQLite cannot push, and one code path serves both backends). Each message's ``id``
is the event's log position, so a client that reconnects with ``Last-Event-ID`` (the
browser's EventSource does it by itself) misses nothing and gets nothing twice.
Without it the stream starts after the last stored event, or after ``?after=``. A
comment line every ``KEEPALIVE_SECONDS`` keeps proxies from closing a quiet stream.
Messages say what was recorded, never the payload (api/rest/notices.py).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from api.rest import access
from api.rest.access import allow
from api.rest.context import ApiContext, context
from api.rest.notices import may_be_told, notice
from api.rest.problems import ApiProblem, responses
from api.rest.reads import visible
from api.rest.tokens import Principal
from domain.log_types import LOGGED_EVENT_TYPES
from ledger.store import parse_envelope

router = APIRouter(tags=["notifications"])
POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
BATCH = 200
KNOWN_TYPES = LOGGED_EVENT_TYPES


def _start(ctx: ApiContext, last_event_id: str | None, after: int | None) -> int:
    """The position the stream continues after."""
    if last_event_id is not None:
        text = last_event_id.strip()
        if not text.isdigit() or len(text) > 18:
            raise ApiProblem(
                422, "Invalid request", f"Last-Event-ID must be a log position (a whole number), not {text[:40]!r}",
                rule="invalid_log_position", field="Last-Event-ID",
            )  # fmt: skip
        return int(text)
    if after is not None:
        return after
    return ctx.ledger.store.size()


def _types(text: str | None) -> frozenset[str] | None:
    """The event types asked for (comma-separated), each one the ledger records; None for every type."""
    if not text:
        return None
    asked = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(asked - KNOWN_TYPES)
    if unknown:
        raise ApiProblem(
            422, "Invalid request", f"types names no event type the ledger records: {', '.join(unknown)[:200]}",
            rule="unknown_event_type", field="types",
        )  # fmt: skip
    return asked


def _batch(
    ctx: ApiContext, principal: Principal, after: int, types: frozenset[str] | None = None
) -> tuple[list[str], int]:
    """The messages for the events stored after ``after`` that this person may know of, and the new position."""
    rows = ctx.ledger.store.recorder.select_notifications(after + 1, BATCH)
    messages, seen = [], after
    known: dict[UUID, bool] = {}

    def product_visible(product_id: UUID) -> bool:
        if product_id not in known:
            known[product_id] = visible(ctx, principal, product_id)
        return known[product_id]

    for row in rows:
        seen = row.id
        envelope = parse_envelope(row.state)
        if (types is None or envelope.type in types) and may_be_told(principal, envelope, product_visible):
            data = json.dumps(notice(row.id, envelope), separators=(",", ":"))
            messages.append(f"id: {row.id}\nevent: {envelope.type}\ndata: {data}\n\n")
    return messages, seen


@router.get(
    "/events/stream",
    responses={**responses(401, 403, 422), 200: {"content": {"text/event-stream": {}}}},
    summary="New events, pushed as server-sent events",
)
async def stream(
    request: Request,
    principal: Annotated[Principal, Depends(allow("follow the events", access.PRODUCT_READERS))],
    ctx: Annotated[ApiContext, Depends(context)],
    after: Annotated[int | None, Query(ge=0, description="Start after this log position (else: from now).")] = None,
    limit: Annotated[
        int | None, Query(ge=1, le=100_000, description="Close the stream after this many events (default: never).")
    ] = None,
    types: Annotated[
        str | None, Query(max_length=4000, description="Only these event types, comma-separated (default: all).")
    ] = None,
    idle: Annotated[
        float | None,
        Query(
            gt=0,
            le=3600,
            description="Close the stream after this many seconds without an event (catch up, then "
            "stop; default: never).",
        ),
    ] = None,
) -> StreamingResponse:
    """One message per event: ``id`` the log position, ``event`` its type, ``data`` what was recorded (no payload)."""
    position = _start(ctx, request.headers.get("last-event-id"), after)
    wanted = _types(types)

    async def messages() -> AsyncIterator[str]:
        nonlocal position
        sent, quiet_since, last_sent = 0, time.monotonic(), time.monotonic()
        yield "retry: 2000\n\n"  # how long a browser waits before it reconnects
        while limit is None or sent < limit:
            if await request.is_disconnected():
                return
            batch, position = await run_in_threadpool(_batch, ctx, principal, position, wanted)
            for message in batch[: None if limit is None else limit - sent]:
                yield message
                sent += 1
                last_sent = time.monotonic()
            if idle is not None and time.monotonic() - last_sent >= idle:
                return
            if batch:
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
                quiet_since = time.monotonic()
                yield ": still here\n\n"
            await asyncio.sleep(POLL_SECONDS)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(messages(), media_type="text/event-stream", headers=headers)
