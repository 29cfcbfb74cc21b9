"""The worklist kept live: the event stream for a signed-in browser, and the banner of a deadline alert.

The API's stream (api/rest/event_stream.py) wants a bearer token, which a browser's EventSource cannot
send; ``/ui/events/stream`` is the same stream, same rules of who is told what, for the web session's
cookie. A notice carries no payload, so the banner of a ``DeadlineAlertRaised`` is fetched from
``/ui/alerts/{id}``, which shows it only to a person the alert was told to (api/rest/notices.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from api.rest import access, event_stream
from api.rest.context import ApiContext, context
from api.rest.notices import may_be_told
from api.rest.problems import ApiProblem
from api.rest.reads import visible
from api.rest.tokens import Principal
from api.web.deadlines import KIND_LABELS, clock_time
from api.web.i18n import language, translator
from api.web.rendering import render
from api.web.session import web_principal
from api.web.views import zone
from domain.deadline_alert import KIND
from ledger.clock import parse_instant

router = APIRouter(prefix="/ui", include_in_schema=False)
Signed = Annotated[Principal, Depends(web_principal)]
Ctx = Annotated[ApiContext, Depends(context)]
LEVEL_WORDS = {"amber": "soon", "red": "urgent"}
LABELS = {**KIND_LABELS, "follow_up_visit": "Follow-up visit"}


@router.get("/events/stream")
async def web_stream(
    request: Request,
    principal: Signed,
    ctx: Ctx,
    after: Annotated[int | None, Query(ge=0)] = None,
    idle: Annotated[float | None, Query(gt=0, le=3600)] = None,
) -> StreamingResponse:
    """New events this person may know of, after the position the page was drawn at (``after``; a reconnection
    resumes after ``Last-Event-ID``), for the open worklist; ``idle`` closes a quiet stream (as the API's does)."""
    readers = frozenset(str(role) for role in access.PRODUCT_READERS)
    if principal.role not in readers:
        raise access.forbidden(principal, "follow the events", readers)
    response = await event_stream.stream(request, principal, ctx, after=after, limit=None, types=None, idle=idle)
    response.body_iterator = _unnamed(response.body_iterator)
    return response


async def _unnamed(messages: AsyncIterable[Any]) -> AsyncIterator[str]:
    """Each message without its ``event:`` line: the page's one ``onmessage`` hears every type (the type is in
    the data), where a named event reaches only a listener registered for that name."""
    async for message in messages:
        text = message if isinstance(message, str) else bytes(message).decode()
        yield "".join(line for line in text.splitlines(keepends=True) if not line.startswith("event: "))


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_banner(request: Request, alert_id: UUID, principal: Signed, ctx: Ctx) -> Response:
    """The banner of a deadline alert's latest level, for someone it was told to; 404 for anyone else."""
    history = ctx.ledger.history(alert_id)
    latest = history[-1] if history else None
    if (
        latest is None
        or latest.body["aggregate_kind"] != KIND
        or not may_be_told(principal, latest, lambda product_id: visible(ctx, principal, product_id))
    ):
        raise ApiProblem(404, "Not found", f"no deadline alert {alert_id} for you", rule="not_found", field="alert_id")
    payload = latest.body["payload"]
    t = translator(language(request.cookies.get("lang"), request.headers.get("accept-language")))
    day, time = clock_time(parse_instant(str(payload["deadline_at"])), zone(ctx), t.lang)
    kind = str(payload["deadline"])
    return render(
        request,
        "_alert_banner.html",
        {
            "alert": payload,
            "label": t.ctx("deadline", kind, default=LABELS.get(kind, kind)),
            "word": t(LEVEL_WORDS.get(str(payload["level"]), "urgent")),
            "day": day,
            "time": time,
        },
    )
