"""The audit trail page: every signed event, filtered, one page at a time, each row verified; CSV and signed bundle.

- ``/ui/audit/trail``: the filter form (person, role, site, event type, product or COI, from/to in
  the site's zone), one page of events in log order with each signature's Part 11 manifestation
  (printed name, role, meaning, time) and the verdict of the checks run on that row alone
  (ledger/row_verdicts.py); ``flag=near_miss`` is the near-miss tab.
- ``/ui/audit/trail.csv``: every matching event, streamed in batches, with a header row; people and
  COIs, never a patient's identity (the trail holds no pseudonym either).
- ``/ui/audit/trail/bundle.zip``: the matching events as standard bundles of their records, all
  proven in one signed checkpoint, with the listing (ledger/bundle_selection.py), for
  ``custody verify-bundle``.

The filters travel in the query string: a person's username, a role, a site, an event type,
a COI — never a patient's identity. A bad value is refused with the field and the rule.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, StreamingResponse

from api.rest import access
from api.rest.context import ApiContext, context
from api.rest.problems import status_of
from api.rest.tokens import Principal
from api.web.rendering import render
from api.web.views import web_allow, zone
from domain.errors import CustodyError
from ledger.bundle_selection import export_selection
from ledger.clock import isoformat, parse_instant
from ledger.row_verdicts import UNCHECKED, row_verdicts
from ledger.trust_anchor import home_trust_anchor
from projections import audit_query as q
from projections.view import Row

router = APIRouter(prefix="/ui", include_in_schema=False)
Ctx = Annotated[ApiContext, Depends(context)]
AuditReader = Annotated[Principal, Depends(web_allow("read the audit trail", access.AUDIT_READERS))]
SECURITY_LOG_ROLES = frozenset(str(role) for role in access.SECURITY_LOG_READERS)
CSV_COLUMNS = (
    "log_position", "recorded_at", "occurred_at", "event_type", "aggregate_kind", "aggregate_id", "coi", "version",
    "user", "printed_name", "role", "meaning", "site", "flag", "detail",
)  # fmt: skip


def local_seconds(moment: str | None, tz: ZoneInfo) -> str:
    """A stored instant as read at the site, to the second (an audit trail orders steps a minute apart)."""
    if not moment:
        return "—"
    return parse_instant(moment).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _raw(request: Request) -> dict[str, str | None]:
    return {name: request.query_params.get(name) for name in (*q.FILTER_FIELDS, "page", "per_page")}


def filter_query(raw: Mapping[str, str | None], **changes: object) -> str:
    """The query string of these filters (empty ones left out), with ``changes`` applied (e.g. another page)."""
    values = {name: raw.get(name) for name in (*q.FILTER_FIELDS, "per_page")}
    values.update({name: None if value is None else str(value) for name, value in changes.items()})
    return urlencode({name: value.strip() for name, value in values.items() if value and value.strip()})


def _selection_filters(chosen: q.AuditFilter) -> dict[str, str]:
    """The filter as the bundle's listing states it: UTC instants, the product's aggregate id."""
    texts = {
        "person": chosen.person,
        "role": chosen.role,
        "site": chosen.site,
        "event_type": chosen.event_type,
        "product": None if chosen.product is None else str(chosen.product),
        "from": None if chosen.since is None else isoformat(chosen.since),
        "to": None if chosen.until is None else isoformat(chosen.until),
        "flag": chosen.flag,
    }
    return {name: value for name, value in texts.items() if value is not None}


def _shown(row: Row, verdict: Any, tz: ZoneInfo) -> dict[str, Any]:
    return {
        **row,
        "recorded_local": local_seconds(row["recorded_at"], tz),
        "occurred_local": local_seconds(row["occurred_at"], tz),
        "verdict": verdict,
    }


def trail_page(ctx: ApiContext, raw: Mapping[str, str | None]) -> dict[str, Any]:
    """The page's rows, each verified on its own, and where the page sits."""
    tz = zone(ctx)
    chosen = q.parse_filter(raw, tz)
    page, per_page = q.parse_page(raw)
    found = q.audit_page(ctx.ledger.store, chosen, page, per_page)
    wanted = [(int(row["log_position"]), str(row["aggregate_id"]), int(row["version"])) for row in found.rows]
    verdicts = row_verdicts(ctx.ledger.store, wanted, home_trust_anchor(ctx.settings.home), ctx.ledger.meta.ledger_id())
    rows = [_shown(row, verdicts.get(int(row["log_position"]), UNCHECKED), tz) for row in found.rows]
    return {"rows": rows, "found": found, "near_misses": chosen.flag == "near_miss"}


@router.get("/audit/trail", response_class=HTMLResponse)
def audit_trail(request: Request, principal: AuditReader, ctx: Ctx) -> HTMLResponse:
    """Filter the signed events; read one page of them, each with its signature and its verdict."""
    raw = _raw(request)
    store = ctx.ledger.store
    values: dict[str, Any] = {
        "raw": {name: (value or "").strip() for name, value in raw.items()},
        "timezone": ctx.settings.timezone,
        "roles": sorted(q.ROLES),
        "event_types": q.event_types_seen(store),
        "sites": q.sites_seen(store),
        "error": None,
        "rows": [],
        "found": None,
        "near_misses": (raw.get("flag") or "").strip() == "near_miss",
        "can_read_people_log": principal.role in SECURITY_LOG_ROLES,
        "query": filter_query(raw),
        "page_query": lambda page: filter_query(raw, page=page),
    }
    status = 200
    try:
        values.update(trail_page(ctx, raw))
    except CustodyError as error:
        status, title = status_of(error)
        values["error"] = {"title": title, "detail": error.message, "field": error.field, "rule": error.rule}
    return render(request, "audit_trail.html", values, status=status)


def csv_lines(rows: Iterator[Row], tz: ZoneInfo) -> Iterator[str]:
    """The header, then one line per event; times in the site's zone with their offset, to the second."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    def when(moment: str) -> str:
        return parse_instant(moment).astimezone(tz).isoformat(timespec="seconds")

    yield line(list(CSV_COLUMNS))
    for row in rows:
        yield line(
            [
                row["log_position"], when(row["recorded_at"]), when(row["occurred_at"]), row["event_type"],
                row["aggregate_kind"], row["aggregate_id"], row["coi"] or "", row["version"], row["user_id"],
                row["actor_name"], row["role"], row["meaning"], row["site"] or "", row["flag"] or "",
                row["detail"] or "",
            ]
        )  # fmt: skip


@router.get("/audit/trail.csv")
def audit_trail_csv(request: Request, principal: AuditReader, ctx: Ctx) -> Response:
    """Every matching event (all pages), streamed as CSV; a bad filter is refused before the first byte."""
    tz = zone(ctx)
    chosen = q.parse_filter(_raw(request), tz)
    q.check_known(ctx.ledger.store, chosen)
    stamp = ctx.ledger.clock.now().astimezone(tz).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        csv_lines(q.audit_stream(ctx.ledger.store, chosen), tz),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-trail-{stamp}.csv"'},
    )


@router.get("/audit/trail/bundle.zip")
async def audit_trail_bundle(request: Request, principal: AuditReader, ctx: Ctx) -> Response:
    """The matching events' records as standard bundles proven in one signed checkpoint, with the listing."""
    chosen = q.parse_filter(_raw(request), zone(ctx))
    store = ctx.ledger.store

    def select(up_to: tuple[str, int] | None) -> list[Row]:
        return list(q.audit_stream(store, chosen, up_to=up_to))

    data = await run_in_threadpool(export_selection, ctx.ledger, select, _selection_filters(chosen))
    stamp = ctx.ledger.clock.now().astimezone(zone(ctx)).strftime("%Y%m%d-%H%M%S")
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="audit-selection-{stamp}.zip"'},
    )
