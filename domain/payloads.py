"""Typed event payloads: frozen dataclasses checked field by field, and their JSON-safe form.

A payload class declares its fields with plain types (str, int, float, bool, a StrEnum,
a nested dataclass, ``list[...]``, ``dict[str, Any]``, ``X | None = None`` for optional
fields) and, where a plain type says too little, ``Annotated`` markers: ``Bounds`` for
numbers, ``Length`` for lists, and a ``Format`` for text that is really a time, a date, a COI,
a DIN, a Single European Code or an aggregate id. ``parse_payload`` refuses the first bad field with an
``InvalidInput`` naming it (``payload.tests[1].in_spec``) and a stable rule code;
identifiers and times are stored normalised so equal facts have equal payloads.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, get_type_hints
from uuid import UUID

from domain.errors import InvalidInput
from domain.identifiers import parse_coi, parse_din
from domain.sec_code import parse_sec
from domain.text import checked_text

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")  # a document's digest (domain/document_ref.py)
MAX_NESTING = 8  # levels inside a free-form field (QC values, a correction's fields): records, not documents

P = TypeVar("P")


class Format(StrEnum):
    """What a text field really holds, so it is checked and normalised accordingly."""

    TIMESTAMP = "timestamp"
    DATE = "date"
    COI = "coi"
    DIN = "din"
    SEC = "sec"
    SHA256 = "sha256"
    UUID = "uuid"
    FREE_TEXT = "free_text"


@dataclass(frozen=True)
class Bounds:
    """Limits on a number; ``above`` is an exclusive lower bound (a volume must be > 0)."""

    low: float | None = None
    high: float | None = None
    above: float | None = None

    def problem(self, value: float) -> str | None:
        """Say how the value breaks the bounds, or None."""
        if self.above is not None and value <= self.above:
            return f"must be greater than {self.above:g}"
        if self.low is not None and value < self.low:
            return f"must be at least {self.low:g}"
        if self.high is not None and value > self.high:
            return f"must be at most {self.high:g}"
        return None


@dataclass(frozen=True)
class Length:
    """Limits on the number of items of a list or mapping."""

    low: int = 0
    high: int | None = None


Timestamp = Annotated[str, Format.TIMESTAMP]
DateText = Annotated[str, Format.DATE]
CoiText = Annotated[str, Format.COI]
DinText = Annotated[str, Format.DIN]
SecText = Annotated[str, Format.SEC]
Sha256Text = Annotated[str, Format.SHA256]
IdText = Annotated[str, Format.UUID]
FreeText = Annotated[str, Format.FREE_TEXT]
PositiveNumber = Annotated[float, Bounds(above=0)]
NON_EMPTY = Length(1)


def parse_time(text: str, *, field: str = "time") -> datetime:
    """Read an ISO 8601 time with an offset; naive times are refused, never guessed."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"{field} {text!r} is not an ISO 8601 date and time (e.g. 2026-03-01T14:05:00+01:00)",
            field=field,
            rule="invalid_datetime",
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(
            f"{field} {text!r} has no time zone offset; add one (e.g. +01:00 or Z)",
            field=field,
            rule="timezone_required",
        )
    return in_utc_range(moment, text, field)


def in_utc_range(moment: datetime, text: str, field: str) -> datetime:
    """The aware ``moment`` if it exists in UTC: every comparison goes through UTC (0001-01-01T00:00+14:00 does not)."""
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(
            f"{field} {text!r} falls outside the years 1 to 9999 once converted to UTC",
            field=field,
            rule="out_of_range",
        ) from None
    return moment


def parse_date(text: str, *, field: str = "date") -> date:
    """Read a calendar date (YYYY-MM-DD): evaluations, accreditations and visits are due on days, not instants."""
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"{field} {text!r} is not a date (YYYY-MM-DD, e.g. 2026-03-01)", field=field, rule="invalid_date"
        ) from None


def parse_payload(cls: type[P], data: object, *, prefix: str = "payload") -> P:
    """Check raw input against a payload class and build it, refusing the first bad field."""
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{prefix} must be an object of fields", field=prefix, rule="wrong_type")
    hints = get_type_hints(cls, include_extras=True)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(str(name) for name in data if name not in fields)
    if unknown:
        raise InvalidInput(
            f"{prefix}.{unknown[0]} is not a field of {cls.__name__}; known fields: {', '.join(fields)}",
            field=f"{prefix}.{unknown[0]}",
            rule="unknown_field",
        )
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        path = f"{prefix}.{name}"
        if data.get(name) is None:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise InvalidInput(f"{path} is required", field=path, rule="required")
            continue
        values[name] = _convert(hints[name], data[name], path)
    return cls(**values)


def payload_to_json(payload: object) -> dict[str, Any]:
    """The JSON-safe form of a payload; optional fields left empty are omitted."""
    result: dict[str, Any] = {}
    for spec in dataclasses.fields(payload):  # type: ignore[arg-type]
        value = getattr(payload, spec.name)
        if value is not None:
            result[spec.name] = _to_json(value)
    return result


def _to_json(value: object) -> Any:
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return payload_to_json(value)
    if isinstance(value, list | tuple):
        return [_to_json(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _to_json(item) for key, item in value.items()}
    return value


def _unwrap(tp: Any) -> tuple[Any, list[Any]]:
    """Strip ``| None`` and ``Annotated`` from a field type, keeping the markers."""
    markers: list[Any] = []
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp, *extra = get_args(tp)
            markers.extend(extra)
        elif origin in (Union, types.UnionType):
            tp = next(arg for arg in get_args(tp) if arg is not type(None))
        else:
            return tp, markers


def _wrong_type(path: str, expected: str, value: object) -> InvalidInput:
    return InvalidInput(f"{path} must be {expected}, got {type(value).__name__}", field=path, rule="wrong_type")


def _convert(tp: Any, value: object, path: str) -> Any:
    """Check one value against its declared type and markers, returning the normalised value."""
    tp, markers = _unwrap(tp)
    origin = get_origin(tp)
    if origin is list:
        return _convert_list(get_args(tp)[0], value, path, markers)
    if origin is dict:
        return _convert_mapping(value, path, markers)
    if isinstance(tp, type) and issubclass(tp, Enum):
        allowed = [member.value for member in tp]
        if value not in allowed:
            raise InvalidInput(
                f"{path} {value!r} is not one of {', '.join(map(str, allowed))}",
                field=path,
                rule="invalid_choice",
            )
        return tp(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return parse_payload(tp, value, prefix=path)
    if tp is bool:
        if not isinstance(value, bool):
            raise _wrong_type(path, "true or false", value)
        return value
    if tp is int or tp is float:
        return _convert_number(tp, value, path, markers)
    if tp is str:
        return _convert_text(value, path, markers)
    raise TypeError(f"{path}: unsupported payload field type {tp!r}")


def _convert_number(tp: type, value: object, path: str, markers: list[Any]) -> int | float:
    if tp is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise _wrong_type(path, "a whole number", value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _wrong_type(path, "a number", value)
    number: int | float = value if tp is int else float(value)
    for marker in markers:
        problem = marker.problem(number) if isinstance(marker, Bounds) else None
        if problem is not None:
            raise InvalidInput(f"{path} {problem}, got {value!r}", field=path, rule="out_of_range")
    return number


def _convert_text(value: object, path: str, markers: list[Any]) -> str:
    if not isinstance(value, str):
        raise _wrong_type(path, "text", value)
    text = checked_text(value.strip(), path, free_text=Format.FREE_TEXT in markers)
    if not text:
        raise InvalidInput(f"{path} must not be empty", field=path, rule="empty_text")
    if Format.TIMESTAMP in markers:
        return parse_time(text, field=path).isoformat()
    if Format.DATE in markers:
        return parse_date(text, field=path).isoformat()
    if Format.COI in markers:
        return parse_coi(text, field=path).value
    if Format.DIN in markers:
        return parse_din(text, field=path).value
    if Format.SEC in markers:
        return parse_sec(text, field=path).value
    if Format.SHA256 in markers:
        if not _SHA256_HEX.fullmatch(text.lower()):
            raise InvalidInput(
                f"{path} {text!r} is not a SHA-256 (64 hexadecimal digits)", field=path, rule="invalid_sha256"
            )
        return text.lower()
    if Format.UUID in markers:
        try:
            return str(UUID(text))
        except ValueError:
            raise InvalidInput(f"{path} {text!r} is not an id (UUID)", field=path, rule="invalid_id") from None
    return text


def _check_length(size: int, path: str, markers: list[Any]) -> None:
    for marker in markers:
        if not isinstance(marker, Length):
            continue
        if size < marker.low:
            raise InvalidInput(f"{path} needs at least {marker.low} item(s)", field=path, rule="too_few_items")
        if marker.high is not None and size > marker.high:
            raise InvalidInput(f"{path} allows at most {marker.high} item(s)", field=path, rule="too_many_items")


def _convert_list(item_type: Any, value: object, path: str, markers: list[Any]) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise _wrong_type(path, "a list", value)
    _check_length(len(value), path, markers)
    return [_convert(item_type, item, f"{path}[{index}]") for index, item in enumerate(value)]


def _convert_mapping(value: object, path: str, markers: list[Any]) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise _wrong_type(path, "an object with text keys", value)
    _check_length(len(value), path, markers)
    _check_json_safe(value, path)
    return dict(value)


def _check_json_safe(value: object, path: str, depth: int = 0) -> None:
    """Refuse values that would not survive the trip through JSON unchanged, or that no reader could use."""
    if depth > MAX_NESTING:
        raise InvalidInput(f"{path} is nested more than {MAX_NESTING} levels deep", field=path, rule="too_deep")
    if isinstance(value, str):
        checked_text(value, path, free_text=True)
        return
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, float) and math.isfinite(value):
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_safe(item, f"{path}[{index}]", depth + 1)
        return
    if isinstance(value, Mapping) and all(isinstance(key, str) for key in value):
        for key, item in value.items():
            checked_text(key, f"{path}.{key!r}")
            _check_json_safe(item, f"{path}.{key}", depth + 1)
        return
    raise _wrong_type(path, "text, a number, true/false, null, a list or an object", value)
