"""The pharmacy, patient, auditor and metrics pages, and a product's vein-to-vein chart.

- ``/ui/inventory``: units on hand by site, LN2 tank, rack and box.
- ``/ui/patients/{pseudonym}``: the patient's timeline and follow-up schedule (pseudonym only).
- ``/ui/audit``: a product replayed as the ledger knew it at a chosen moment, the whole
  ledger verified in the background with its progress polled by htmx, and (auditor and
  administrator) the audit log of people: identity reveals and erasures, wrong signing
  passwords, signing locks and unlocks.
- ``/ui/metrics``: turnaround figures as SVG charts and tables.

Each page admits the roles the HTTP API admits for the same read (``api.rest.access``);
another role gets the 403 page. Times are shown and read in the site's time zone.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from itertools import groupby
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from api.rest import access
from api.rest.access import forbidden
from api.rest.context import ApiContext, context
from api.rest.problems import status_of
from api.rest.tokens import Principal
from api.web.charts import RangeBar, format_days, range_chart, vein_to_vein_layout
from api.web.i18n import DEFAULT as DEFAULT_LANGUAGE
from api.web.i18n import language, translator, when
from api.web.rendering import TEMPLATES, render
from api.web.session import check_csrf, web_principal
from domain.errors import CustodyError, InvalidInput, NotFound
from domain.events import Role
from domain.identifiers import parse_coi, product_id_for
from ledger.audit_log import read_audit
from ledger.clock import local_instant, parse_instant
from ledger.store import EventStore
from ledger.trust_anchor import home_trust_anchor
from ledger.verifier import VerificationReport, VerifyOptions, verify_store
from projections import queries
from projections.followup import DONE, FOLLOWUP_VISITS, OVERDUE, UPCOMING, FollowUpFollower, visit_status
from projections.metrics import INTERVALS, MILESTONES, MetricsFollower
from projections.status_query import status_as_of, status_now
from projections.view import Row

router = APIRouter(prefix="/ui", include_in_schema=False)
Ctx = Annotated[ApiContext, Depends(context)]
TEMPLATES.env.filters.setdefault("days", format_days)

VISIT_LABELS = {DONE: "Done", "due": "Due", OVERDUE: "Overdue", UPCOMING: "Upcoming"}
INTERVAL_LABELS = {
    "vein_to_vein": "Vein-to-vein",
    "collection_to_release": "Collection to release",
    "release_to_infusion": "Release to infusion",
}
KIND_LABELS = {"car_t": "CAR-T", "msc": "MSC"}


def web_allow(what: str, roles: Iterable[str | Role]) -> Callable[..., Principal]:
    """A dependency: the signed-in person if their role may ``what``; otherwise the 403 page."""
    allowed = frozenset(str(role) for role in roles)

    def check(principal: Annotated[Principal, Depends(web_principal)]) -> Principal:
        if principal.role not in allowed:
            raise forbidden(principal, what, allowed)
        return principal

    return check


InventoryReader = Annotated[Principal, Depends(web_allow("read the inventory", access.INVENTORY_READERS))]
PatientReader = Annotated[Principal, Depends(web_allow("read patient timelines", access.PATIENT_READERS))]
AuditReader = Annotated[Principal, Depends(web_allow("read the audit trail", access.AUDIT_READERS))]
Verifier = Annotated[Principal, Depends(web_allow("verify the ledger", access.VERIFIERS))]
MetricsReader = Annotated[Principal, Depends(web_allow("read metrics", access.METRICS_READERS))]


def zone(ctx: ApiContext) -> ZoneInfo:
    """The site's time zone."""
    return ZoneInfo(ctx.settings.timezone)


def local_time(moment: datetime | str | None, tz: ZoneInfo, lang: str = DEFAULT_LANGUAGE) -> str:
    """An instant as people at the site read it: ``02/03/2026 09:00`` (babel.dates, to the minute); "—" when unknown."""
    if isinstance(moment, str):
        moment = parse_instant(moment)
    return when(moment, tz, lang)


def product_reference(reference: str) -> UUID:
    """A product's UUID, or the id derived from its COI as printed or scanned."""
    try:
        return UUID(reference)
    except ValueError:
        return product_id_for(parse_coi(reference, field="product"))


# -- inventory ---------------------------------------------------------------------------------------


def inventory_tree(rows: list[Row], tz: ZoneInfo) -> list[dict[str, Any]]:
    """Units grouped by site → LN2 tank → rack → box, in the order the query sorted them."""

    def by(column: str) -> Callable[[Row], Any]:
        return lambda row: row[column]

    sites = []
    for site, site_rows in groupby(rows, by("site")):
        tanks = []
        site_units = list(site_rows)
        for tank, tank_rows in groupby(site_units, by("tank")):
            racks = []
            for rack, rack_rows in groupby(list(tank_rows), by("rack")):
                boxes = []
                for box, box_rows in groupby(list(rack_rows), by("box")):
                    units = [{**row, "since": local_time(row["on_hand_since"], tz)} for row in box_rows]
                    boxes.append({"box": box, "units": units})
                racks.append({"rack": rack, "boxes": boxes})
            tanks.append({"tank": tank, "racks": racks})
        sites.append({"site": site, "count": len(site_units), "tanks": tanks})
    return sites


@router.get("/inventory", response_class=HTMLResponse)
def inventory_page(request: Request, principal: InventoryReader, ctx: Ctx, site: str | None = None) -> HTMLResponse:
    """The pharmacy's units on hand, where each sits in LN2 and whether it may be dispensed."""
    store = ctx.ledger.store
    chosen = (site or "").strip() or None
    everything = queries.inventory(store)
    rows = everything if chosen is None else queries.inventory(store, chosen)
    sites = sorted({str(row["site"]) for row in everything} | ({chosen} if chosen else set()))
    return render(
        request,
        "inventory.html",
        {"sites": inventory_tree(rows, zone(ctx)), "site_names": sites, "chosen": chosen, "total": len(rows)},
    )


# -- a patient ---------------------------------------------------------------------------------------


def follow_up_schedule(store: EventStore, pseudonym: str, today: date) -> list[Row]:
    """Every scheduled visit of the patient's products, done or not, with its status on ``today``."""
    FollowUpFollower(store).catch_up()
    with store.side_transaction() as cursor:
        cursor.execute(
            f"SELECT * FROM {FOLLOWUP_VISITS.name} WHERE patient_pseudonym = %s ORDER BY due_on, coi, sequence",
            (pseudonym,),
        )
        rows = cursor.fetchall()
    for row in rows:
        row["status"] = visit_status(row, today)
        row["days_late"] = (today - date.fromisoformat(row["latest_on"])).days if row["status"] == OVERDUE else None
        row["days_to_go"] = (date.fromisoformat(row["due_on"]) - today).days if row["status"] == UPCOMING else None
    return rows


@router.get("/patients/{pseudonym}", response_class=HTMLResponse)
def patient_page(pseudonym: str, request: Request, principal: PatientReader, ctx: Ctx) -> HTMLResponse:
    """The patient's events in the order things happened, and every follow-up visit with its status."""
    store, tz = ctx.ledger.store, zone(ctx)
    events = queries.timeline(store, pseudonym)
    for event in events:
        event["occurred_local"] = local_time(event["occurred_at"], tz)
        event["recorded_local"] = local_time(event["recorded_at"], tz)
    today = ctx.ledger.clock.now().astimezone(tz).date()
    visits = follow_up_schedule(store, pseudonym, today)
    for visit in visits:
        visit["done_local"] = local_time(visit["done_at"], tz) if visit["done_at"] else None
    return render(
        request,
        "patient.html",
        {
            "pseudonym": pseudonym,
            "events": events,
            "visits": visits,
            "overdue": [visit for visit in visits if visit["status"] == OVERDUE],
            "today": today.isoformat(),
            "visit_labels": VISIT_LABELS,
        },
    )


# -- audit: replay as of a moment ------------------------------------------------------------------------


def local_moment(text: str | None, tz: ZoneInfo) -> datetime:
    """A ``datetime-local`` field's value, read in the site's time zone."""
    if not text or not text.strip():
        raise InvalidInput("as_of: give the date and time to replay the product at", field="as_of", rule="required")
    return local_instant(text, "as_of", tz)


def replay(ctx: ApiContext, reference: str, as_of: str | None) -> dict[str, Any]:
    """The product's status as of the moment (what the ledger had recorded by then), beside its status now."""
    tz = zone(ctx)
    product_id = product_reference(reference.strip())
    moment = local_moment(as_of, tz)
    store, catalogue = ctx.ledger.store, ctx.ledger.catalogue
    then = status_as_of(store, product_id, moment, catalogue)
    now = status_now(store, product_id, ctx.ledger.clock.now(), catalogue)
    return {"product_id": str(product_id), "moment": local_time(moment, tz), "then": then, "now": now}


# -- audit: the audit log of people ---------------------------------------------------------------------


SECURITY_LOG_ROWS = 200
SECURITY_LOG_ROLES = frozenset(str(role) for role in access.SECURITY_LOG_READERS)
"""The page shows the latest rows; `custody audit --security` and GET /audit list them oldest first, filtered."""


def security_log(ctx: ApiContext, tz: ZoneInfo) -> list[dict[str, Any]]:
    """The audit-log rows, newest first, with local times and each detail as ``key: value`` text.

    Rows name people and pseudonyms only (ledger/audit_log.py): no patient identity reaches the page.
    """
    rows = [entry.to_dict() for entry in read_audit(ctx.ledger.store, limit=SECURITY_LOG_ROWS, newest_first=True)]
    return [
        {**row, "when": local_time(row["recorded_at"], tz), "details": [f"{k}: {v}" for k, v in row["detail"].items()]}
        for row in rows
    ]


# -- audit: the whole ledger verified in the background ------------------------------------------------


@dataclass
class VerifyJob:
    """One run of the full verification: how far it is, and its verdict once done."""

    id: str
    started_by: str
    total: int
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    finished: bool = False
    seconds: float | None = None
    report: VerificationReport | None = None
    error: str | None = None
    anchored: bool = False

    @property
    def percent(self) -> int:
        """Share of the events checked so far, in whole percent."""
        if self.finished:
            return 100
        return min(100, self.done * 100 // self.total) if self.total else 0


class VerifyJobs:
    """Running and recent verification jobs, by random id; safe to use from many threads."""

    def __init__(self, keep: int = 20) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, VerifyJob] = OrderedDict()
        self._keep = keep

    def start(self, store: EventStore, options: VerifyOptions, started_by: str) -> VerifyJob:
        """Start verifying in a background thread; return the job (its progress is read with ``get``)."""
        job = VerifyJob(secrets.token_urlsafe(16), started_by, store.size(), anchored=options.trusted is not None)
        with self._lock:
            self._jobs[job.id] = job
            finished = [key for key, old in self._jobs.items() if old.finished]
            while len(self._jobs) > self._keep and finished:
                del self._jobs[finished.pop(0)]

        def progress(done: int, total: int) -> None:
            with self._lock:
                job.done, job.total = done, max(total, done)

        def run() -> None:
            try:
                report = verify_store(store, replace(options, progress=progress))
            except Exception as error:  # shown on the page: the job must end, whatever went wrong
                with self._lock:
                    job.error, job.finished = f"{type(error).__name__}: {error}", True
                    job.seconds = time.monotonic() - job.started
                return
            with self._lock:
                job.report, job.done, job.finished = report, report.events, True
                job.total = max(job.total, report.events)
                job.seconds = time.monotonic() - job.started

        threading.Thread(target=run, name=f"verify-{job.id[:8]}", daemon=True).start()
        return self.get(job.id) or job

    def get(self, job_id: str) -> VerifyJob | None:
        """A consistent copy of the job as it is now, or None when unknown."""
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else replace(job)


JOBS = VerifyJobs()


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    principal: AuditReader,
    ctx: Ctx,
    product: str | None = None,
    as_of: str | None = None,
    job: str | None = None,
) -> HTMLResponse:
    """Replay a product as of a moment; run the full verification and watch it progress."""
    tz = zone(ctx)
    values: dict[str, Any] = {
        "product": product or "",
        "as_of": as_of or ctx.ledger.clock.now().astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S"),
        "timezone": ctx.settings.timezone,
        "replay": None,
        "error": None,
        "job": JOBS.get(job) if job else None,
        "can_verify": principal.role in {str(role) for role in access.VERIFIERS},
        "security_log": security_log(ctx, tz) if principal.role in SECURITY_LOG_ROLES else None,
    }
    status = 200
    if product and as_of is not None:
        try:
            values["replay"] = replay(ctx, product, as_of)
        except CustodyError as error:
            status, title = status_of(error)
            values["error"] = {"title": title, "detail": error.message, "field": error.field, "rule": error.rule}
    return render(request, "audit.html", values, status=status)


@router.post("/audit/verify", response_class=HTMLResponse)
async def start_verification(request: Request, principal: Verifier, ctx: Ctx) -> Response:
    """Start verifying the whole ledger; htmx gets the progress fragment, a plain form the audit page."""
    form = await request.form()
    check_csrf(ctx, principal, str(form.get("csrf", "")))
    options = VerifyOptions(
        trusted=home_trust_anchor(ctx.settings.home),
        ledger_id=ctx.ledger.meta.ledger_id(),
        workers=ctx.settings.verify_workers,
    )
    job = await run_in_threadpool(JOBS.start, ctx.ledger.store, options, principal.username)
    if _is_htmx(request):
        return render(request, "_verify_job.html", {"job": job}, status=202)
    return RedirectResponse(f"/ui/audit?job={job.id}#verification", status_code=303)


@router.get("/audit/verify/{job_id}", response_class=HTMLResponse)
def verification_progress(job_id: str, request: Request, principal: Verifier, ctx: Ctx) -> HTMLResponse:
    """htmx polls this every 500 ms: the progress, then the verdict (and the polling stops)."""
    job = JOBS.get(job_id)
    if not _is_htmx(request):
        if job is None:
            raise NotFound(f"no verification job {job_id!r} is known (the server may have restarted)", field="job")
        return audit_page(request, principal, ctx, job=job_id)
    return render(request, "_verify_job.html", {"job": job, "job_id": job_id})


# -- metrics -----------------------------------------------------------------------------------------


def metric_charts(summary: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """For each interval: its SVG chart and the rows of its table."""
    t = translator(lang)

    def number(value: float) -> str:
        return format_days(value, lang)

    charts = []
    for name in INTERVALS:
        title = t(INTERVAL_LABELS[name])
        rows = [
            {
                "kind": KIND_LABELS.get(group["product_kind"], group["product_kind"]),
                "site": group["site"],
                "products": group["products"],
                **group[name],
            }
            for group in summary
        ]
        bars = [
            RangeBar(row["kind"], row["site"], row["median_days"], row["min_days"], row["max_days"], row["count"])
            for row in rows
        ]
        described = "; ".join(
            f"{bar.label} · {bar.sublabel}: "
            + (
                f"{t('median')} {number(bar.median)}, {t('min')} {number(bar.low)}, {t('max')} {number(bar.high)} "
                f"{t('days')} (n = {bar.count})"
                if bar.median is not None and bar.low is not None and bar.high is not None
                else t("no data yet")
            )
            for bar in bars
        )
        svg = range_chart(
            f"chart-{name.replace('_', '-')}",
            f"{title} ({t('days')})",
            described or t("no data yet"),
            bars,
            unit=t("days"),
            no_data=t("no data yet"),
            number=number,
        )
        charts.append({"name": name, "id": name.replace("_", "-"), "title": title, "svg": svg, "rows": rows})
    return charts


@router.get("/metrics", response_class=HTMLResponse)
def metrics_page(request: Request, principal: MetricsReader, ctx: Ctx) -> HTMLResponse:
    """Vein-to-vein, collection-to-release and release-to-infusion per product kind and site, as charts and tables."""
    summary = queries.metrics(ctx.ledger.store)
    lang = language(request.cookies.get("lang"), request.headers.get("accept-language"))
    return render(request, "metrics.html", {"summary": summary, "charts": metric_charts(summary, lang)})


# -- a product's vein-to-vein chart (on the product page) -------------------------------------------------


def vein_to_vein(ctx: ApiContext, product_id: UUID) -> dict[str, Any] | None:
    """The product's collection, release and infusion on a line with the days between; None before any."""
    store = ctx.ledger.store
    MetricsFollower(store).catch_up()
    with store.side_transaction() as cursor:
        cursor.execute(f"SELECT * FROM {MILESTONES.name} WHERE product_id = %s", (str(product_id),))
        row = cursor.fetchone()
    if row is None:
        return None
    tz = zone(ctx)
    times = {
        "collection": row["first_collection_at"],
        "release": row["released_at"],
        "infusion": row["infused_at"],
    }
    return vein_to_vein_layout(
        {key: None if value is None else parse_instant(str(value)) for key, value in times.items()},
        lambda moment: local_time(moment, tz),
    )
