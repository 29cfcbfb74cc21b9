"""Step forms built from the domain's payload classes, and the submitted form turned back into a payload.

Each payload field becomes the input a person at a bedside or a pharmacy bench can fill
quickly: a date-time picker (in the site's time zone) for a time, a list box for a choice,
a check box for a yes/no, a scan field for anything read from a label or a wristband
(checked live before signing, api/web/scan_checks.py), repeated rows for a list (one row
per bag, seal or QC test), check boxes for a list whose choices are known (an enumeration,
or the product's own bags), and a group of inputs for a nested record. Nobody types JSON:
a pharmacist or a nurse is not a programmer, and a brace typed wrong at 3 a.m. is a
refused step. The domain still checks every value: this module only translates, so a form
and an API call are judged by the same rules.

Repeated inputs are named by position (``received_units.0.scanned_coi``, ``seal_ids.1``),
so a row added in the browser needs no round trip and a submitted form stays a flat
mapping of names to texts.
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.errors import InvalidInput
from domain.identifiers import parse_coi, product_id_for
from domain.payloads import Bounds, Format
from ledger.clock import local_instant

SCANS = {
    "scanned_coi": "coi",
    "scanned_bag_id": "bag",
    "bag_id": "bag_to_thaw",
    "scanned_patient": "patient",
    "wristband_hospital_number": "wristband",
    "wristband_birth_date": "wristband",
    "units": "unit",
    "shipper_id": "shipper",
}
"""Payload fields read from a label or a wristband, and what their live check compares them with
(api/web/scan_checks.py). "shipper" has none: at dispatch the shipper is being declared, nothing to compare yet."""

PAIR_KINDS = ("text", "number", "yesno", "datetime")
"""What a corrected value is, so "12" becomes a number only when the person says it is one."""

SCALAR_WIDGETS = ("text", "number", "datetime", "date", "select", "yesno", "checkbox", "textarea", "scan", "fixed")
LIST_WIDGETS = ("rows", "checks", "records", "record", "pairs")


@dataclass(frozen=True)
class FormField:
    """One input of a step form, or one group of inputs (rows, check boxes, a record).

    ``rows`` holds what a repeated input shows: texts for ``rows``, the ticked choices for
    ``checks``, one mapping of part name to text per row for ``records`` and ``pairs``,
    and a single mapping for ``record``. ``parts`` are a record's own inputs.
    """

    name: str
    widget: str
    required: bool
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    value: str = ""
    hint: str = ""
    scan: str = ""
    parts: tuple[FormField, ...] = ()
    rows: tuple[Any, ...] = ()

    @property
    def label(self) -> str:
        """The field name as words ("scanned_coi" → "Scanned COI")."""
        words = self.name.replace("_", " ").split()
        fixed = {
            "coi": "COI", "din": "DIN", "id": "ID", "ids": "IDs", "ln2": "LN2", "qc": "QC", "ml": "mL",
            "cd3": "CD3", "tnc": "TNC", "eu": "EU", "ct": "CT", "rcp": "RCP",
        }  # fmt: skip
        text = " ".join(fixed.get(w, w) for w in words)
        return text[:1].upper() + text[1:]

    @property
    def growable(self) -> bool:
        """Rows the person may add and remove (not the units a shipment is known to hold)."""
        return self.widget in ("rows", "records", "pairs") and not any(p.widget == "fixed" for p in self.parts)


def _unwrap(hint: Any) -> tuple[Any, bool, list[Any]]:
    """The type, whether None is allowed, and the Annotated markers."""
    optional = False
    if get_origin(hint) in (Union, types.UnionType):
        present = [arg for arg in get_args(hint) if arg is not type(None)]
        optional = len(present) < len(get_args(hint))
        hint = present[0] if len(present) == 1 else hint
    markers: list[Any] = []
    if get_origin(hint) is Annotated:
        hint, *markers = get_args(hint)
    return hint, optional, markers


def _is_enum(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, Enum)


def _scalar_widget(name: str, hint: Any, markers: list[Any]) -> tuple[str, tuple[str, ...], str]:
    if _is_enum(hint):
        return "select", tuple(str(member.value) for member in hint), ""
    if name in SCANS:
        return "scan", (), ""
    if hint is bool:
        return "checkbox", (), ""
    if hint in (int, float):
        return "number", (), ""
    if Format.TIMESTAMP in markers:
        return "datetime", (), ""
    if Format.DATE in markers:
        return "date", (), ""
    if Format.FREE_TEXT in markers:
        return "textarea", (), ""
    if Format.COI in markers:
        return "text", (), "ISBT 128 COI"
    if hint is str:
        return "text", (), ""
    raise TypeError(f"no form input for the payload field {name!r} ({hint!r}): add a widget to api/web/forms.py")


def _field(name: str, hint: Any, required: bool, prefill: object, known: tuple[str, ...]) -> FormField:
    """One field's input; a list or a record becomes rows, check boxes or a group, never a JSON box."""
    hint, optional, markers = _unwrap(hint)
    required = required and not optional
    bounds = next((m for m in markers if isinstance(m, Bounds)), None)
    low = None if bounds is None else (bounds.low if bounds.low is not None else bounds.above)
    high = None if bounds is None else bounds.high
    origin = get_origin(hint)
    if origin is list:
        item, _, item_markers = _unwrap(get_args(hint)[0])
        texts = tuple(prefill) if isinstance(prefill, list | tuple) else ()
        if _is_enum(item) or known:
            choices = known or tuple(str(member.value) for member in item)
            return FormField(name, "checks", required, choices, rows=tuple(str(v) for v in texts))
        if dataclasses.is_dataclass(item):
            parts = _parts(item, fixed=("product_id",) if texts else ())
            return FormField(name, "records", required, parts=parts, rows=tuple(dict(row) for row in texts))
        _scalar_widget(name, item, item_markers)  # the items are plain texts (refuses anything else)
        return FormField(name, "rows", required, scan=SCANS.get(name, ""), rows=tuple(str(v) for v in texts))
    if origin is dict:
        return FormField(name, "pairs", required, PAIR_KINDS, rows=tuple(prefill) if isinstance(prefill, list) else ())
    if dataclasses.is_dataclass(hint):
        filled = dict(prefill) if isinstance(prefill, Mapping) else {}
        # An optional record's parts are required only once it is given: the browser must not insist on them.
        parts = _parts(hint) if required else tuple(replace(p, required=False) for p in _parts(hint))
        return FormField(name, "record", required, parts=parts, rows=(filled,))
    widget, choices, hint_text = _scalar_widget(name, hint, markers)
    if widget == "checkbox" and optional:
        # An optional yes/no the ledger can derive (a receipt's temperature_ok): leaving it out is an answer,
        # so it is a choice with an empty "let the ledger judge" option, never an unticked box meaning "no".
        widget, choices = "yesno", ("true", "false")
    return FormField(
        name=name,
        widget=widget,
        required=required and widget != "checkbox",
        choices=choices,
        minimum=low,
        maximum=high,
        value=prefill if isinstance(prefill, str) else "",
        hint=hint_text,
        scan=SCANS.get(name, "") if widget == "scan" else "",
    )


def _parts(record: Any, fixed: tuple[str, ...] = ()) -> tuple[FormField, ...]:
    """A nested record's own inputs; ``fixed`` parts are known in advance and shown, not typed."""
    parts = []
    for part in form_fields(record):
        if part.widget in LIST_WIDGETS:
            raise TypeError(f"no form input for a list inside {record.__name__}.{part.name}")
        parts.append(replace(part, widget="fixed") if part.name in fixed else part)
    return tuple(parts)


def form_fields(
    payload_class: type[Any],
    prefill: Mapping[str, object] | None = None,
    known: Mapping[str, tuple[str, ...]] | None = None,
) -> list[FormField]:
    """The inputs of one event type's form, in the payload's own order.

    ``prefill`` gives what the inputs start with (a text, a list of texts, or rows of
    part texts); ``known`` the choices of a list that are known from the product (its
    bags, its failed QC tests), which then become check boxes.
    """
    hints = get_type_hints(payload_class, include_extras=True)
    fields = []
    for field in dataclasses.fields(payload_class):
        has_default = field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
        fields.append(
            _field(
                field.name,
                hints[field.name],
                not has_default,
                (prefill or {}).get(field.name, ""),
                (known or {}).get(field.name, ()),
            )
        )
    return fields


# -- the submitted form back into a payload ---------------------------------------------------------


def _number(text: str, path: str) -> int | float:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise InvalidInput(f"{path} {text!r} is not a number", field=path, rule="not_a_number") from None
    return int(value) if value.is_integer() and "." not in text and "," not in text else value


def _unit(text: str, path: str) -> str:
    """A shipped unit as scanned (its COI label) or typed (its product id): the product id either way."""
    try:
        return str(UUID(text))
    except ValueError:
        pass
    try:
        return str(product_id_for(parse_coi(text, field=path)))
    except InvalidInput:
        raise InvalidInput(
            f"{path} {text!r} is neither a product's COI label nor its product id", field=path, rule="unknown_unit"
        ) from None


def _scalar(field: FormField, raw: str, path: str, zone: ZoneInfo) -> Any:
    """One input's text as the payload wants it; None when left empty (an optional value not given)."""
    if field.widget == "checkbox":
        return raw in ("on", "true", "1", "yes")
    if raw == "":
        return None
    if field.widget == "yesno":
        if raw not in ("true", "false"):
            raise InvalidInput(f"{path} must be yes or no, got {raw!r}", field=path, rule="not_yes_or_no")
        return raw == "true"
    if field.widget == "number":
        return _number(raw, path)
    if field.widget == "datetime":
        return local_instant(raw, path, zone).isoformat()
    return raw


def _rows(form: Mapping[str, str], name: str) -> list[dict[str, str]]:
    """The repeated inputs of one field, by row position ("seal_ids.2" → row 2's "" part)."""
    pattern = re.compile(re.escape(name) + r"\.(\d{1,4})(?:\.([a-z0-9_]+))?")
    rows: dict[int, dict[str, str]] = {}
    for key, value in form.items():
        found = pattern.fullmatch(key)
        if found:
            rows.setdefault(int(found.group(1)), {})[found.group(2) or ""] = str(value).strip()
    return [rows[index] for index in sorted(rows)]


def _blank(parts: tuple[FormField, ...], row: Mapping[str, str]) -> bool:
    """A row left empty (a spare row, or one a person emptied), which is not sent at all."""
    typed = [p for p in parts if p.widget not in ("checkbox", "select", "yesno")]
    return all(not row.get(p.name) for p in typed) and not any(p.widget == "fixed" for p in parts)


def _record(parts: tuple[FormField, ...], row: Mapping[str, str], path: str, zone: ZoneInfo) -> dict[str, Any]:
    record = {}
    for part in parts:
        value = _scalar(part, row.get(part.name, ""), f"{path}.{part.name}", zone)
        if value is not None:
            record[part.name] = value
    return record


def _pair(row: Mapping[str, str], path: str, zone: ZoneInfo) -> Any:
    kind = row.get("kind") or "text"
    if kind not in PAIR_KINDS:
        raise InvalidInput(f"{path} kind {kind!r} is not one of {', '.join(PAIR_KINDS)}", field=path, rule="wrong_type")
    widget = FormField(path, {"text": "text", "number": "number", "yesno": "yesno", "datetime": "datetime"}[kind], True)
    return _scalar(widget, row.get("value", ""), path, zone)


def _list_value(field: FormField, form: Mapping[str, str], zone: ZoneInfo) -> Any:
    """A list, record or mapping field's value; None when nothing was given."""
    path = f"payload.{field.name}"
    rows = _rows(form, field.name)
    if field.widget == "record":
        given = {
            key[len(field.name) + 1 :]: str(v).strip() for key, v in form.items() if key.startswith(field.name + ".")
        }
        return None if _blank(field.parts, given) else _record(field.parts, given, path, zone)
    if field.widget in ("rows", "checks"):
        texts = [row[""] for row in rows if row.get("")]
        if field.scan == "unit":
            texts = [_unit(text, f"{path}[{index}]") for index, text in enumerate(texts)]
        return texts or None
    if field.widget == "records":
        kept = [row for row in rows if not _blank(field.parts, row)]
        return [_record(field.parts, row, f"{path}[{index}]", zone) for index, row in enumerate(kept)] or None
    pairs = {row["key"]: _pair(row, f"{path}.{row['key']}", zone) for row in rows if row.get("key")}
    return pairs or None


def payload_from_form(fields: list[FormField], form: Mapping[str, str], zone: ZoneInfo) -> dict[str, Any]:
    """The payload the form describes; empty optional inputs are left out, never sent as ""."""
    payload: dict[str, Any] = {}
    for field in fields:
        if field.widget in LIST_WIDGETS:
            value = _list_value(field, form, zone)
        else:
            value = _scalar(field, str(form.get(field.name, "")).strip(), f"payload.{field.name}", zone)
        if value is not None:
            payload[field.name] = value
    return payload


def refill(fields: list[FormField], form: Mapping[str, str]) -> list[FormField]:
    """The form's inputs holding what was submitted, to show a refused form again as it was typed."""
    filled = []
    for field in fields:
        rows = _rows(form, field.name)
        if field.widget in ("rows", "checks"):
            filled.append(replace(field, rows=tuple(row.get("", "") for row in rows)))
        elif field.widget in ("records", "pairs"):
            filled.append(replace(field, rows=tuple(rows)))
        elif field.widget == "record":
            given = {key[len(field.name) + 1 :]: str(v) for key, v in form.items() if key.startswith(field.name + ".")}
            filled.append(replace(field, rows=(given,)))
        else:
            filled.append(replace(field, value=str(form.get(field.name, ""))))
    return filled
