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
from typing import Any

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOGGER = logging.getLogger("custody.api")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIGN_IN_ROUTES = frozenset({"/auth/token", "/ui/sign-in"})


def note_change(request: Request, **details: Any) -> None:
    """Let the handler say what it stored, for the log line written after the answer."""
    request.state.change = details


def log_line(kind: str, **fields: Any) -> None:
    """Write one JSON log line."""
    LOGGER.info(json.dumps({"log": kind, **fields}, default=str, sort_keys=True))


class AccessLog:
    """ASGI middleware: a request id on every answer; a log line for every change and every refusal.

    A plain ASGI wrapper rather than Starlette's ``BaseHTTPMiddleware``: it adds no task
    and no body copy to each request, which the status-read latency target needs.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._log(scope, state, status, started, request_id)

    @staticmethod
    def _log(scope: Scope, state: dict[str, Any], status: int, started: float, request_id: str) -> None:
        method = str(scope.get("method", ""))
        if status < 400 and method in SAFE_METHODS:
            return
        principal = state.get("principal")
        route = getattr(scope.get("route"), "path", None) or "(no route)"
        fields: dict[str, Any] = {
            "request_id": request_id,
            "method": method,
            "route": str(route),
            "status": status,
            "user": getattr(principal, "username", None),
            "role": getattr(principal, "role", None),
            "ms": round((time.perf_counter() - started) * 1000, 2),
        }
        if status >= 400:
            log_line("refused" if status < 500 else "failed", **fields, rule=state.get("rule"))
        elif fields["route"] in SIGN_IN_ROUTES:
            log_line("sign_in", **fields)
        else:
            log_line("change", **fields, **state.get("change", {}))
