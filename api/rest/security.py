"""Sign-in and the bearer-token check every endpoint but /health and the OpenAPI document goes through.

``POST /auth/token`` is the OAuth2 password flow: form fields ``username`` and
``password``, answered with a bearer token. Wrong passwords count towards a lock
(``CUSTODY_LOGIN_MAX_FAILURES`` in a row lock the account for
``CUSTODY_LOGIN_LOCKOUT_MINUTES``); the answer to a wrong password is the same for
a known and an unknown username. Each request re-reads the person from the ledger,
so someone whose role changed must sign in again.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from api.rest.context import ApiContext, context
from api.rest.problems import PROBLEM_JSON, ApiProblem, api_problem, responses
from api.rest.tokens import InvalidToken, Principal, Token
from domain.errors import NotFound
from domain.events import Actor
from ledger.clock import isoformat
from ledger.credentials import SignIn
from ledger.password_enrolment import CHANGE_COMMAND, CHANGE_ENDPOINT, CHANGE_PAGE

BEARER = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False, description="Sign in at /auth/token.")
router = APIRouter(tags=["authentication"])


class TokenOut(BaseModel):
    """A bearer token, its type, when it expires, and the role it carries."""

    access_token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    token_type: str = Field(description="Always `bearer`.", examples=["bearer"])
    expires_at: datetime = Field(description="After this instant the token is refused: sign in again.")
    role: str = Field(description="The role of the signed-in person.", examples=["nurse"])


def _unauthenticated(detail: str, rule: str) -> ApiProblem:
    return ApiProblem(401, "Not authenticated", detail, rule=rule, headers={"WWW-Authenticate": "Bearer"})


def password_change_required(detail: str) -> ApiProblem:
    """The 403 for a token (or a sign-in) that holds an enrolment secret: where to choose a password."""
    return ApiProblem(
        403,
        "Password change required",
        f"{detail}: choose your own password first at POST {CHANGE_ENDPOINT} (body old_password, new_password), "
        f"on the page {CHANGE_PAGE}, or with `{CHANGE_COMMAND}`",
        rule="password_change_required",
        field="password",
        headers={"Link": f'<{CHANGE_ENDPOINT}>; rel="change-password"'},
    )


async def authenticated(
    request: Request,
    token: Annotated[str | None, Depends(BEARER)],
    ctx: Annotated[ApiContext, Depends(context)],
) -> Principal:
    """The person behind the bearer token, confirmed against the ledger; 401 otherwise.

    Async, with the person's record read in a worker thread only when it is not fresh
    in ``ApiContext.actor``'s cache: most requests check their token without a thread hand-off.
    A token given for an enrolment secret opens nothing here (403 ``password_change_required``).
    """
    principal = await may_change_password(request, token, ctx)
    if principal.password_change_only:
        raise password_change_required("this token was given for an enrolment secret")
    return principal


async def may_change_password(
    request: Request,
    token: Annotated[str | None, Depends(BEARER)],
    ctx: Annotated[ApiContext, Depends(context)],
) -> Principal:
    """The person behind any valid bearer token, an enrolment secret's included: what POST /me/password needs."""
    if not token:
        raise _unauthenticated("sign in at POST /auth/token and send `Authorization: Bearer <token>`", "no_token")
    try:
        claims = ctx.tokens.read(token)
    except InvalidToken as error:
        raise _unauthenticated(str(error), "invalid_token") from None
    username = str(claims["sub"])
    try:
        cached = ctx.cached_actor(username)
        actor: Actor = cached if cached is not None else await run_in_threadpool(ctx.actor, username)
    except NotFound:
        raise _unauthenticated("the token's user is no longer registered", "invalid_token") from None
    try:
        principal = ctx.confirm(claims, actor)
    except InvalidToken as error:
        raise _unauthenticated(str(error), "invalid_token") from None
    request.state.principal = principal
    return principal


@router.post(
    "/auth/token",
    response_model=TokenOut,
    summary="Sign in (OAuth2 password flow)",
    responses=responses(401, 403, 422, 429, 503),
)
def sign_in(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    ctx: Annotated[ApiContext, Depends(context)],
) -> TokenOut | JSONResponse:
    """Trade a username and password for a bearer token; repeated failures lock the account for a while.

    An enrolment secret (what an administrator gave a new person) is answered 403
    ``password_change_required``, naming where to change it, with a token in
    ``access_token`` that opens only ``POST /me/password``.
    """
    now = ctx.ledger.clock.now()
    result = ctx.sign_in(form.username, form.password)
    if result.outcome is SignIn.LOCKED:
        assert result.locked_until is not None
        wait = max(int((result.locked_until - now).total_seconds()), 1)
        raise ApiProblem(
            429,
            "Account locked",
            f"too many failed sign-ins: try again after {isoformat(result.locked_until)}",
            rule="account_locked",
            field="username",
            headers={"Retry-After": str(wait)},
        )
    if result.outcome is SignIn.PASSWORD_CHANGE_REQUIRED and result.token is not None:
        return _change_first(request, result.token)
    if result.principal is None or result.token is None:
        raise _unauthenticated("unknown username or wrong password", "bad_credentials")
    request.state.principal = result.principal
    token, role = result.token, result.principal.role
    return TokenOut(access_token=token.value, token_type="bearer", expires_at=token.expires_at, role=role)


def _change_first(request: Request, token: Token) -> JSONResponse:
    """The 403 problem for a right enrolment secret, carrying the token that may only change it."""
    problem = password_change_required("you signed in with an enrolment secret")
    body = json.loads(bytes(api_problem(request, problem).body))
    body.update(
        change_password_at=CHANGE_ENDPOINT,
        access_token=token.value,
        token_type="bearer",
        expires_at=isoformat(token.expires_at),
    )
    return JSONResponse(body, status_code=403, media_type=PROBLEM_JSON, headers=problem.headers)
