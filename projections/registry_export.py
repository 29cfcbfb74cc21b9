"""Registry exports: one row per treated patient and per follow-up visit, for DESCAR-T or EBMT, pseudonymised.

Two ways in. ``export_since`` is the periodic submission (`custody registry-export`,
``GET /registry-exports/{registry}``): every infused product whose infusion or visits
fall on or after ``since``, each patient who did not agree to that registry withheld
and listed by COI. ``export_product`` is one product's rows (`custody export --format`,
``GET /products/{id}/registry/{registry}``), refused outright when its patient did not
agree. Either refuses as a whole, naming every ledger field to record, when a required
fact is missing: a registry receiving rows with holes would count them as facts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from domain.errors import InvalidInput, NotFound, RuleViolation
from domain.events import EventRecord
from domain.pathway import pathway_id_for
from ledger.service import CustodyLedger
from projections.registry_case import RegistryCase, registry_case
from projections.registry_descart import DESCAR_T
from projections.registry_ebmt import EBMT
from projections.registry_rows import Missing, RegistryFormat, case_rows, consent_problem, out_of_scope, refuse_missing
from projections.timeline import TIMELINE, TimelineFollower

FORMATS = {"descar_t": DESCAR_T, "ebmt": EBMT}
_NAMES = {"descar-t": "descar_t", "descart": "descar_t", "descar_t": "descar_t", "ebmt": "ebmt"}
REGISTRY_NAMES = ("descar-t", "descart", "ebmt")
"""What ``--format`` and the HTTP path accept (``descar-t`` as the issue writes it, ``descart`` as typed)."""


@dataclass(frozen=True)
class Withheld:
    """A treated patient left out of the export, by COI, and why (never who)."""

    coi: str
    reason: str


@dataclass(frozen=True)
class RegistryExport:
    """The rows of one export, in the registry's own column order, and the patients withheld."""

    fmt: RegistryFormat
    rows: list[dict[str, str]]
    withheld: list[Withheld] = field(default_factory=list)

    def csv(self) -> str:
        """The rows as the registry's CSV (its delimiter, a header line, CRLF as RFC 4180 writes)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.fmt.header, delimiter=self.fmt.delimiter, restval="")
        writer.writeheader()
        writer.writerows(self.rows)
        return out.getvalue()

    def to_json(self) -> dict[str, object]:
        """The HTTP answer: the registry, its columns, the rows and the COIs withheld with their reason."""
        return {
            "registry": self.fmt.registry,
            "columns": self.fmt.header,
            "rows": self.rows,
            "withheld": [{"coi": w.coi, "reason": w.reason} for w in self.withheld],
        }


def registry_format(name: str) -> RegistryFormat:
    """The format named, as the command line or the URL spells it; refused naming the choices."""
    key = _NAMES.get(name.strip().lower())
    if key is None:
        raise InvalidInput(
            f"format {name!r} is not a registry this ledger exports to; choose one of: {', '.join(REGISTRY_NAMES)}",
            field="format",
            rule="unknown_registry",
        )
    return FORMATS[key]


def product_rows(fmt: RegistryFormat, case: RegistryCase | None, coi: str) -> RegistryExport:
    """One product's rows; refused when it was never infused, is out of scope, lacks consent or a required fact."""
    if case is None:
        raise RuleViolation(
            f"product {coi} was never infused: a registry counts treated patients only",
            field="product",
            rule="not_treated",
        )
    scope = out_of_scope(fmt, case)
    if scope is not None:
        raise RuleViolation(f"product {coi}: {scope}", field="product", rule="not_in_registry_scope")
    refusal = consent_problem(fmt, case)
    if refusal is not None:
        raise RuleViolation(
            f"product {coi} is not exported to {fmt.label}: {refusal}",
            field="ConsentSigned.registry_transmission",
            rule="registry_consent_missing",
        )
    rows, missing = case_rows(fmt, case)
    if missing:
        raise refuse_missing(fmt, missing)
    return RegistryExport(fmt, rows)


def rows_since(fmt: RegistryFormat, cases: Iterable[RegistryCase], since: date | None) -> RegistryExport:
    """Every case's rows on or after ``since`` (all when None), patients without consent withheld."""

    def keep(day: date) -> bool:
        return since is None or day >= since

    rows: list[dict[str, str]] = []
    withheld: list[Withheld] = []
    missing: list[Missing] = []
    ordered = sorted(cases, key=lambda c: (c.values["infusion_date"], str(c.values["coi"])))
    for case in ordered:
        if out_of_scope(fmt, case) is not None:
            continue
        made, lacking = case_rows(fmt, case, keep)
        if not made:
            continue
        refusal = consent_problem(fmt, case)
        if refusal is not None:
            withheld.append(Withheld(str(case.values["coi"]), refusal))
            continue
        rows += made
        missing += lacking
    if missing:
        raise refuse_missing(fmt, missing)
    return RegistryExport(fmt, rows, withheld)


def export_product(ledger: CustodyLedger, product_id: UUID, fmt: RegistryFormat) -> RegistryExport:
    """`custody export PRODUCT --format descar-t|ebmt`: one product's rows, from the store."""
    history = ledger.history(product_id)
    if not history or history[0].type != "ProductEnrolled":
        raise NotFound(f"no product has the id {product_id}", field="product")
    coi = str(history[0].body["payload"]["coi"])
    return product_rows(fmt, _case(ledger, product_id, [e.to_record() for e in history], coi), coi)


def export_since(ledger: CustodyLedger, fmt: RegistryFormat, since: date | None) -> RegistryExport:
    """`custody registry-export --format … --since DATE`: every infused product's rows from ``since`` on."""
    cases = []
    for product_id in infused_products(ledger):
        history = ledger.history(product_id)
        coi = str(history[0].body["payload"].get("coi", product_id))
        case = _case(ledger, product_id, [e.to_record() for e in history], coi)
        if case is not None:
            cases.append(case)
    return rows_since(fmt, cases, since)


def infused_products(ledger: CustodyLedger) -> list[UUID]:
    """The products with an infusion, from the patient timeline (caught up first, so nothing stored is missed)."""
    store = ledger.store
    TimelineFollower(store).catch_up()
    with store.side_transaction() as cursor:
        cursor.execute(
            f"SELECT DISTINCT product_id FROM {TIMELINE.name} WHERE event_type = %s ORDER BY product_id",
            ("Infused",),
        )
        return [UUID(str(row["product_id"])) for row in cursor.fetchall()]


def _case(ledger: CustodyLedger, product_id: UUID, records: Sequence[EventRecord], coi: str) -> RegistryCase | None:
    """The product's case with its patient's pathway; a history this version cannot replay is named, never a crash."""
    try:
        pseudonym = str(records[0].payload["patient_pseudonym"])
        pathway = [e.to_record() for e in ledger.history(pathway_id_for(pseudonym))]
        return registry_case(product_id, records, pathway)
    except (LookupError, TypeError, ValueError, AttributeError):
        raise RuleViolation(
            f"product {coi}'s stored history cannot be replayed into registry rows; run `custody verify` to locate "
            "the event",
            field="product",
            rule="history_not_replayable",
        ) from None
