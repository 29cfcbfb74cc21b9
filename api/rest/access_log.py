"""One structured log line per change and per refusal, with no patient identity in it.

Lines are JSON objects on the ``custody.api`` logger: who (username and role),
what (method, path template, status, rule, event types, aggregate ids and
versions), and a request id. Request bodies are never logged: they may carry a
password or a patient's identity. Paths are logged as their route template
(``/products/{product_id}/events``) plus the aggregate ids the handler names, so
a pseudonym in a path never reaches the log either.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response

LOGGER = logging.getLogger("custody.api")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def note_change(request: Request, **details: Any) -> None:
    """Let the handler say what it stored, for the log line written after the answer."""
    request.state.change = details


def _template(request: Request) -> str:
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "(no route)"


def log_line(kind: str, **fields: Any) -> None:
    """Write one JSON log line."""
    LOGGER.info(json.dumps({"log": kind, **fields}, default=str, sort_keys=True))


async def access_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Middleware: a request id on every answer; a log line for every change and every refusal."""
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    request.state.request_id = request_id
    started = time.perf_counter()
    response = await call_next(request)
    response.headers["X-Request-Id"] = request_id
    principal = getattr(request.state, "principal", None)
    fields: dict[str, Any] = {
        "request_id": request_id,
        "method": request.method,
        "route": _template(request),
        "status": response.status_code,
        "user": getattr(principal, "username", None),
        "role": getattr(principal, "role", None),
        "ms": round((time.perf_counter() - started) * 1000, 2),
    }
    if response.status_code >= 400:
        log_line(
            "refused" if response.status_code < 500 else "failed", **fields, rule=getattr(request.state, "rule", None)
        )
    elif request.method not in SAFE_METHODS:
        log_line("change", **fields, **getattr(request.state, "change", {}))
    return response
