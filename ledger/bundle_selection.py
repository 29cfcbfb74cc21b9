"""A selection of the audit trail as one file an inspector verifies offline: standard bundles in a ZIP.

The events an audit-trail filter selects belong to several aggregates (products,
shipments, pathways, staff). The ZIP holds one standard bundle (docs/bundle-format.md)
per aggregate touched — its **complete** history, all proven in the same signed
checkpoint, so each file verifies alone with ``custody verify-bundle`` — and
``selection.json``: the filter as applied and the events it selected (aggregate, version,
hash). ``verify_selection`` checks every bundle, that they share one checkpoint, that
every selected event is in its bundle with that hash and satisfies the filter as its
signed body states it, and — unless the filter names a site, which is derived from the
aggregate's history rather than signed in each event — that no event of those bundles
that the filter matches was left out of the list. It cannot show that no *other*
aggregate matched: for that, verify the whole ledger. The checkpoints' own heads
commitments are never bundled as a record: each bundle's checkpoint proves them.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from domain.errors import InvalidInput
from domain.log_heads import HEADS_AGGREGATE_ID
from ledger.bundle import export_bundles
from ledger.bundle_parse import BundleError, parse_bundle_text
from ledger.bundle_verify import verify_bundle
from ledger.service import CustodyLedger
from ledger.witness_quorum import Quorum

SELECTION_FORMAT = "custody-ledger/audit-selection/v1"
SELECTION_FILE = "selection.json"
SELECTION_KEYS = frozenset({"format", "ledger_id", "filters", "checkpoint_size", "events"})
EVENT_KEYS = frozenset({"aggregate_id", "version", "hash", "bundle"})
FILTER_KEYS = frozenset({"person", "role", "site", "event_type", "product", "from", "to", "flag"})
DERIVED_FILTERS = frozenset({"site", "flag"})
"""Read from the audit trail (the site an aggregate last named, a near miss's flag), not signed in each event."""
LOG_AGGREGATE = str(HEADS_AGGREGATE_ID)
"""The checkpoints' own commitments: proven by the checkpoint itself, never bundled as a record of their own."""
MAX_AGGREGATES = 100
"""Each aggregate's bundle repeats the key history: a wider selection is refused (narrow the filter)."""


def bundle_name(aggregate_id: str) -> str:
    """Where an aggregate's bundle sits in the ZIP."""
    return f"bundles/{aggregate_id}.json"


Select = Callable[[tuple[str, int] | None], Sequence[Mapping[str, Any]]]
"""The filter's events in log order (``aggregate_id``, ``version``), up to and including a given event if named."""


def export_selection(ledger: CustodyLedger, select: Select, filters: Mapping[str, str]) -> bytes:
    """The ZIP of the events ``select`` finds, under ``filters`` (as UTC texts), as of one signed checkpoint.

    The aggregates are chosen first, their bundles made (which signs a checkpoint if
    needed), then the events are selected again up to the checkpoint's own last event:
    a step recorded meanwhile is either in both the bundles and the listing, or in neither.
    """
    found = (str(event["aggregate_id"]) for event in select(None))
    aggregates = [aggregate for aggregate in dict.fromkeys(found) if aggregate != LOG_AGGREGATE]
    if not aggregates:
        raise InvalidInput(
            "no event matches the filter: there is nothing to bundle", field="filter", rule="empty_selection"
        )
    if len(aggregates) > MAX_AGGREGATES:
        raise InvalidInput(
            f"the events matched belong to {len(aggregates)} products or other records; one bundle holds at most "
            f"{MAX_AGGREGATES}: narrow the filter",
            field="filter",
            rule="selection_too_large",
        )
    bundles = export_bundles(ledger, [UUID(aggregate) for aggregate in aggregates])
    commitment = json.loads(bundles[0]["heads"]["commitment"]["stored"])["body"]
    hashes: dict[tuple[str, int], str] = {}
    for bundle in bundles:
        for entry in bundle["events"]:
            stored = json.loads(entry["stored"])
            hashes[(stored["body"]["aggregate_id"], stored["body"]["version"])] = stored["hash"]
    selected = [
        (str(event["aggregate_id"]), int(event["version"]))
        for event in select((str(commitment["aggregate_id"]), int(commitment["version"])))
        if str(event["aggregate_id"]) in set(aggregates)
    ]
    listing = {
        "format": SELECTION_FORMAT,
        "ledger_id": ledger.meta.ledger_id(),
        "filters": dict(filters),
        "checkpoint_size": int(commitment["payload"]["tree_size"]) + 1,
        "events": [
            {
                "aggregate_id": aggregate,
                "version": version,
                "hash": hashes[(aggregate, version)],
                "bundle": bundle_name(aggregate),
            }
            for aggregate, version in selected
        ],
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(SELECTION_FILE, json.dumps(listing, indent=1) + "\n")
        for bundle in bundles:
            archive.writestr(bundle_name(bundle["product_id"]), json.dumps(bundle, indent=1) + "\n")
    return out.getvalue()


def _strict_json(text: str) -> Any:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, value in items:
            if name in found:
                raise BundleError(f"the member name {name!r} appears twice in one object (RFC 7493)", "duplicate_key")
            found[name] = value
        return found

    return json.loads(text, object_pairs_hook=pairs)


def _matches(body: Mapping[str, Any], filters: Mapping[str, str]) -> list[str]:
    """The filters a signed body contradicts (the site is not in the body: never judged here)."""
    actor = body.get("actor") or {}
    checks = {
        "person": actor.get("user_id"),
        "role": actor.get("role"),
        "event_type": body.get("type"),
        "product": body.get("aggregate_id"),
    }
    wrong = [name for name, value in checks.items() if name in filters and filters[name] != value]
    recorded = str(body.get("recorded_at"))
    if "from" in filters and recorded < filters["from"]:
        wrong.append("from")
    if "to" in filters and recorded >= filters["to"]:
        wrong.append("to")
    return wrong


def _read(archive: zipfile.ZipFile) -> tuple[dict[str, Any], dict[str, dict[str, Any]], list[str]]:
    problems: list[str] = []
    listing = _strict_json(archive.read(SELECTION_FILE).decode("utf-8"))
    if not isinstance(listing, dict) or listing.get("format") != SELECTION_FORMAT:
        raise BundleError(f"{SELECTION_FILE} is not a {SELECTION_FORMAT} listing", "unknown_format")
    if set(listing) != SELECTION_KEYS:
        raise BundleError(f"{SELECTION_FILE} must have exactly the keys {sorted(SELECTION_KEYS)}", "unknown_key")
    if not isinstance(listing["filters"], dict) or set(listing["filters"]) - FILTER_KEYS:
        raise BundleError(f"{SELECTION_FILE}: filters must be an object of {sorted(FILTER_KEYS)}", "unknown_key")
    bundles: dict[str, dict[str, Any]] = {}
    for name in archive.namelist():
        if name == SELECTION_FILE:
            continue
        if not (name.startswith("bundles/") and name.endswith(".json")):
            problems.append(f"{name}: not part of a selection (only {SELECTION_FILE} and bundles/*.json)")
            continue
        try:
            bundles[name] = parse_bundle_text(archive.read(name).decode("utf-8"))
        except (BundleError, UnicodeDecodeError) as error:
            problems.append(f"{name}: {error}")
    return listing, bundles, problems


def verify_selection(data: bytes, trusted: set[bytes] | None, quorum: Quorum | None = None) -> list[str]:
    """Every reason the selection cannot be trusted (empty when it verifies)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            listing, bundles, problems = _read(archive)
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, ValueError) as error:
        return [f"unreadable selection: {error}"]
    notes = set()
    bodies: dict[str, dict[int, Mapping[str, Any]]] = {}
    hashes: dict[tuple[str, int], str] = {}
    for name, bundle in sorted(bundles.items()):
        problems += [f"{name}: {problem}" for problem in verify_bundle(bundle, trusted, quorum)]
        if name != bundle_name(str(bundle["product_id"])):
            problems.append(f"{name}: holds the bundle of {bundle['product_id']}")
        notes.add(str(bundle["checkpoint"]))
        for entry in bundle["events"]:
            stored = json.loads(str(entry["stored"]))
            body = stored["body"]
            bodies.setdefault(name, {})[int(body["version"])] = body
            hashes[(name, int(body["version"]))] = str(stored["hash"])
        if str(bundle["ledger_id"]) != str(listing["ledger_id"]):
            problems.append(f"{name}: a bundle of ledger {bundle['ledger_id']}, not {listing['ledger_id']}")
    if len(notes) > 1:
        problems.append("the bundles are not proven in one and the same checkpoint")
    for note in notes:
        size = note.split("\n")[1] if note.count("\n") > 1 else ""
        if size != str(listing["checkpoint_size"]):
            problems.append(f"the checkpoint covers {size} events, the listing says {listing['checkpoint_size']}")
    filters: Mapping[str, str] = listing["filters"]
    listed: set[tuple[str, int]] = set()
    for number, event in enumerate(listing["events"], start=1):
        if not isinstance(event, dict) or set(event) != EVENT_KEYS:
            problems.append(f"selected event {number}: must have exactly the keys {sorted(EVENT_KEYS)}")
            continue
        name, version = str(event["bundle"]), int(event["version"])
        body = bodies.get(name, {}).get(version)
        if name != bundle_name(str(event["aggregate_id"])) or body is None:
            problems.append(f"selected event {number} ({event['aggregate_id']} v{version}): not in the bundles")
            continue
        if hashes[(name, version)] != event["hash"]:
            problems.append(f"selected event {number} ({event['aggregate_id']} v{version}): another hash")
        wrong = _matches(body, filters)
        if wrong:
            problems.append(f"selected event {number} ({event['aggregate_id']} v{version}): outside {wrong}")
        listed.add((name, version))
    for name in sorted(bundles):
        if not any(key[0] == name for key in listed):
            problems.append(f"{name}: holds no selected event")
        if DERIVED_FILTERS & set(filters):
            continue
        for version, body in sorted(bodies.get(name, {}).items()):
            if (name, version) not in listed and not _matches(body, filters):
                problems.append(f"{name}: v{version} matches the filter but is not in the selection")
    return problems
