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

from api.rest.context import context_of
from api.web.drafts import draft_key, seal
from api.web.rendering import render
from api.web.session import COOKIE, PasswordChangeFirst, SignInRequired, session_principal
from ledger.password_enrolment import CHANGE_PAGE

Handler = Callable[[Request, Exception], Response]


async def sign_in_required(request: Request, error: Exception) -> Response:
    """Go to the sign-in page (or, for an enrolment secret's session, the password page), and come back afterwards.

    A step form sent after the session ended is not lost: the sign-in page is shown at once, saying nothing was
    recorded, with the form's fields sealed in it (api/web/drafts.py), and the form comes back filled after sign-in.
    """
    assert isinstance(error, SignInRequired)
    if isinstance(error, PasswordChangeFirst):
        return RedirectResponse(f"{CHANGE_PAGE}?next={quote(error.next_path)}", status_code=303)
    if request.method == "POST" and "/steps/" in request.url.path:
        form = {key: str(value) for key, value in (await request.form()).items() if isinstance(value, str)}
        ctx = context_of(request)
        sealed = seal(draft_key(ctx.settings.home), request.url.path, form, ctx.ledger.clock.now())
        values = {"next": error.next_path, "error": None, "draft": sealed, "session_ended": True}
        return render(request, "sign_in.html", values, status=401)
    return RedirectResponse(f"/ui/sign-in?next={quote(error.next_path)}", status_code=303)


def bad_csrf(request: Request, error: Exception) -> Response:
    """A form from another page or site: refused."""
    values = {"title": "Refused", "detail": str(error), "rule": "csrf", "field": "csrf"}
    return render(request, "error.html", values, status=403)


def _recognise(request: Request) -> None:
    """Who is signed in, when the error came before any page asked: an error page keeps the menu and the session.

    Best effort only: an error page must show even when the session cannot be read (an unreachable database, say).
    """
    if getattr(request.state, "principal", None) is not None or COOKIE not in request.cookies:
        return
    try:
        principal = session_principal(request, context_of(request))
    except Exception:  # the page shows without the menu rather than not at all
        request.state.principal = None
        return
    if principal.password_change_only:  # an enrolment secret's session reaches no menu
        request.state.principal = None


def as_page(handler: Handler) -> Handler:
    """Wrap a problem+json handler: on /ui/ paths, show its problem as an HTML page."""

    def handle(request: Request, error: Exception) -> Response:
        response = handler(request, error)
        if not request.url.path.startswith("/ui/") or not isinstance(response, JSONResponse):
            return response
        problem = json.loads(bytes(response.body))
        _recognise(request)
        values = {
            "title": problem.get("title", "Refused"),
            "detail": problem.get("detail", ""),
            "rule": problem.get("rule"),
            "field": problem.get("field"),
            # Every refusal of a write leaves the ledger unchanged: a person who pressed "Sign" must be told so.
            "nothing_recorded": request.method not in ("GET", "HEAD"),
            "retry_after": response.headers.get("retry-after"),
        }
        page = render(request, "error.html", values, status=response.status_code)
        if "retry-after" in response.headers:
            # A storage fault says when to try again; the browser (and a person's proxy) should know it too.
            page.headers["Retry-After"] = response.headers["retry-after"]
        return page

    return handle
