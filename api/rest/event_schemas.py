"""One OpenAPI schema per event type, built from the domain's own payload classes.

The domain declares each payload as a frozen dataclass with ``Annotated`` markers
(bounds, list lengths, what a text really holds). pydantic writes the JSON
Schema of the dataclass; this module adds what pydantic cannot read from our
markers (minimum, exclusiveMinimum, maxItems, ``format: date-time``...) and wraps
each payload in a request body discriminated by ``"type"``. The schemas document
and let clients and fuzzers generate requests; the domain's ``parse_payload``
remains the one check that decides, so a field is never judged twice by
different rules.
"""

from __future__ import annotations

import dataclasses
import json
import types
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

from pydantic import TypeAdapter

from domain.payloads import Bounds, Format, Length
from domain.registry import EVENT_TYPES
from domain.spec import EventSpec
from domain.text import FREE_TEXT_MAX, SHORT_TEXT_MAX

REF = "#/components/schemas/{model}"
EXAMPLES = Path(__file__).with_name("event_examples.json")
FORMATS = {Format.TIMESTAMP: "date-time", Format.DATE: "date", Format.UUID: "uuid"}
FORMAT_HINTS = {
    Format.COI: "ISBT 128 chain-of-identity (DIN + product code), as printed or scanned",
    Format.DIN: "ISBT 128 donation identification number, with its check character",
    Format.SEC: "EU Single European Code (Directive 2006/86/EC Annex VII), 40 characters, spaced or compact",
    Format.SHA256: "SHA-256 of a stored document, 64 hexadecimal digits, as `custody document add` prints it",
}


def requestable(kind: str) -> list[EventSpec]:
    """The event types of one aggregate kind that a person records (derived ones follow from others)."""
    return sorted(
        (spec for spec in EVENT_TYPES.values() if spec.kind == kind and spec.derived_from is None),
        key=lambda spec: spec.name,
    )


def request_name(spec: EventSpec) -> str:
    """The component name of one event type's request body."""
    return f"{spec.name}Request"


def _constraints(metadata: Iterable[Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for marker in metadata:
        if isinstance(marker, Bounds):
            if marker.low is not None:
                extra["minimum"] = marker.low
            if marker.high is not None:
                extra["maximum"] = marker.high
            if marker.above is not None:
                extra["exclusiveMinimum"] = marker.above
        elif isinstance(marker, Length):
            extra["minItems"] = marker.low
            if marker.high is not None:
                extra["maxItems"] = marker.high
        elif marker is Format.FREE_TEXT:
            extra["maxLength"] = FREE_TEXT_MAX
            extra["description"] = "free text: line breaks allowed, no other control characters"
        elif isinstance(marker, Format) and marker in FORMATS:
            extra["format"] = FORMATS[marker]
        elif isinstance(marker, Format):
            extra["description"] = FORMAT_HINTS[marker]
    return extra


def _annotated_parts(hint: Any) -> tuple[Any, dict[str, Any]]:
    """The type without None, and the constraints its Annotated markers carry."""
    if get_origin(hint) in (Union, types.UnionType):
        present = [arg for arg in get_args(hint) if arg is not type(None)]
        hint = present[0] if len(present) == 1 else hint
    if get_origin(hint) is Annotated:
        base, *metadata = get_args(hint)
        return base, _constraints(metadata)
    return hint, {}


def _apply(schema: dict[str, Any], extra: dict[str, Any]) -> None:
    """Add constraints to a property schema, on its non-null branch when it is optional."""
    branches = schema.get("anyOf")
    targets = [b for b in branches if b.get("type") != "null"] if isinstance(branches, list) else [schema]
    for target in targets:
        if "$ref" in target:
            continue
        if target.get("type") == "array" and "format" in extra:
            target.setdefault("items", {}).update(extra)
        else:
            target.update(extra)


def _enrich(cls: type[Any], schema: dict[str, Any], defs: dict[str, Any]) -> None:
    hints = get_type_hints(cls, include_extras=True)
    properties = schema.get("properties", {})
    for field in dataclasses.fields(cls):
        base, extra = _annotated_parts(hints[field.name])
        if base is str and not extra:
            extra = {"maxLength": SHORT_TEXT_MAX}
        if extra and field.name in properties:
            _apply(properties[field.name], extra)
        for nested in (base, *get_args(base)):
            if dataclasses.is_dataclass(nested) and isinstance(nested, type) and nested.__name__ in defs:
                _enrich(nested, defs[nested.__name__], defs)


def _drop_titles(node: Any) -> None:
    """pydantic's generated property titles ("Scanned Coi") say less than the field names."""
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for value in properties.values():
                if isinstance(value, dict):
                    value.pop("title", None)
        for value in node.values():
            _drop_titles(value)
    elif isinstance(node, list):
        for value in node:
            _drop_titles(value)


def payload_schema(spec: EventSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """The payload's JSON Schema and the named schemas it refers to."""
    schema = TypeAdapter(spec.payload).json_schema(ref_template=REF)
    defs = schema.pop("$defs", {})
    _enrich(spec.payload, schema, defs)
    for record in (schema, *defs.values()):
        if "properties" in record:
            record["additionalProperties"] = False  # the domain refuses unknown fields (rule unknown_field)
    _drop_titles(schema)
    _drop_titles(defs)
    schema["title"] = f"{spec.name}Payload"
    return schema, defs


def request_schema(spec: EventSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """One event type's request body: type, payload, the signature's meaning, when, and the password."""
    payload, defs = payload_schema(spec)
    meanings = [str(m) for m in spec.meanings]
    roles = ", ".join(sorted(str(r) for r in spec.roles))
    schema = {
        "title": request_name(spec),
        "type": "object",
        "description": f"{spec.description} Recorded by: {roles}.",
        "properties": {
            "type": {"type": "string", "enum": [spec.name], "description": "The event type."},
            "payload": payload,
            "meaning": {
                "type": "string",
                "enum": meanings,
                "description": "What the signature means (21 CFR 11.50).",
            },
            "occurred_at": {
                "type": "string",
                "format": "date-time",
                "description": "When the step physically happened (default: now), with its UTC offset.",
            },
            "password": {
                "type": "string",
                "format": "password",
                "writeOnly": True,
                "description": "The signer's password: needed at the first signature after signing in, "
                "and after the idle period (21 CFR 11.200).",
            },
        },
        "required": ["type", "payload", "meaning"],
        "additionalProperties": False,
    }
    example = examples().get(spec.name)
    if example is not None:
        schema["example"] = {"type": spec.name, **example}
    return schema, defs


@cache
def examples() -> dict[str, dict[str, Any]]:
    """One realistic request per event type (taken from the demonstration data), checked by the tests."""
    with EXAMPLES.open(encoding="utf-8") as handle:
        found: dict[str, dict[str, Any]] = json.load(handle)
    return found


@cache
def kind_schemas(kind: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The request body of one kind's events endpoint (a union discriminated by "type"), and its components."""
    components: dict[str, dict[str, Any]] = {}
    mapping: dict[str, str] = {}
    for spec in requestable(kind):
        schema, defs = request_schema(spec)
        for name, definition in {**defs, request_name(spec): schema}.items():
            if name in components and components[name] != definition:
                raise ValueError(f"two different schemas are both named {name}")
            components[name] = definition
        mapping[spec.name] = REF.format(model=request_name(spec))
    body = {
        "oneOf": [{"$ref": ref} for ref in mapping.values()],
        "discriminator": {"propertyName": "type", "mapping": mapping},
    }
    return body, components
