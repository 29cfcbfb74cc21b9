"""A registry's rows from the cases: its columns, its codes, the fields it cannot do without, and consent.

A registry format (registry_descart.py, registry_ebmt.py) is data: the columns it
takes, which case fact each holds, how codes and dates are written, and which are
required. The rules are shared: a patient who did not agree to transmission to that
registry (``ConsentSigned.registry_transmission``), or withdrew consent, is never
exported; a required fact the ledger does not hold refuses the export, naming the
ledger field to record, rather than sending the registry a row with a hole in it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.errors import RuleViolation
from projections.registry_case import Facts, RegistryCase

TREATMENT = "treatment"
FOLLOW_UP = "follow_up"


class RegistryFieldMissing(RuleViolation):
    """A fact the registry requires is not in the ledger: record it (or correct the step) and export again."""

    rule = "registry_field_missing"


@dataclass(frozen=True)
class Column:
    """One registry column: its header, the case fact it holds, and its codes (ours → the registry's)."""

    name: str
    fact: str
    required: bool = False
    codes: Mapping[str, str] | None = None


@dataclass(frozen=True)
class RegistryFormat:
    """How one registry wants the rows written."""

    registry: str
    label: str
    product_kinds: frozenset[str]
    delimiter: str
    date_format: str
    yes_no: tuple[str, str]
    record_codes: Mapping[str, str]
    treatment: tuple[Column, ...]
    follow_up: tuple[Column, ...]

    @property
    def header(self) -> list[str]:
        """The record kind, then every column once: treatment columns first, then the visit's own."""
        names = ["record"]
        for column in (*self.treatment, *self.follow_up):
            if column.name not in names:
                names.append(column.name)
        return names


def consent_problem(fmt: RegistryFormat, case: RegistryCase) -> str | None:
    """Why this patient may not be sent to the registry, or None when they agreed and did not withdraw."""
    if case.consent_withdrawn:
        return "the patient withdrew consent (ConsentWithdrawn)"
    if fmt.registry not in case.consented:
        return f"the patient's consent (ConsentSigned.registry_transmission) does not include {fmt.registry}"
    return None


def out_of_scope(fmt: RegistryFormat, case: RegistryCase) -> str | None:
    """A registry collects only its kinds of product (DESCAR-T: CAR-T cells)."""
    kind = str(case.values["product_kind"])
    if kind in fmt.product_kinds:
        return None
    return f"{fmt.label} collects {', '.join(sorted(fmt.product_kinds))} products, not {kind}"


@dataclass(frozen=True)
class Missing:
    """A required fact the ledger does not hold: the ledger field to record, and the sentence saying so."""

    field: str
    message: str


def case_rows(
    fmt: RegistryFormat, case: RegistryCase, keep: Callable[[date], bool] = lambda _: True
) -> tuple[list[dict[str, str]], list[Missing]]:
    """The treatment row (when ``keep`` accepts its infusion day) and the kept visits, and every missing fact."""
    rows: list[dict[str, str]] = []
    missing: list[Missing] = []
    coi = case.values["coi"]
    if keep(case.values["infusion_date"]):
        rows.append(_row(fmt, TREATMENT, fmt.treatment, case.values))
        missing += _missing(fmt, coi, fmt.treatment, case.values, case.sources)
    for visit in case.visits:
        if keep(visit.values["visit_date"]):
            rows.append(_row(fmt, FOLLOW_UP, fmt.follow_up, visit.values))
            missing += _missing(fmt, coi, fmt.follow_up, visit.values, {**case.sources, **visit.sources})
    return rows, missing


def refuse_missing(fmt: RegistryFormat, missing: Sequence[Missing]) -> RegistryFieldMissing:
    """One refusal listing every missing fact, so the unit can record them all before exporting again."""
    return RegistryFieldMissing(
        f"the {fmt.label} export needs facts the ledger does not hold; nothing was exported: "
        + "; ".join(m.message for m in missing),
        field=missing[0].field,
    )


def _missing(
    fmt: RegistryFormat, coi: str, columns: Sequence[Column], values: Facts, sources: Mapping[str, str]
) -> list[Missing]:
    found = []
    for column in columns:
        if column.required and values.get(column.fact) in (None, "", []):
            source = sources.get(column.fact, column.fact)
            found.append(
                Missing(source.split(" ", 1)[0], f"COI {coi}: {fmt.label} column {column.name} needs {source}, "
                        "which is not recorded")
            )  # fmt: skip
    return found


def _row(fmt: RegistryFormat, record: str, columns: Sequence[Column], values: Facts) -> dict[str, str]:
    row = dict.fromkeys(fmt.header, "")
    row["record"] = fmt.record_codes[record]
    row.update({column.name: _text(fmt, column, values.get(column.fact)) for column in columns})
    return row


def _text(fmt: RegistryFormat, column: Column, value: Any) -> str:
    """A value as the registry writes it: its codes, its dates, its yes/no; a list joined with " + "."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return fmt.yes_no[0] if value else fmt.yes_no[1]
    if isinstance(value, date):
        return value.strftime(fmt.date_format)
    if isinstance(value, list):
        return " + ".join(_text(fmt, column, item) for item in value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    return column.codes.get(text, text) if column.codes else text
