"""The audit trail as an inspector browses it: filtered in the database, one page at a time, or every match streamed.

Filters are read from what a form sends (texts) and refused with the field and the rule
when they cannot mean anything: an unknown person, role, site or event type, a malformed
COI, a time that does not exist, a range that ends before it starts, a page past the last.
An empty answer therefore always means "nothing matched", never "the filter was misread".
Times are given in the site's zone and compared with ``recorded_at``, the moment the
signature was applied (``from`` included, ``to`` excluded). Every row names a product by its
COI when it is one (from the timeline's product map), never a patient.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from uuid import UUID

from domain.errors import InvalidInput, NotFound
from domain.events import Role
from domain.identifiers import parse_coi, product_id_for
from domain.log_heads import HEADS_EVENT_TYPES
from domain.registry import EVENT_TYPES
from domain.staff import STAFF_EVENT_TYPES, staff_id_for
from ledger.clock import local_instant
from ledger.store import EventStore
from projections.audit import AUDIT, FLAGS, AuditFollower
from projections.logged import instant
from projections.timeline import TIMELINE_PRODUCTS, TimelineFollower
from projections.view import Row

KNOWN_EVENT_TYPES = frozenset({*EVENT_TYPES, *STAFF_EVENT_TYPES, *HEADS_EVENT_TYPES})
"""The domain's types; a type only the log holds (a ledger-level record such as a printed-name claim) is known too."""
EVENT_NAME = re.compile(r"[A-Z][A-Za-z0-9]{0,99}")
ROLES = frozenset(role.value for role in Role)
PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_TEXT = 200
STREAM_BATCH = 500
FILTER_FIELDS = ("person", "role", "site", "event_type", "product", "from", "to", "flag")
FLAG_NAMES = frozenset(FLAGS.values())


@dataclass(frozen=True)
class AuditFilter:
    """What the trail is narrowed to; None means "any"."""

    person: str | None = None
    role: str | None = None
    site: str | None = None
    event_type: str | None = None
    product: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    flag: str | None = None


@dataclass(frozen=True)
class AuditPage:
    """One page of matches, in log order, and where it sits among all of them."""

    rows: list[Row]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages the matches fill (one, empty, when nothing matched)."""
        return max(1, -(-self.total // self.per_page))


def _text(raw: Mapping[str, str | None], name: str) -> str | None:
    value = (raw.get(name) or "").strip()
    if not value:
        return None
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{name}: at most {MAX_TEXT} characters", field=name, rule="text_too_long")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise InvalidInput(f"{name}: control characters are not allowed", field=name, rule="control_character")
    return value


def _product(reference: str) -> UUID:
    """The aggregate a reference names: a UUID as written, or a COI as printed or scanned."""
    try:
        return UUID(reference)
    except ValueError:
        return product_id_for(parse_coi(reference, field="product"))


def parse_filter(raw: Mapping[str, str | None], zone: tzinfo) -> AuditFilter:
    """The filter a form sent, each value checked on its own (existence is ``check_known``'s)."""
    role = _text(raw, "role")
    if role is not None and role not in ROLES:
        raise InvalidInput(
            f"role {role!r} is not a role; one of: {', '.join(sorted(ROLES))}", field="role", rule="unknown_role"
        )
    event_type = _text(raw, "event_type")
    if event_type is not None and not EVENT_NAME.fullmatch(event_type):
        raise InvalidInput(
            f"event_type {event_type!r} is not an event type name (such as ProductEnrolled)",
            field="event_type",
            rule="unknown_event_type",
        )
    flag = _text(raw, "flag")
    if flag is not None and flag not in FLAG_NAMES:
        raise InvalidInput(
            f"flag {flag!r} is not a flag; one of: {', '.join(sorted(FLAG_NAMES))}", field="flag", rule="unknown_flag"
        )
    product = _text(raw, "product")
    since_text, until_text = _text(raw, "from"), _text(raw, "to")
    since = None if since_text is None else local_instant(since_text, "from", zone)
    until = None if until_text is None else local_instant(until_text, "to", zone)
    if since is not None and until is not None and until <= since:
        raise InvalidInput("to: the end of the time range must come after its start", field="to", rule="empty_range")
    return AuditFilter(
        person=_text(raw, "person"),
        role=role,
        site=_text(raw, "site"),
        event_type=event_type,
        product=None if product is None else _product(product),
        since=since,
        until=until,
        flag=flag,
    )


def parse_page(raw: Mapping[str, str | None]) -> tuple[int, int]:
    """The page asked for (from 1) and its size (1 to ``MAX_PER_PAGE``)."""
    numbers = []
    for name, default, highest in (("page", 1, None), ("per_page", PER_PAGE, MAX_PER_PAGE)):
        text = (raw.get(name) or "").strip()
        try:
            number = int(text) if text else default
        except ValueError:
            raise InvalidInput(f"{name} {text[:40]!r} is not a whole number", field=name, rule="not_a_number") from None
        if number < 1 or (highest is not None and number > highest):
            bound = f"from 1 to {highest}" if highest else "1 or more"
            raise InvalidInput(f"{name} must be {bound}, not {number}", field=name, rule="out_of_range")
        numbers.append(number)
    return numbers[0], numbers[1]


def check_known(store: EventStore, chosen: AuditFilter) -> None:
    """Refuse a person, site or product the ledger has never recorded (rather than answer "nothing")."""
    if chosen.person is not None and not store.stored_history(staff_id_for(chosen.person)):
        raise NotFound(f"no staff member is registered as {chosen.person!r}", field="person", rule="unknown_user")
    if chosen.product is not None and not store.stored_history(chosen.product):
        raise NotFound(f"nothing is recorded under product {chosen.product}", field="product", rule="unknown_product")
    if chosen.event_type is not None and chosen.event_type not in KNOWN_EVENT_TYPES:
        with store.side_transaction() as cursor:
            cursor.execute(f"SELECT 1 FROM {AUDIT.name} WHERE event_type = %s LIMIT 1", (chosen.event_type,))
            seen = cursor.fetchone() is not None
        if not seen:
            raise InvalidInput(
                f"event_type {chosen.event_type!r} is not an event type the ledger records (`custody event-types`)",
                field="event_type",
                rule="unknown_event_type",
            )
    if chosen.site is not None:
        with store.side_transaction() as cursor:
            cursor.execute(f"SELECT 1 FROM {AUDIT.name} WHERE site = %s LIMIT 1", (chosen.site,))
            seen = cursor.fetchone() is not None
        if not seen:
            raise NotFound(f"no event names the site {chosen.site!r}", field="site", rule="unknown_site")


def _where(chosen: AuditFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    product = None if chosen.product is None else str(chosen.product)
    for column, value in (
        ("user_id", chosen.person),
        ("role", chosen.role),
        ("site", chosen.site),
        ("event_type", chosen.event_type),
        ("aggregate_id", product),
        ("flag", chosen.flag),
    ):
        if value is not None:
            clauses.append(f"a.{column} = %s")
            params.append(value)
    if chosen.since is not None:
        clauses.append("a.recorded_at >= %s")
        params.append(instant(chosen.since))
    if chosen.until is not None:
        clauses.append("a.recorded_at < %s")
        params.append(instant(chosen.until))
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


SELECT = f"SELECT a.*, p.coi FROM {AUDIT.name} a LEFT JOIN {TIMELINE_PRODUCTS.name} p ON p.product_id = a.aggregate_id"


def _caught_up(store: EventStore) -> None:
    AuditFollower(store).catch_up()
    TimelineFollower(store).catch_up()


def audit_page(store: EventStore, chosen: AuditFilter, page: int = 1, per_page: int = PER_PAGE) -> AuditPage:
    """One page of the matching events, in log order; a page past the last is refused (field ``page``)."""
    _caught_up(store)
    check_known(store, chosen)
    where, params = _where(chosen)
    with store.side_transaction() as cursor:
        cursor.execute(f"SELECT COUNT(*) AS n FROM {AUDIT.name} a {where}", params)
        found = cursor.fetchone()
        total = int(found["n"]) if found else 0
        pages = max(1, -(-total // per_page))
        if page > pages:
            raise InvalidInput(
                f"page {page} is past the last page ({pages}) of {total} matching events",
                field="page",
                rule="out_of_range",
            )
        cursor.execute(
            f"{SELECT} {where} ORDER BY a.log_position LIMIT %s OFFSET %s", (*params, per_page, (page - 1) * per_page)
        )
        rows = cursor.fetchall()
    return AuditPage(rows, page, per_page, total)


def audit_stream(
    store: EventStore, chosen: AuditFilter, *, up_to: tuple[str, int] | None = None, batch: int = STREAM_BATCH
) -> Iterator[Row]:
    """Every matching event in log order, read in batches (each its own short transaction) as the reader goes;
    with ``up_to`` (aggregate id, version), none stored after that event."""
    _caught_up(store)
    check_known(store, chosen)
    where, params = _where(chosen)
    if up_to is not None:
        with store.side_transaction() as cursor:
            cursor.execute(f"SELECT log_position FROM {AUDIT.name} WHERE aggregate_id = %s AND version = %s", up_to)
            found = cursor.fetchone()
        if found is None:
            raise NotFound(f"event {up_to[0]} v{up_to[1]} is not in the audit trail", field="up_to")
        where = f"{where} {'AND' if where else 'WHERE'} a.log_position <= %s"
        params.append(int(found["log_position"]))
    after = 0
    joiner = "AND" if where else "WHERE"
    while True:
        with store.side_transaction() as cursor:
            cursor.execute(
                f"{SELECT} {where} {joiner} a.log_position > %s ORDER BY a.log_position LIMIT %s",
                (*params, after, batch),
            )
            rows = cursor.fetchall()
        yield from rows
        if len(rows) < batch:
            return
        after = int(rows[-1]["log_position"])


def event_types_seen(store: EventStore) -> list[str]:
    """The event types the trail holds, for the filter's list (any known type may still be typed)."""
    AuditFollower(store).catch_up()
    with store.side_transaction() as cursor:
        cursor.execute(f"SELECT DISTINCT event_type FROM {AUDIT.name} ORDER BY event_type")
        return [str(row["event_type"]) for row in cursor.fetchall()]


def sites_seen(store: EventStore) -> list[str]:
    """The sites the trail names, for the filter's list."""
    AuditFollower(store).catch_up()
    with store.side_transaction() as cursor:
        cursor.execute(f"SELECT DISTINCT site FROM {AUDIT.name} WHERE site IS NOT NULL ORDER BY site")
        return [str(row["site"]) for row in cursor.fetchall()]
