"""The page /ui/password: a person replaces their password, or the enrolment secret they were given.

21 CFR Part 11 §11.300. Someone who signs in with an enrolment secret lands here and
reaches no other page until they have chosen (api/web/session.py). The form asks for
the current password, the new one and the new one again, with the CSRF token of the
session; the change itself is ledger/password_change.py (the signing key re-sealed,
same key id, audited). Afterwards the person is signed in again with the new password
— an ordinary session — and sent where they were going.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from api.rest.context import ApiContext, context
from api.rest.tokens import Principal
from api.web.pages import _safe_next
from api.web.rendering import render
from api.web.session import COOKIE, check_csrf, session_principal
from domain.errors import InvalidInput
from ledger.password_change import change_password
from ledger.password_policy import MAX_LENGTH, MIN_LENGTH
from ledger.signing_session import WrongSigningPassword

router = APIRouter(prefix="/ui", include_in_schema=False)
Anyone = Annotated[Principal, Depends(session_principal)]
Ctx = Annotated[ApiContext, Depends(context)]
TITLE = "Password not changed"


def _page(principal: Principal, next_path: str, **values: Any) -> dict[str, Any]:
    return {
        "next": _safe_next(next_path),
        "enrolment": principal.password_change_only,
        "min_length": MIN_LENGTH,
        "max_length": MAX_LENGTH,
        "error": None,
        "done": False,
        **values,
    }


@router.get("/password", response_class=HTMLResponse)
def password_page(request: Request, principal: Anyone, next: str = "/ui/", done: bool = False) -> HTMLResponse:
    """The form (or, after a change, the confirmation and a link onwards)."""
    return render(request, "password.html", _page(principal, next, done=done))


@router.post("/password", response_class=HTMLResponse)
async def change_my_password(request: Request, principal: Anyone, ctx: Ctx) -> Response:
    """Change the password; refusals are shown on the form with the field and the rule, nothing changed."""
    form = await request.form()
    check_csrf(ctx, principal, str(form.get("csrf", "")))
    old, new = str(form.get("old_password", "")), str(form.get("new_password", ""))
    target = _safe_next(str(form.get("next", "/ui/")))
    try:
        if new != str(form.get("new_password_repeat", "")):
            raise InvalidInput("the two new passwords differ", field="new_password_repeat", rule="password_mismatch")
        await run_in_threadpool(change_password, ctx.ledger, principal.username, old, new, channel="web")
    except (InvalidInput, WrongSigningPassword) as refused:
        status = 422 if isinstance(refused, InvalidInput) else 401
        error = _error(refused)
        return render(request, "password.html", _page(principal, target, error=error), status=status)
    result = await run_in_threadpool(ctx.sign_in, principal.username, new)
    response = RedirectResponse(f"/ui/password?done=true&next={quote(target)}", status_code=303)
    if result.token is not None:
        response.set_cookie(
            COOKIE,
            result.token.value,
            httponly=True,
            samesite="strict",
            max_age=int(ctx.tokens.lifetime.total_seconds()),
        )
    return response


def _error(refused: Exception) -> dict[str, str | None]:
    """What the form shows: the message, the field and the rule."""
    if isinstance(refused, InvalidInput):
        return {"title": TITLE, "detail": refused.message, "field": refused.field, "rule": refused.rule}
    return {"title": TITLE, "detail": str(refused), "field": "old_password", "rule": "wrong_password"}
