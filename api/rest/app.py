"""The HTTP API application: routes, problem answers, the access log, and the database-down answer.

``create_app`` builds one application over one configured store; `custody serve`
runs it with uvicorn and tests drive it with httpx. A storage fault is answered
by name (ledger/storage_faults.py): 507 ``storage_full``, 503
``storage_read_only``, ``database_locked`` or ``database_unavailable``, each
with ``Retry-After``. The write was one transaction, so nothing of it was
stored; a full or read-only database still serves reads; and once the database is
back the next request reconnects by itself (the PostgreSQL pool checks its
connections before use) without a restart, within the announced ``Retry-After``.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import psycopg
import psycopg_pool
from eventsourcing.persistence import DataError, PersistenceError
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from api.rest import (
    admin,
    batches,
    documents,
    event_stream,
    me,
    pathways,
    problems,
    reads,
    security,
    shipments,
    sites,
    trials,
    writes,
)
from api.rest import catalogue as catalogue_routes
from api.rest import cois as coi_routes
from api.rest import fhir as fhir_routes
from api.rest import log as log_routes
from api.rest import log_tiles as log_tile_routes
from api.rest import logger as logger_routes
from api.rest import registry_exports as registry_export_routes
from api.rest import schedule as schedule_routes
from api.rest import staff_training as staff_training_routes
from api.rest import storage_logger as storage_logger_routes
from api.rest import trial_sites as trial_site_routes
from api.rest.access_log import SAFE_METHODS, AccessLog
from api.rest.body_limits import MAX_JSON_DEPTH, BodyLimit
from api.rest.context import ApiContext, context
from api.web import audit_trail as web_audit_trail
from api.web import errors as web_errors
from api.web import labels as web_labels
from api.web import live as web_live
from api.web import pages as web
from api.web import password as web_password
from api.web import scan_checks as web_scan_checks
from api.web import trial_sites as web_trial_sites
from api.web import views as web_views
from api.web import worklist as web_worklist
from api.web.errors import as_page
from api.web.session import BadCsrf, SignInRequired
from domain.errors import CustodyError
from ledger.clock import Clock
from ledger.follower import READS_MAY_LAG
from ledger.ledger_meta import NotInitialised
from ledger.settings import Settings
from ledger.signing_session import SignatureRefused
from ledger.storage_faults import STORAGE_FULL, classify
from ledger.store import ConcurrentChange

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
# What a failing database raises: eventsourcing's wrappers (a read-only PostgreSQL transaction arrives as
# its InternalError), the drivers' own errors, the pool's timeout. DataError has a handler of its own.
DATABASE_DOWN = (PersistenceError, psycopg.Error, psycopg_pool.PoolTimeout, sqlite3.Error)
logger = logging.getLogger("custody.api")
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
    """The storage fault by name: 507 full, 503 read-only, locked or unreachable; nothing was stored.

    A storage error this server does not recognise is a 500 naming the error's type
    rather than a promise that retrying will help. Its type and route template are
    logged, never its message or the path: a driver's message can quote stored values.
    """
    fault = classify(error)
    if fault is None:
        route = getattr(request.scope.get("route"), "path", "(no route)")
        logger.error("unrecognised storage error %s on %s", type(error).__name__, route)
        return problems.remembered(
            request,
            problems.problem_response(
                500,
                "Storage error",
                f"the database refused the request ({type(error).__name__}): nothing was stored",
                rule="storage_error",
            ),
        )
    return problems.remembered(
        request,
        problems.problem_response(
            507 if fault is STORAGE_FULL else 503,
            fault.title,
            fault.message,
            rule=fault.rule,
            headers={"Retry-After": str(fault.retry_after_seconds)},
        ),
    )


class ReadsMayLag:
    """ASGI middleware: while a GET or HEAD is served, a projection that cannot catch up (the database
    takes no writes) answers with what it holds instead of failing the read (see ledger/follower.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        token = READS_MAY_LAG.set(True)
        try:
            await self.app(scope, receive, send)
        finally:
            READS_MAY_LAG.reset(token)


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


def too_deep(request: Request, error: Exception) -> JSONResponse:
    """422: a body nested deeper than any parser should follow (framework-parsed bodies land here)."""
    return problems.remembered(
        request,
        problems.problem_response(
            422,
            "Invalid request",
            f"the request body is nested too deep: at most {MAX_JSON_DEPTH} levels are accepted",
            rule="too_deep",
            field="body",
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
    app.add_middleware(ReadsMayLag)
    app.add_middleware(AccessLog)
    document_limit = settings.max_document_bytes + documents.MULTIPART_OVERHEAD
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, larger={("POST", "/documents"): document_limit})
    app.add_exception_handler(RecursionError, as_page(too_deep))
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
    app.include_router(fhir_routes.router)
    app.include_router(registry_export_routes.router)
    app.include_router(coi_routes.router)
    app.include_router(schedule_routes.router)
    app.include_router(log_routes.router)
    app.include_router(log_tile_routes.router)
    app.include_router(event_stream.router)
    app.include_router(admin.router)
    app.include_router(staff_training_routes.router)
    app.include_router(me.router)
    for register in (sites, trials, pathways, shipments, batches, catalogue_routes):
        app.include_router(register.router)
    app.include_router(trial_site_routes.router)
    app.include_router(documents.router)
    app.include_router(logger_routes.router)
    app.include_router(storage_logger_routes.router)
    app.include_router(web.router)
    app.include_router(web_password.router)
    app.include_router(web_views.router)
    app.include_router(web_audit_trail.router)
    app.include_router(web_trial_sites.router)
    app.include_router(web_worklist.router)
    app.include_router(web_live.router)
    app.include_router(web_scan_checks.router)
    app.include_router(web_labels.router)
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
