"""Web sessions: the API's signed token in an HttpOnly cookie, and a CSRF token bound to it.

The browser never sees the token through JavaScript (HttpOnly) and never sends it
from another site (SameSite=Strict). Every form that changes something also
carries a CSRF token, an HMAC of the session id under a key derived from the
master secret, so a forged cross-site form is refused even by an old browser.
Sign-in goes through the same password check and lockout as ``POST /auth/token``.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request

from api.rest.context import ApiContext, context
from api.rest.tokens import InvalidToken, Principal
from domain.errors import NotFound
from ledger.secrets import derive_key

COOKIE = "custody_session"


class SignInRequired(Exception):
    """No valid session: the browser is sent to the sign-in page, then back."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PasswordChangeFirst(SignInRequired):
    """Signed in with an enrolment secret: the browser is sent to the password page, then back."""


class BadCsrf(Exception):
    """A form without the session's CSRF token: refused, nothing recorded."""


def csrf_for(ctx: ApiContext, session: str) -> str:
    """The CSRF token of one session."""
    key = derive_key(ctx.settings.home, "web-csrf")
    return hmac.new(key, session.encode(), hashlib.sha256).hexdigest()


def check_csrf(ctx: ApiContext, principal: Principal, submitted: str | None) -> None:
    """Refuse a form whose CSRF token is not this session's."""
    if not submitted or not hmac.compare_digest(submitted, csrf_for(ctx, principal.session)):
        raise BadCsrf("this form does not belong to your session: reload the page and try again")


def web_principal(request: Request, ctx: Annotated[ApiContext, Depends(context)]) -> Principal:
    """The signed-in person behind the session cookie, or a redirect to the sign-in page.

    A session opened with an enrolment secret reaches no page but /ui/password (ledger/password_enrolment.py).
    """
    principal = session_principal(request, ctx)
    if principal.password_change_only:
        raise PasswordChangeFirst(principal_next_path(request))
    return principal


def principal_next_path(request: Request) -> str:
    """Where the person was going: this page, with its query."""
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def session_principal(request: Request, ctx: Annotated[ApiContext, Depends(context)]) -> Principal:
    """The person behind the session cookie, an enrolment secret's session included (the password page's)."""
    token = request.cookies.get(COOKIE)
    next_path = principal_next_path(request)
    if not token:
        raise SignInRequired(next_path)
    try:
        claims = ctx.tokens.read(token)
        principal = ctx.confirm(claims, ctx.actor(str(claims["sub"])))
    except (InvalidToken, NotFound):
        raise SignInRequired(next_path) from None
    request.state.principal = principal
    return principal
