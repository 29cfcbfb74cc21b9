"""The worklist: what awaits me, most urgent first; the running deadlines; a scan box that opens the product.

A nurse at 3 a.m. reads the top of the page: the products awaiting her next step, a running deadline
first (the least time left first), then the products on hold, each deadline with the clock time it
expires at the site, the time left and its level in words and colour. Scanning a COI label (the
scanner types it, then Enter) into the search box opens that product's page at once; any other text
filters the lists by COI, patient pseudonym or product id. Every list is cut into pages by the
database (projections/worklist_query.py): the page weighs the same with the demo's products or with
thousands more.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.rest import access
from api.rest.context import ApiContext, context
from api.rest.reads import visible
from api.rest.tokens import Principal
from api.web.deadlines import loudest, shown_deadline
from api.web.i18n import language, translator
from api.web.pages import my_steps
from api.web.rendering import render
from api.web.session import web_principal
from api.web.views import zone
from domain.errors import InvalidIdentifier, InvalidInput
from domain.events import Role
from domain.identifiers import parse_coi, product_id_for
from projections import followup_query, worklist_query
from projections.product_status import STATUS
from projections.schedule_query import schedule
from projections.view import Row
from projections.worklist_query import DEADLINE_ORDER, Page, Section

router = APIRouter(prefix="/ui", include_in_schema=False)
Signed = Annotated[Principal, Depends(web_principal)]
Ctx = Annotated[ApiContext, Depends(context)]
PAGE_SIZE = 20
SEARCH_MAX = 100
PAGE_PARAMETERS = ("page", "deadlines_page", "others_page")
"""One page number per list, so turning the page of one list leaves the others where they were."""


def page_number(value: str | None, field: str) -> int:
    """A page number from the address: a whole number from 1 (past the last page, the last page is shown)."""
    if value is None or value == "":
        return 1
    if not value.isdigit() or int(value) < 1:
        raise InvalidInput(f"{field} must be a page number from 1, got {value[:20]!r}", field=field, rule="page_number")
    return int(value)


def search_text(value: str | None) -> str:
    """The search box's text, trimmed; refused when longer than any COI, id or pseudonym."""
    text = (value or "").strip()
    if len(text) > SEARCH_MAX:
        raise InvalidInput(
            f"q must be at most {SEARCH_MAX} characters (a COI, a product id or a patient pseudonym), got {len(text)}",
            field="q",
            rule="search_too_long",
        )
    return text


def scanned_product(ctx: ApiContext, principal: Principal, text: str) -> UUID | None:
    """The product a scanned COI (or a pasted product id) names, when it exists and this person may see it."""
    try:
        product_id = UUID(text)
    except ValueError:
        try:
            product_id = product_id_for(parse_coi(text, field="q"))
        except InvalidIdentifier:
            return None
    with ctx.ledger.store.side_transaction() as cursor:
        cursor.execute(f"SELECT product_id FROM {STATUS.name} WHERE product_id = %s", (str(product_id),))
        found = cursor.fetchone()
    if found is None or not visible(ctx, principal, product_id):
        return None
    return product_id


def _link(params: dict[str, Any], name: str, number: int) -> str:
    kept = {key: value for key, value in params.items() if value not in (None, "", 1) and key != name}
    if number > 1:
        kept[name] = number
    return "/ui/" + (f"?{urlencode(kept)}" if kept else "")


def _pager(page: Page, name: str, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "page": page,
        "previous": _link(params, name, page.number - 1) if page.number > 1 else None,
        "next": _link(params, name, page.number + 1) if page.number < page.pages else None,
    }


UPCOMING_DAYS = 14
UPCOMING_ROWS = 20


def upcoming_days(ctx: ApiContext, principal: Principal, today: date) -> list[dict[str, Any]] | None:
    """The open orders' apheresis, manufacturing-slot and infusion days in the next two weeks, for the care team
    (the readers of pathways, as `custody schedule`); None for anyone else, who sees no such section."""
    if principal.role not in {str(role) for role in access.PATHWAY_READERS}:
        return None
    last = today + timedelta(days=UPCOMING_DAYS)
    return [row for row in schedule(ctx.ledger, today) if date.fromisoformat(row["day"]) <= last][:UPCOMING_ROWS]


@router.get("/", response_class=HTMLResponse)
def worklist(
    request: Request,
    principal: Signed,
    ctx: Ctx,
    q: str | None = None,
    page: str | None = None,
    deadlines_page: str | None = None,
    others_page: str | None = None,
) -> Response:
    """Products awaiting my step, running deadlines, overdue follow-up visits and the others, each a page at a time."""
    search = search_text(q)
    numbers = {
        name: page_number(value, name)
        for name, value in zip(PAGE_PARAMETERS, (page, deadlines_page, others_page), strict=True)
    }
    store, now, tz = ctx.ledger.store, ctx.ledger.clock.now(), zone(ctx)
    shown_after = store.size()  # the live worklist's stream resumes here: nothing recorded from now on is missed
    steps = worklist_query.next_steps(store)  # catches the status up: a product enrolled a moment ago is found
    if search:
        product_id = scanned_product(ctx, principal, search)
        if product_id is not None:
            return RedirectResponse(f"/ui/products/{product_id}", status_code=303)
    t = translator(language(request.cookies.get("lang"), request.headers.get("accept-language")))
    mine = [step for step in steps if my_steps(step, principal.role)]
    keep: Callable[[Row], bool] | None = None
    if principal.role == Role.SPONSOR:
        keep = lambda row: visible(ctx, principal, UUID(row["product_id"]))  # noqa: E731

    def section(which: Section, name: str) -> Page:
        return worklist_query.section_page(
            store, now, which, number=numbers[name], size=PAGE_SIZE, search=search or None, keep=keep
        )

    awaiting = section(Section(next_steps=mine), "page")
    deadlines = section(Section(running_deadline=True, order=DEADLINE_ORDER), "deadlines_page")
    others = section(Section(other_than=mine), "others_page")
    catalogue = ctx.ledger.catalogue
    for listed in (awaiting, deadlines, others):
        for row in listed.rows:
            row["steps"] = my_steps(row["next_step"], principal.role)
            row["shown_deadlines"] = [
                shown_deadline(deadline, row["product_code"], catalogue, tz, t) for deadline in row["deadlines"]
            ]
            row["level"] = loudest(row["shown_deadlines"])
    params: dict[str, Any] = {"q": search or None, **numbers}
    overdue = followup_query.worklist(store, now.astimezone(tz).date(), overdue_only=True)
    upcoming = upcoming_days(ctx, principal, now.astimezone(tz).date())
    return render(
        request,
        "worklist.html",
        {
            "search": search,
            "matches": awaiting.total + others.total,
            "awaiting": _pager(awaiting, "page", params),
            "deadlines": _pager(deadlines, "deadlines_page", params),
            "others": _pager(others, "others_page", params),
            "overdue": overdue,
            "upcoming": upcoming,
            "shown_after": shown_after,
        },
    )
