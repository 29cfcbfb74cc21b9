"""The HTTP API application: routes, problem answers, the access log, and the database-down answer.

``create_app`` builds one application over one configured store; `custody serve`
runs it with uvicorn and tests drive it with httpx. When the database cannot be
reached the answer is 503 with ``Retry-After``: the write was one transaction,
so nothing of it was stored, and the next request reconnects by itself (the
PostgreSQL pool checks its connections before use) without a restart.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import psycopg
import psycopg_pool
from eventsourcing.persistence import DataError, InterfaceError, OperationalError
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.rest import admin, problems, reads, security, writes
from api.rest.access_log import AccessLog
from api.rest.context import ApiContext, context
from api.web import errors as web_errors
from api.web import pages as web
from api.web import views as web_views
from api.web.errors import as_page
from api.web.session import BadCsrf, SignInRequired
from domain.errors import CustodyError
from ledger.clock import Clock
from ledger.ledger_meta import NotInitialised
from ledger.settings import Settings
from ledger.signing_session import SignatureRefused
from ledger.store import ConcurrentChange

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
DATABASE_DOWN = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg_pool.PoolTimeout, sqlite3.Error)
DESCRIPTION = """Signed, event-sourced chain of identity and custody for cell-therapy products.

Sign in at `POST /auth/token` (form fields `username`, `password`) and send the token as
`Authorization: Bearer <token>`. Each step is a signed event: the first signature after signing
in needs your password in the body (`password`), as 21 CFR Part 11 asks. Send `Idempotency-Key`
so that a retried request stores nothing twice, and `If-Match` with the version you read so that
a step recorded by someone else in between gives 409 instead of acting on stale information.
Errors are RFC 9457 problem details naming the field and the rule.
"""


class Health(BaseModel):
    """The server answers and its database is reachable."""

    status: str
    database: str
    events: int


def database_down(request: Request, error: Exception) -> JSONResponse:
    """503: nothing was stored; the client retries later."""
    return problems.remembered(
        request,
        problems.problem_response(
            503,
            "Database unavailable",
            "the database cannot be reached right now: nothing was stored; try again in a moment",
            rule="database_unavailable",
            headers={"Retry-After": "5"},
        ),
    )


def unstorable_value(request: Request, error: Exception) -> JSONResponse:
    """422: PostgreSQL cannot take a value of the request (a NUL character in a text, say); SQLite can."""
    return problems.remembered(
        request,
        problems.problem_response(
            422,
            "Invalid request",
            f"the request holds a value the database cannot take: {error}",
            rule="unstorable_value",
        ),
    )


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {}).update(writes.components())
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    """The application over the configured store, which `custody init` must have created."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.context = ApiContext.open(settings, clock)
        try:
            yield
        finally:
            app.state.context.close()

    app = FastAPI(title="Custody Ledger", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.add_middleware(AccessLog)
    for error_type in (CustodyError, ConcurrentChange, SignatureRefused):
        app.add_exception_handler(error_type, as_page(problems.custody_error))
    app.add_exception_handler(problems.ApiProblem, as_page(problems.api_problem))
    app.add_exception_handler(NotInitialised, as_page(problems.not_initialised))
    app.add_exception_handler(RequestValidationError, as_page(problems.schema_error))
    app.add_exception_handler(StarletteHTTPException, as_page(problems.http_error))
    for down in DATABASE_DOWN:
        app.add_exception_handler(down, as_page(database_down))
    for unstorable in (DataError, psycopg.DataError):
        app.add_exception_handler(unstorable, as_page(unstorable_value))
    app.add_exception_handler(SignInRequired, web_errors.sign_in_required)
    app.add_exception_handler(BadCsrf, web_errors.bad_csrf)
    app.include_router(security.router)
    app.include_router(writes.router)
    app.include_router(reads.router)
    app.include_router(admin.router)
    app.include_router(web.router)
    app.include_router(web_views.router)
    app.mount("/ui/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        """People land on the web interface."""
        return RedirectResponse("/ui/", status_code=307)

    @app.get("/health", response_model=Health, tags=["operations"], responses=problems.responses(503))
    def health(ctx: Annotated[ApiContext, Depends(context)]) -> Health:
        """No token needed: the server runs and reaches its database."""
        return Health(status="ok", database="reachable", events=ctx.ledger.store.size())

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
