"""Turning ledger objects into JSON-safe data and short human lines, for the CLI (and later HTTP).

QC results and corrections are written out in words ("OUT OF SPECIFICATION", "original … in force …"):
a terminal may show no colour, and a verdict must never depend on one.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from domain.aggregate import Aggregate
from ledger.envelope import Envelope


def jsonable(value: Any) -> Any:
    """Recursively convert datetimes, UUIDs, enums, dataclasses, tuples and sets to JSON types."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    return value


def aggregate_summary(aggregate: Aggregate) -> dict[str, Any]:
    """The replayed state of an aggregate, as JSON-safe data."""
    state = {key: value for key, value in vars(aggregate).items() if not key.startswith("_")}
    state["kind"] = aggregate.kind
    return {key: jsonable(value) for key, value in state.items()}


def event_line(envelope: Envelope) -> str:
    """One event as a line a pharmacist can read: version, when, what, who, meaning."""
    body = envelope.body
    actor = body["actor"]
    return (
        f"v{body['version']:<3} {body['occurred_at'][:19]}Z  {body['type']:<30} "
        f"{actor['name']} ({actor['role']}), {body['meaning']}  #{envelope.hash[:12]}"
    )


VERDICT_WORDS = {"in_spec": "in specification", "out_of_spec": "OUT OF SPECIFICATION", "missing": "MISSING"}


def measured(reading: dict[str, Any]) -> str:
    """A measured value with its unit ("61 %"), else the reading ("no growth"), else "—"."""
    value = reading.get("value")
    if isinstance(value, int | float) and not isinstance(value, bool):
        unit = reading.get("unit")
        return f"{value:g} {unit}" if unit else f"{value:g}"
    result = reading.get("result")
    return str(result) if result else "—"


def verdict_words(reading: dict[str, Any]) -> str:
    """The verdict in words (never a colour alone), saying when it is the recorder's rather than computed."""
    words = VERDICT_WORDS[reading["verdict"]]
    if reading.get("verdict_basis") == "declared":
        return f"{words} (as declared)"
    declared = reading.get("declared_in_spec")
    if declared is not None and bool(declared) != (reading["verdict"] == "in_spec"):
        return f"{words} (signed as {VERDICT_WORDS['in_spec' if declared else 'out_of_spec'].lower()})"
    return words


def qc_lines(qc: dict[str, Any] | None) -> list[str]:
    """The lot's QC against its release panel: each test measured, its criterion and verdict; a corrected
    result beside the one first signed; a missing test named (release needs the whole panel)."""
    if qc is None:
        return []
    failed = qc["out_of_specification"]
    if qc["complete"] is None:
        summary = f"panel unknown: {qc['product_code']} is not in the catalogue in force"
    else:
        summary = "complete" if qc["complete"] else f"INCOMPLETE, missing {', '.join(qc['missing'])}"
    summary += f"; {len(failed)} out of specification" + (f" ({', '.join(failed)})" if failed else "")
    lines = [f"  QC of lot {qc['lot']} against the release panel of {qc['product_code']}: {summary}"]
    for test in qc["tests"]:
        criterion = f"criterion {test['criterion']}" if test["in_panel"] else f"not in the panel, {test['criterion']}"
        if test["verdict"] == "missing":
            lines.append(f"    {test['name']}: MISSING, no result yet ({criterion}); release needs the whole panel")
            continue
        line = f"    {test['name']}: {measured(test)} ({criterion}): {verdict_words(test)}"
        if test["corrected_by"]:
            versions = ", ".join(f"v{version}" for version in test["corrected_by"])
            original = test["original"]
            first = (
                "not in the first record" if original is None else (f"{measured(original)}: {verdict_words(original)}")
            )
            line += f"; corrected at {versions}, first signed at v{test['recorded_version']} as {first}"
        lines.append(line)
    return lines


def shown_value(value: Any) -> str:
    """A payload value as one line of text (JSON, accents kept)."""
    return "(absent)" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def correction_lines(chains: list[dict[str, Any]] | None, indent: str = "  ") -> list[str]:
    """Each corrected fact: the corrections in order (who, when, which fields, why), then each changed value,
    original beside the one in force."""
    lines = []
    for chain in chains or ():
        lines.append(
            f"{indent}CORRECTED v{chain['version']} {chain['event_type']} ({', '.join(chain['fields'])}), "
            f"first signed by {chain['actor_name']} at {chain['occurred_at']}:"
        )
        for c in chain["corrections"]:
            lines.append(
                f"{indent}  v{c['version']} {c['recorded_at']} {c['actor_name']} ({c['role']}) corrects "
                f"v{c['corrects_version']}: {', '.join(c['fields'])}, reason: {c['reason']}"
            )
        for change in chain["changes"]:
            lines.append(
                f"{indent}  {change['path']}: original {shown_value(change['original'])}, "
                f"in force {shown_value(change['in_force'])}"
            )
    return lines
