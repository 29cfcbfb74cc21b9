"""Live scan checks: is the label, bag, patient or wristband just scanned this product's, before anything is signed?

A step form sends each scan here as it is read (the scanner's Enter, htmx) and shows the
answer beside the field: a green match, or a red alert that keeps the sign button
disabled (api/web/static/app.js). Nothing is recorded by a live check: it only reads.
The signed step is judged again by the ledger, which refuses a mismatch and records it
as a near miss, as through the API.

The wristband is compared with the patient's sealed identity inside the ledger
(``CustodyLedger.match_wristband``); the answer is match or no match, never which field
differed nor anything of the identity, and only to the roles that perform bedside
checks. A person who may not see a product gets "not found", as on its page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from api.rest.access import forbidden
from api.rest.context import ApiContext, context
from api.rest.reads import visible
from api.rest.tokens import Principal
from api.web.rendering import render
from api.web.session import web_principal
from api.web.views import product_reference
from domain.bedside_identity import WristbandScan, normal_hospital_number, read_birth_date
from domain.errors import InvalidInput, NotFound
from domain.identifiers import parse_coi, product_id_for
from domain.product import TherapyProduct
from domain.registry import EVENT_TYPES

router = APIRouter(prefix="/ui", include_in_schema=False)
Signed = Annotated[Principal, Depends(web_principal)]
Ctx = Annotated[ApiContext, Depends(context)]

PRODUCT_SCANS = ("coi", "bag", "bag_to_thaw", "patient", "wristband")
WRISTBAND_STEPS = ("BedsideCheckPerformed", "BedsideCheckWitnessed")


@dataclass(frozen=True)
class Verdict:
    """What the person sees beside the field: match, mismatch, invalid (unreadable) or empty (not yet scanned)."""

    outcome: str
    message: str = ""

    @property
    def blocks(self) -> bool:
        """A verdict that keeps the sign button disabled."""
        return self.outcome in ("mismatch", "invalid")


EMPTY = Verdict("empty")


def coi_verdict(product: TherapyProduct, scanned: str) -> Verdict:
    """The COI label in hand against the product's (an unreadable label is no match either)."""
    if not scanned:
        return EMPTY
    try:
        same = product_id_for(parse_coi(scanned, field="scanned")) == product.id
    except InvalidInput:
        same = False
    if same:
        return Verdict("match", "COI matches this product")
    return Verdict("mismatch", "MISMATCH: this label is not this product")


def bag_verdict(product: TherapyProduct, scanned: str) -> Verdict:
    """The bag in hand at the bedside: a thawed bag of this product (any of its bags before a thaw)."""
    if not scanned:
        return EMPTY
    known = product.thawed_bags or product.bags
    if not known or scanned in known:  # the ledger has no bag list to compare with for a lot recorded without one
        return Verdict("match", "This bag is a bag of this product")
    return Verdict("mismatch", "MISMATCH: this bag is not a bag of this product")


def bag_to_thaw_verdict(product: TherapyProduct, scanned: str) -> Verdict:
    """The bag about to be thawed: one of the lot, not thawed already."""
    if not scanned:
        return EMPTY
    if product.bags and scanned not in product.bags:
        return Verdict("mismatch", "MISMATCH: this bag is not a bag of this product")
    if scanned in product.thawed_bags:
        return Verdict("mismatch", "This bag is already thawed")
    return Verdict("match", "This bag is a bag of this product")


def patient_verdict(product: TherapyProduct, scanned: str) -> Verdict:
    """The patient label (pseudonym) against the product's patient."""
    if not scanned:
        return EMPTY
    if scanned == product.patient_pseudonym:
        return Verdict("match", "Patient matches this product")
    return Verdict("mismatch", "MISMATCH: this is not this product's patient")


def wristband_verdict(ctx: ApiContext, product: TherapyProduct, hospital_number: str, birth_date: str) -> Verdict:
    """The wristband against the sealed identity, compared inside the ledger: match or not, nothing more."""
    if not hospital_number or not birth_date:
        return Verdict("empty", "Scan the hospital number and the birth date of the wristband")
    try:
        born = read_birth_date(birth_date, field="payload.wristband_birth_date")
    except InvalidInput:
        return Verdict("invalid", "The wristband's birth date is not a date (YYYY-MM-DD or DD/MM/YYYY)")
    scan = WristbandScan(hospital_number=normal_hospital_number(hospital_number), birth_date=born)
    match = ctx.ledger.match_wristband(product.patient_pseudonym, scan)
    if not match.registered:
        return Verdict("invalid", "No identity is registered for this patient: the wristband cannot be checked")
    if match.matched:
        return Verdict("match", "Wristband matches this product's patient")
    return Verdict("mismatch", "MISMATCH: this wristband is not this product's patient")


def unit_verdict(ctx: ApiContext, principal: Principal, scanned: str) -> Verdict:
    """A product put into a shipper, by its COI label or its id: a product this person can see."""
    if not scanned:
        return EMPTY
    try:
        product_id = product_reference(scanned)
    except InvalidInput:
        return Verdict("mismatch", "UNKNOWN: no product has this label")
    found = ctx.ledger.load(product_id)
    if not isinstance(found, TherapyProduct) or not visible(ctx, principal, product_id):
        return Verdict("mismatch", "UNKNOWN: no product has this label")
    return Verdict("match", "Product found")


def _visible_product(ctx: ApiContext, principal: Principal, reference: str) -> TherapyProduct:
    product_id: UUID = product_reference(reference)
    found = ctx.ledger.load(product_id)
    if not isinstance(found, TherapyProduct) or not visible(ctx, principal, product_id):
        raise NotFound(f"no product visible to you has the id {reference}", field="product")
    return found


def product_scan_verdict(
    ctx: ApiContext, principal: Principal, reference: str, kind: str, form: dict[str, str]
) -> Verdict:
    """The verdict of one live check on a product's form (``form`` as the browser sent it)."""
    if kind not in PRODUCT_SCANS:
        raise NotFound(f"no live check {kind!r}; known: {', '.join(PRODUCT_SCANS)}", field="kind")
    if kind == "wristband" and not any(EVENT_TYPES[step].allows_role(principal.role) for step in WRISTBAND_STEPS):
        roles = frozenset(str(role) for step in WRISTBAND_STEPS for role in EVENT_TYPES[step].roles)
        raise forbidden(principal, "check a wristband (only who performs bedside checks)", roles)
    product = _visible_product(ctx, principal, reference)
    if kind == "wristband":
        return wristband_verdict(
            ctx, product, form.get("wristband_hospital_number", ""), form.get("wristband_birth_date", "")
        )
    scanned = form.get(form.get("field", ""), "")
    judge = {"coi": coi_verdict, "bag": bag_verdict, "bag_to_thaw": bag_to_thaw_verdict, "patient": patient_verdict}
    return judge[kind](product, scanned)


async def _form(request: Request) -> dict[str, str]:
    return {key: str(value).strip() for key, value in (await request.form()).items()}


@router.post("/products/{reference}/scan/{kind}", response_class=HTMLResponse)
async def check_product_scan(reference: str, kind: str, request: Request, principal: Signed, ctx: Ctx) -> HTMLResponse:
    """htmx: the scan's verdict, shown beside the field before anything is signed; nothing is recorded."""
    form = await _form(request)
    verdict = await run_in_threadpool(product_scan_verdict, ctx, principal, reference, kind, form)
    return render(request, "_scan_verdict.html", {"verdict": verdict})


@router.post("/scan/unit", response_class=HTMLResponse)
async def check_unit_scan(request: Request, principal: Signed, ctx: Ctx) -> HTMLResponse:
    """htmx: a unit scanned into a shipper is a product this person can see."""
    form = await _form(request)
    verdict = await run_in_threadpool(unit_verdict, ctx, principal, form.get(form.get("field", ""), ""))
    return render(request, "_scan_verdict.html", {"verdict": verdict})
