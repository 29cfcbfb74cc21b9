"""Step forms built from the domain's payload classes, and the submitted form turned back into a payload.

Each payload field becomes the input a person at a bedside or a pharmacy bench
can fill quickly: a date-time picker (in the site's time zone) for a time, a
list box for a choice, a check box for a yes/no, a scan field for a scanned COI,
comma-separated text for a list of labels, and JSON only for nested records. The
domain still checks every value: this module only translates, so a form and an
API call are judged by the same rules.
"""

from __future__ import annotations

import dataclasses
import json
import types
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo

from domain.errors import InvalidInput
from domain.payloads import Bounds, Format
from ledger.clock import local_instant


@dataclass(frozen=True)
class FormField:
    """One input of a step form."""

    name: str
    widget: str
    required: bool
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    value: str = ""
    hint: str = ""

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


def _widget(name: str, hint: Any, markers: list[Any]) -> tuple[str, tuple[str, ...], str]:
    if isinstance(hint, type) and issubclass(hint, Enum):
        return "select", tuple(str(member.value) for member in hint), ""
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
        return ("scan" if name.startswith("scanned") else "text"), (), "ISBT 128 COI, as printed or scanned"
    if hint is str:
        return "text", (), ""
    if get_origin(hint) is list and get_args(hint) and _unwrap(get_args(hint)[0])[0] is str:
        return "list", (), "comma-separated"
    return "json", (), "JSON"


def form_fields(payload_class: type[Any], prefill: dict[str, str] | None = None) -> list[FormField]:
    """The inputs of one event type's form, in the payload's own order."""
    hints = get_type_hints(payload_class, include_extras=True)
    fields = []
    for field in dataclasses.fields(payload_class):
        hint, optional, markers = _unwrap(hints[field.name])
        widget, choices, hint_text = _widget(field.name, hint, markers)
        if widget == "checkbox" and optional:
            # An optional yes/no the ledger can derive (a receipt's temperature_ok): leaving it out is an answer,
            # so it is a choice with an empty "let the ledger judge" option, never an unticked box meaning "no".
            widget, choices = "yesno", ("true", "false")
        bounds = next((m for m in markers if isinstance(m, Bounds)), None)
        has_default = field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
        fields.append(
            FormField(
                name=field.name,
                widget=widget,
                required=not optional and not has_default and widget != "checkbox",
                choices=choices,
                minimum=None if bounds is None else (bounds.low if bounds.low is not None else bounds.above),
                maximum=None if bounds is None else bounds.high,
                value=(prefill or {}).get(field.name, ""),
                hint=hint_text,
            )
        )
    return fields


def _number(text: str, name: str) -> int | float:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise InvalidInput(f"payload.{name} {text!r} is not a number", field=f"payload.{name}") from None
    return int(value) if value.is_integer() and "." not in text and "," not in text else value


def _local_time(text: str, name: str, zone: ZoneInfo) -> str:
    return local_instant(text, f"payload.{name}", zone).isoformat()


def payload_from_form(fields: list[FormField], form: dict[str, str], zone: ZoneInfo) -> dict[str, Any]:
    """The payload the form describes; empty optional inputs are left out, never sent as ""."""
    payload: dict[str, Any] = {}
    for field in fields:
        raw = form.get(field.name, "").strip()
        if field.widget == "checkbox":
            payload[field.name] = raw in ("on", "true", "1", "yes")
            continue
        if raw == "":
            continue
        if field.widget == "yesno":
            payload[field.name] = raw == "true"
        elif field.widget == "number":
            payload[field.name] = _number(raw, field.name)
        elif field.widget == "datetime":
            payload[field.name] = _local_time(raw, field.name, zone)
        elif field.widget == "list":
            payload[field.name] = [part.strip() for part in raw.split(",") if part.strip()]
        elif field.widget == "json":
            try:
                payload[field.name] = json.loads(raw)
            except ValueError as error:
                raise InvalidInput(
                    f"payload.{field.name} is not valid JSON: {error}", field=f"payload.{field.name}"
                ) from None
        else:
            payload[field.name] = raw
    return payload
