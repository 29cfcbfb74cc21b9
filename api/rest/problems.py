"""RFC 9457 problem details: every refusal says what was wrong, which field, and which rule.

The domain already names the field and a stable rule code on every error; this
module only chooses the HTTP status and writes the ``application/problem+json``
body. Statuses: 401 the caller (or the signer) is not authenticated, 403 the role
may not do this, 404 nothing has that id, 409 the request conflicts with what is
stored (a custody rule given the product's state, or a concurrent change), 422
the request itself is malformed, 503 the database cannot be reached. A bad input
is never a 500.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.web.i18n import asked, translator
from domain.errors import CustodyError, InvalidInput, NotFound, RuleViolation
from ledger.password_enrolment import PasswordChangeRequired
from ledger.signing_lockout import SigningLocked
from ledger.signing_session import SignatureRefused
from ledger.store import ConcurrentChange

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:custody-ledger:problem:"


class Problem(BaseModel):
    """An RFC 9457 problem detail, with the field at fault and the rule broken."""

    type: str = Field(description="A URN naming the rule: urn:custody-ledger:problem:<rule>.")
    title: str = Field(description="Short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong, in words staff can act on.")
    field: str | None = Field(default=None, description="The request field at fault, when one is.")
    rule: str = Field(description="Stable machine-readable code of the rule.")
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Every schema error, when the request did not match the schema."
    )

    model_config = {
        "json_schema_extra": {
            "example": {
                "type": "urn:custody-ledger:problem:out_of_order",
                "title": "Conflict with the product's state",
                "status": 409,
                "detail": "Thawed needs the product dispensed first; it is stored_in_ln2",
                "field": "type",
                "rule": "out_of_order",
            }
        }
    }


class ApiProblem(Exception):
    """Raised by the HTTP layer itself (authentication, roles, headers)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        rule: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.rule = rule
        self.field = field
        self.headers = headers or {}


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    rule: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    """The problem+json answer."""
    body = Problem(
        type=TYPE_PREFIX + rule, title=title, status=status, detail=detail, field=field, rule=rule, errors=errors
    )
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def remembered(request: Request, response: JSONResponse) -> JSONResponse:
    """Keep the rule on the request, for the access log line written after the answer; in French if asked.

    The web pages (``/ui/``) put the problem in their own language themselves (api/web/errors.py).
    """
    body = json.loads(bytes(response.body))
    request.state.rule = body.get("rule")
    if not request.url.path.startswith("/ui/") and asked(request.headers.get("accept-language")) == "fr":
        return _in_french(response, body)
    return response


def _in_french(response: JSONResponse, body: dict[str, Any]) -> JSONResponse:
    """The same problem, its title and detail in French; ``rule``, ``field`` and the status unchanged.

    A rule without French keeps the ledger's English detail rather than lose it.
    """
    t = translator("fr")
    body["title"] = t(str(body.get("title", "")))
    body["detail"] = t.rule(body.get("rule"), body.get("field")) or body.get("detail", "")
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
    headers["Content-Language"] = "fr"
    return JSONResponse(body, status_code=response.status_code, media_type=PROBLEM_JSON, headers=headers)


def status_of(error: Exception) -> tuple[int, str]:
    """The HTTP status and title for an exception the ledger raises."""
    if isinstance(error, RuleViolation) and error.rule == "role_not_allowed":
        return 403, "Not allowed for your role"
    if isinstance(error, NotFound):
        return 404, "Not found"
    if isinstance(error, InvalidInput):
        return 422, "Invalid request"
    if isinstance(error, ConcurrentChange):
        return 409, "Changed by someone else"
    if isinstance(error, RuleViolation):
        return 409, "Conflict with the current state"
    if isinstance(error, SigningLocked):
        return 401, "Signing locked"
    if isinstance(error, PasswordChangeRequired):
        return 403, "Password change required"
    if isinstance(error, SignatureRefused):
        return 401, "Signature not authenticated"
    return 422, "Refused"


def custody_error(request: Request, error: Exception) -> JSONResponse:
    """A domain or ledger refusal as problem+json."""
    return remembered(request, _custody_problem(error))


def _custody_problem(error: Exception) -> JSONResponse:
    status, title = status_of(error)
    if isinstance(error, CustodyError):
        return problem_response(status, title, error.message, rule=error.rule, field=error.field)
    if isinstance(error, SignatureRefused):
        rule = "signature_password_required" if error.password_required else error.rule
        return problem_response(status, title, str(error), rule=rule, field="password")
    rule = str(getattr(error, "rule", "refused"))
    return problem_response(status, title, str(error), rule=rule)


def api_problem(request: Request, error: Exception) -> JSONResponse:
    """A refusal raised by the HTTP layer."""
    assert isinstance(error, ApiProblem)
    return remembered(
        request,
        problem_response(
            error.status, error.title, error.detail, rule=error.rule, field=error.field, headers=error.headers
        ),
    )


def not_initialised(request: Request, error: Exception) -> JSONResponse:
    """The store has no ledger yet."""
    return remembered(request, problem_response(503, "Ledger not initialised", str(error), rule="not_initialised"))


def schema_error(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's request validation, reported with the first field at fault."""
    assert isinstance(error, RequestValidationError)
    errors = [
        {"field": ".".join(str(part) for part in item.get("loc", ())), "message": str(item.get("msg", ""))}
        for item in error.errors()
    ]
    first = errors[0] if errors else {"field": None, "message": "the request does not match the schema"}
    return remembered(
        request,
        problem_response(
            422,
            "Invalid request",
            f"{first['field']}: {first['message']}",
            rule="schema",
            field=first["field"],
            errors=errors,
        ),
    )


def http_error(request: Request, error: Exception) -> JSONResponse:
    """Starlette's own errors (unknown path, method not allowed) as problem+json too."""
    assert isinstance(error, StarletteHTTPException)
    rule = {400: "unparsable_body", 404: "no_such_path", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    # The framework's 400 is a body it could not parse (bad UTF-8, a multipart without boundary): malformed, so 422.
    status = 422 if error.status_code == 400 else error.status_code
    return remembered(
        request,
        problem_response(status, str(error.detail), str(error.detail), rule=rule, headers=dict(error.headers or {})),
    )


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem answers an endpoint can give."""
    described = {
        401: "Not signed in, token expired, the signature password is missing or wrong, or signing is locked",
        403: "Your role may not do this",
        404: "Nothing has that id",
        409: "Conflicts with the stored state, or someone changed it first",
        413: "The request body is larger than CUSTODY_MAX_BODY_BYTES: refused before it was read whole",
        422: "The request is malformed: the field and the rule are named",
        429: "Too many failed sign-ins: the account is locked for a while",
        503: "The database is read-only, locked or cannot be reached (the rule says which): nothing was stored",
        507: "The database's disk is full: nothing was stored; reads still work",
    }
    return {
        status: {"model": Problem, "description": described[status], "content": {PROBLEM_JSON: {}}}
        for status in statuses
    }
