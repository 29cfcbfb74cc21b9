"""Refusals on the web pages: an HTML page naming the field and the rule, or a trip to the sign-in page.

The HTTP API answers problem+json; a person in a browser gets the same facts as a
page in their language, with the same status code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from api.web.rendering import render
from api.web.session import PasswordChangeFirst, SignInRequired
from ledger.password_enrolment import CHANGE_PAGE

Handler = Callable[[Request, Exception], Response]


def sign_in_required(request: Request, error: Exception) -> Response:
    """Go to the sign-in page (or, for an enrolment secret's session, the password page), and come back afterwards."""
    assert isinstance(error, SignInRequired)
    if isinstance(error, PasswordChangeFirst):
        return RedirectResponse(f"{CHANGE_PAGE}?next={quote(error.next_path)}", status_code=303)
    return RedirectResponse(f"/ui/sign-in?next={quote(error.next_path)}", status_code=303)


def bad_csrf(request: Request, error: Exception) -> Response:
    """A form from another page or site: refused."""
    values = {"title": "Refused", "detail": str(error), "rule": "csrf", "field": "csrf"}
    return render(request, "error.html", values, status=403)


def as_page(handler: Handler) -> Handler:
    """Wrap a problem+json handler: on /ui/ paths, show its problem as an HTML page."""

    def handle(request: Request, error: Exception) -> Response:
        response = handler(request, error)
        if not request.url.path.startswith("/ui/") or not isinstance(response, JSONResponse):
            return response
        problem = json.loads(bytes(response.body))
        values = {
            "title": problem.get("title", "Refused"),
            "detail": problem.get("detail", ""),
            "rule": problem.get("rule"),
            "field": problem.get("field"),
        }
        page = render(request, "error.html", values, status=response.status_code)
        if "retry-after" in response.headers:
            # A storage fault says when to try again; the browser (and a person's proxy) should know it too.
            page.headers["Retry-After"] = response.headers["retry-after"]
        return page

    return handle
