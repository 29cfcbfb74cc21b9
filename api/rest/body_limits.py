"""Request body limits, enforced while the body is read: no request can make the server hold more.

A body announced larger than ``CUSTODY_MAX_BODY_BYTES`` (``Content-Length``) is
refused at once with 413, before a byte of it is read and before anyone is
authenticated; a body sent without a length (chunked) is counted as it arrives and
refused as soon as it passes the limit, so the server never buffers it whole.
A route that takes files (``POST /documents``) is given its own, larger limit
(``larger``: CUSTODY_MAX_DOCUMENT_BYTES plus the multipart framing); every other route
keeps the generic one. JSON nesting is bounded separately (``MAX_JSON_DEPTH``) where bodies are parsed:
a body nested thousands deep is a 422, never a recursion error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.rest.problems import PROBLEM_JSON, TYPE_PREFIX

MAX_JSON_DEPTH = 16


def _refusal(limit: int) -> tuple[dict[str, Any], bytes]:
    detail = f"the request body is larger than the {limit} bytes this server accepts: nothing was read or stored"
    body = {
        "type": TYPE_PREFIX + "body_too_large",
        "title": "Request too large",
        "status": 413,
        "detail": detail,
        "field": "body",
        "rule": "body_too_large",
    }
    start = {
        "type": "http.response.start",
        "status": 413,
        "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"connection", b"close")],
    }
    return start, json.dumps(body).encode()


class BodyLimit:
    """ASGI middleware refusing bodies over ``limit`` bytes (or a route's own, in ``larger``), announced or streamed."""

    def __init__(self, app: ASGIApp, limit: int, larger: Mapping[tuple[str, str], int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an announced oversize at once; count a streamed body as it arrives."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get((scope.get("method", ""), scope.get("path", "")), self.limit)
        announced = dict(scope.get("headers") or ()).get(b"content-length")
        if announced is not None and announced.isdigit() and int(announced) > limit:
            await self._refuse(send, limit)
            return
        seen = 0
        started = refused = False

        async def counted_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Answer now and tell the application the client is gone: it stops reading, and
                    # whatever it does next (FastAPI wraps body errors in its own 400) is not sent.
                    refused = True
                    if not started:
                        await self._refuse(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, send: Send, limit: int) -> None:
        start, body = _refusal(limit)
        await send(start)
        await send({"type": "http.response.body", "body": body})


def json_depth_exceeds(value: object, limit: int = MAX_JSON_DEPTH) -> bool:
    """Is a parsed JSON value nested deeper than ``limit``? (Iterative: any depth is measured safely.)"""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False
