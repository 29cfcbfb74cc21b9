"""What a bundle says it is — product, COI, versions, checkpoint size and time — for the verdict's first line.

Read leniently and never trusted: it only names what was checked, so a reader sees which
product and which checkpoint the verdict is about (``verify_bundle`` decides the verdict).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ledger.signed_note import NoteError, parse_checkpoint


def _body(entry: Any) -> Mapping[str, Any]:
    try:
        body = json.loads(str(entry["stored"]))["body"]
    except (KeyError, TypeError, ValueError):
        return {}
    return body if isinstance(body, Mapping) else {}


def bundle_summary(bundle: Mapping[str, Any]) -> dict[str, Any]:
    """Product id, COI, event versions, checkpoint size and time, as the bundle states them."""
    events = bundle.get("events")
    bodies = [_body(entry) for entry in events] if isinstance(events, list) else []
    payload = bodies[0].get("payload") if bodies else None
    coi = payload.get("coi") if isinstance(payload, Mapping) else None
    try:
        cp = parse_checkpoint(str(bundle.get("checkpoint")))
    except NoteError:
        cp = None
    size = cp.size if cp else None
    time = next((line[5:] for line in cp.extensions if line.startswith("time ")), None) if cp else None
    return {
        "product_id": str(bundle.get("product_id")),
        "coi": coi if isinstance(coi, str) else None,
        "versions": [body["version"] for body in bodies if isinstance(body.get("version"), int)],
        "checkpoint_size": size,
        "checkpoint_time": time,
    }
