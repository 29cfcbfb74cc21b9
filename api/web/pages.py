"""The web interface's core pages: sign-in, the product page and the step forms (the worklist: worklist.py).

Server-rendered HTML (Jinja2) with htmx for the scan check, so a bedside tablet
needs nothing but a browser. Every page goes through the same ledger, the same
roles and the same signature rules as the HTTP API; a scanned label or wristband
that does not match is refused by the ledger and recorded as a near miss that
suspends the product, as through the API.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from api.rest.context import ApiContext, context
from api.rest.problems import status_of
from api.rest.reads import visible
from api.rest.tokens import Principal
from api.web import barcode, drafts
from api.web.blockers import acknowledged, approval_unavailable, product_facts, step_facts, typed_fields
from api.web.forms import FormField, form_fields, payload_from_form, refill
from api.web.rendering import render
from api.web.session import COOKIE, check_csrf, csrf_for, web_principal
from api.web.step_choices import known_choices
from api.web.temperature_chart import temperature_charts
from api.web.views import local_time, product_reference, vein_to_vein, zone
from domain.errors import CustodyError, InvalidInput, NotFound
from domain.identifiers import parse_coi, product_id_for
from domain.registry import EVENT_TYPES
from domain.sec_code import parse_sec
from domain.spec import EventSpec
from ledger.bundle import export_bundle
from ledger.clock import local_instant
from ledger.credentials import SignIn
from ledger.merkle_log import checkpoint_if_due
from ledger.password_enrolment import CHANGE_PAGE
from ledger.signing_session import SignatureRefused
from ledger.store import ConcurrentChange
from ledger.trust_anchor import home_trust_anchor
from ledger.verifier import verify_aggregate
from projections.status_query import status_now

router = APIRouter(prefix="/ui", include_in_schema=False)
Signed = Annotated[Principal, Depends(web_principal)]
Ctx = Annotated[ApiContext, Depends(context)]
STEP_COLLECTIONS = {"products": "product", "shipments": "shipment"}
EVENT_NAME = re.compile(r"[A-Z][A-Za-z0-9]+")


def steps_named(next_step: str | None) -> list[EventSpec]:
    """The event types a "next step" text names ("ProductDestroyed or ProductReturned" → two)."""
    return [EVENT_TYPES[name] for name in EVENT_NAME.findall(next_step or "") if name in EVENT_TYPES]


def my_steps(next_step: str | None, role: str) -> list[EventSpec]:
    """Of those, the ones this role records."""
    return [spec for spec in steps_named(next_step) if spec.allows_role(role)]


def _visible_product(ctx: ApiContext, principal: Principal, reference: str) -> UUID:
    """A product this person may read: a sponsor's other-trial products are "not found", as in the API."""
    product_id = product_reference(reference)
    if not visible(ctx, principal, product_id):
        raise NotFound(f"no product visible to you has the id {reference}", field="product")
    return product_id


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str = "/ui/") -> HTMLResponse:
    """The sign-in form."""
    return render(request, "sign_in.html", {"next": _safe_next(next), "error": None})


def _safe_next(target: str) -> str:
    """Only paths of this interface: never a redirect to another site."""
    return target if target.startswith("/ui/") and not target.startswith("//") else "/ui/"


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request, ctx: Ctx) -> Response:
    """Check the password (same lockout as the API), set the session cookie, go where the person was going."""
    form = await request.form()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "/ui/")))

    result = await run_in_threadpool(ctx.sign_in, username, password)
    draft = str(form.get("draft", ""))
    if result.token is not None:
        if result.outcome is SignIn.PASSWORD_CHANGE_REQUIRED:  # an enrolment secret: choose a password first
            target = f"{CHANGE_PAGE}?next={quote(target)}"
        response = RedirectResponse(target, status_code=303)
        if draft:  # the form typed before the session ended opens again with it (api/web/drafts.py)
            response.set_cookie(
                drafts.COOKIE, draft, httponly=True, samesite="strict", path="/ui/", max_age=drafts.DRAFT_MINUTES * 60
            )
        response.set_cookie(
            COOKIE,
            result.token.value,
            httponly=True,
            samesite="strict",
            max_age=int(ctx.tokens.lifetime.total_seconds()),
        )
        return response
    outcome = result.outcome
    error, until = "Unknown username or wrong password", None
    if outcome is SignIn.LOCKED:
        # Say until when, in the site's time: "later" leaves a nurse at 3 a.m. retrying and extending the lock.
        error = "Too many failed sign-ins: signing in is locked until {time}"
        until = local_time(result.locked_until, zone(ctx)) if result.locked_until else "—"
    values = {"next": target, "error": error, "error_until": until, "draft": draft, "session_ended": bool(draft)}
    return render(request, "sign_in.html", values, status=429 if outcome is SignIn.LOCKED else 401)


@router.post("/sign-out")
async def sign_out(request: Request, principal: Signed, ctx: Ctx) -> Response:
    """End the session (and its signing session)."""
    form = await request.form()
    check_csrf(ctx, principal, str(form.get("csrf", "")))
    ctx.ledger.end_signing_session(principal.username, principal.session)
    response = RedirectResponse("/ui/sign-in", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/lang/{code}")
def choose_language(code: str, request: Request) -> Response:
    """Remember the language and go back."""
    back = _safe_next(request.headers.get("referer", "/ui/").split(request.url.netloc, 1)[-1])
    response = RedirectResponse(back, status_code=303)
    if code in ("fr", "en"):
        response.set_cookie("lang", code, samesite="strict", max_age=365 * 24 * 3600)
    return response


def _product_page_data(ctx: ApiContext, product_id: UUID) -> dict[str, Any]:
    status = status_now(ctx.ledger.store, product_id, ctx.ledger.clock.now(), ctx.ledger.catalogue)
    history = ctx.ledger.history(product_id)
    failures = verify_aggregate(
        ctx.ledger.store, product_id, home_trust_anchor(ctx.settings.home), ctx.ledger.meta.ledger_id()
    )
    return {"status": status, "history": history, "failures": failures, "sec": _sec_label(history)}


def _sec_label(history: list[Any]) -> str | None:
    """An MSC dose's Single European Code as its label prints it ("SEC FR000123 …"), None when it has none."""
    sec = history[0].body["payload"].get("sec") if history else None
    if not isinstance(sec, str):
        return None
    try:
        return parse_sec(sec).eye_readable()
    except InvalidInput:
        return sec  # stored by an older or hostile writer: shown as stored, never hidden


@router.get("/products/{reference}", response_class=HTMLResponse)
def product_page(
    reference: str, request: Request, principal: Signed, ctx: Ctx, recorded: str | None = None
) -> HTMLResponse:
    """The COI label, status, location, timeline, deviations, verification badge and next steps."""
    product_id = _visible_product(ctx, principal, reference)
    data = _product_page_data(ctx, product_id)
    status = data["status"]
    steps = my_steps(status["next_step"], principal.role)
    return render(
        request,
        "product.html",
        {
            **data,
            "product_id": product_id,
            "steps": steps,
            "shipment_steps": _shipment_steps(ctx, status, principal),
            "can_dispatch": any(spec.name == "ShipmentDispatched" for spec in steps),
            "recorded": recorded,
            "can_annotate": EVENT_TYPES["AnnotationAdded"].allows_role(principal.role),
            "vein_to_vein": vein_to_vein(ctx, product_id),
            "temperature_charts": temperature_charts(ctx.ledger, product_id, zone(ctx)),
            **product_facts(ctx, principal, product_id),
        },
    )


def _shipment_steps(ctx: ApiContext, status: dict[str, Any], principal: Principal) -> list[tuple[str, EventSpec]]:
    shipment = status.get("shipment_id")
    if not shipment or status.get("state") != "in_transit":
        return []
    names = ("ShipmentHandedOver", "ShipmentHandOverAccepted", "ShipmentReceived")
    return [(str(shipment), EVENT_TYPES[name]) for name in names if EVENT_TYPES[name].allows_role(principal.role)]


@router.get("/products/{reference}/label.svg")
def label(reference: str, principal: Signed, ctx: Ctx) -> Response:
    """The COI as a Code 128 barcode (SVG), as printed on the bag's label."""
    product_id = _visible_product(ctx, principal, reference)
    status = status_now(ctx.ledger.store, product_id, ctx.ledger.clock.now(), ctx.ledger.catalogue)
    return Response(barcode.code128_svg(status["coi"]), media_type="image/svg+xml")


@router.get("/products/{reference}/export")
def download_bundle(reference: str, principal: Signed, ctx: Ctx) -> Response:
    """The product's verification bundle, as a file to keep or hand to an inspector."""
    product_id = _visible_product(ctx, principal, reference)
    bundle = export_bundle(ctx.ledger, product_id)
    return Response(
        json.dumps(bundle, indent=1),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="bundle-{product_id}.json"'},
    )


@router.post("/products/{reference}/check-scan", response_class=HTMLResponse)
async def check_scan(reference: str, request: Request, principal: Signed, ctx: Ctx) -> HTMLResponse:
    """htmx: does the scanned label belong to this product? Answered before anything is signed."""
    form = await request.form()
    scanned = str(form.get(str(form.get("field", "scanned")), "")).strip()
    return render(request, "_scan_result.html", {"verdict": scan_verdict(product_reference(reference), scanned)})


def scan_verdict(product_id: UUID, scanned: str) -> str:
    """'match', 'mismatch' or 'empty'."""
    if not scanned:
        return "empty"
    try:
        return "match" if product_id_for(parse_coi(scanned, field="scanned")) == product_id else "mismatch"
    except InvalidInput:
        return "mismatch"


def _prefill(
    ctx: ApiContext, spec: EventSpec, collection: str, aggregate_id: UUID | None, product: str | None
) -> dict[str, object]:
    now = ctx.ledger.clock.now().astimezone(zone(ctx)).strftime("%Y-%m-%dT%H:%M")
    values: dict[str, object] = {}
    for field in form_fields(spec.payload):
        if field.widget == "datetime":
            values[field.name] = now
    if spec.name == "ShipmentDispatched" and product:
        values["units"] = [product]
    if spec.name == "ShipmentReceived" and aggregate_id is not None:
        shipment = ctx.ledger.load(aggregate_id)
        units = [str(unit) for unit in getattr(shipment, "units", [])]
        values["received_units"] = [{"product_id": unit, "scanned_coi": "", "condition": "intact"} for unit in units]
    return values


def _step_context(
    ctx: ApiContext, principal: Principal, collection: str, reference: str, event_type: str, product: str | None
) -> dict[str, Any]:
    kind = STEP_COLLECTIONS.get(collection)
    spec = EVENT_TYPES.get(event_type)
    if kind is None or spec is None or spec.kind != kind or spec.derived_from is not None:
        raise NotFound(f"no step {event_type!r} is recorded on {collection}", field="type")
    aggregate_id: UUID | None
    if kind == "product":
        aggregate_id = product_reference(reference)
    elif reference == "new":
        aggregate_id = None
    else:
        aggregate_id = UUID(reference)
    return {
        "spec": spec,
        "collection": collection,
        "reference": reference,
        "aggregate_id": aggregate_id,
        "product": product if kind != "product" else str(aggregate_id),
        "fields": typed_fields(
            form_fields(
                spec.payload,
                _prefill(ctx, spec, collection, aggregate_id, product),
                known_choices(ctx.ledger, spec.name, aggregate_id),
            )
        ),
        "password_needed": ctx.ledger.signature_needs_password(principal.username, principal.session),
        "csrf": csrf_for(ctx, principal.session),
        "new_id": str(uuid.uuid4()),
        "error": None,
        **step_facts(ctx, principal, spec, aggregate_id),
    }


def _forbidden(request: Request, principal: Principal, spec: EventSpec) -> HTMLResponse:
    roles = ", ".join(sorted(str(r) for r in spec.roles))
    return render(
        request,
        "error.html",
        {
            "title": "Not allowed for your role",
            "detail": f"the role {principal.role} may not record {spec.name}; allowed: {roles}",
            "rule": "role_not_allowed",
            "field": "role",
        },
        status=403,
    )


def _not_offered_yet(request: Request) -> HTMLResponse:
    """The QP's approval before any request: the decision answers a physician's written request, so it waits."""
    detail = (
        "The QP's approval is offered once the treating physician has requested the exceptional release in writing: "
        "no request yet."
    )
    values = {"title": "Not offered yet", "detail": detail, "rule": "no_pending_request", "field": None}
    return render(request, "error.html", values, status=409)


@router.get("/{collection}/{reference}/steps/{event_type}", response_class=HTMLResponse)
def step_form(
    collection: str,
    reference: str,
    event_type: str,
    request: Request,
    principal: Signed,
    ctx: Ctx,
    product: str | None = None,
) -> HTMLResponse:
    """The form of one step, with the scan field and the signature dialog."""
    spec = EVENT_TYPES.get(event_type)
    if spec is not None and not spec.allows_role(principal.role):
        return _forbidden(request, principal, spec)
    page = _step_context(ctx, principal, collection, reference, event_type, product)
    if approval_unavailable(ctx, page["spec"], page["aggregate_id"]):
        return _not_offered_yet(request)
    now = ctx.ledger.clock.now()
    kept = drafts.unseal(drafts.draft_key(ctx.settings.home), request.cookies.get(drafts.COOKIE), request.url.path, now)
    if kept is not None:  # typed before the session ended: back in the form, with the same id (no double record)
        page["fields"] = refill(page["fields"], kept)
        page["new_id"] = kept.get("new_id") or page["new_id"]
        page["draft_restored"] = True
    response = render(request, "step.html", page)
    if request.cookies.get(drafts.COOKIE):
        response.delete_cookie(drafts.COOKIE, path="/ui/")
    return response


@router.post("/{collection}/{reference}/steps/{event_type}", response_class=HTMLResponse)
async def record_step(
    collection: str, reference: str, event_type: str, request: Request, principal: Signed, ctx: Ctx
) -> Response:
    """Check the scans, then sign and store the step; on refusal show the form again with the reason."""
    spec = EVENT_TYPES.get(event_type)
    if spec is not None and not spec.allows_role(principal.role):
        return _forbidden(request, principal, spec)
    form = {key: str(value) for key, value in (await request.form()).items()}
    check_csrf(ctx, principal, form.get("csrf"))
    page = _step_context(ctx, principal, collection, reference, event_type, form.get("product") or None)
    spec = page["spec"]
    fields: list[FormField] = refill(page["fields"], form)
    # A refused form is shown again with what was typed, except the wristband: a scan of the wrong
    # patient's wristband is another person's identity, never echoed back in a page.
    page["fields"] = [replace(f, value="") if f.name.startswith("wristband_") else f for f in fields]
    target = page["aggregate_id"] or UUID(form.get("new_id") or str(uuid.uuid4()))
    page["new_id"] = str(target)
    try:
        # The scans are judged by the ledger, not here: a mismatch is then refused AND recorded as a near
        # miss that suspends the product, exactly as through the API and the CLI.
        payload = acknowledged(spec, form, payload_from_form(fields, form, zone(ctx)))
        occurred = form.get("occurred_at", "").strip()
        occurred_at = local_instant(occurred, "occurred_at", zone(ctx)) if occurred else None

        def store() -> None:
            ctx.ledger.record(
                spec.name, target, payload,
                user=principal.username, meaning=form.get("meaning") or None,
                password=form.get("password") or None, occurred_at=occurred_at, session=principal.session,
                channel="web",
            )  # fmt: skip
            checkpoint_if_due(ctx.ledger)

        await run_in_threadpool(store)
    except (CustodyError, SignatureRefused, ConcurrentChange, ValueError) as error:
        status, title = status_of(error) if not isinstance(error, ValueError) else (422, "Invalid request")
        page["error"] = {
            "title": title,
            "detail": getattr(error, "message", str(error)),
            "field": getattr(error, "field", None) or ("password" if isinstance(error, SignatureRefused) else None),
            "rule": getattr(error, "rule", "invalid_input"),
        }
        page["password_needed"] = ctx.ledger.signature_needs_password(principal.username, principal.session)
        return render(request, "step.html", page, status=status)
    product = page["product"] or (str(target) if spec.kind == "product" else None)
    back = f"/ui/products/{product}" if product else "/ui/"
    return RedirectResponse(f"{back}?recorded={quote(spec.name)}", status_code=303)
