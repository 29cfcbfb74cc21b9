"""Reading a bundle's bytes strictly: I-JSON (RFC 7493) and exactly the keys its format version defines.

Two parsers that disagree on a duplicated key ("last one wins" here, "first one" there)
would let one bundle mean two things to two verifiers; so a duplicated member name is
refused, as are NaN and infinities, and any top-level key the format does not define
(a verifier must not ignore what it does not understand in a format it claims to read).
"""

from __future__ import annotations

import json
from typing import Any

BUNDLE_FORMAT = "custody-ledger/bundle/v2"
TOP_LEVEL_KEYS = frozenset({"format", "ledger_id", "product_id", "checkpoint", "key_events", "events", "heads"})
OPTIONAL_KEYS = frozenset({"documents"})
"""Present only when the product's events reference documents (ledger/bundle_documents.py)."""


class BundleError(ValueError):
    """A bundle that cannot be read as this format, with a stable ``rule`` code."""

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise BundleError(f"the member name {name!r} appears twice in one object (RFC 7493)", "duplicate_key")
        found[name] = value
    return found


def _no_constant(name: str) -> Any:
    raise BundleError(f"{name} is not a JSON number (RFC 7493)", "not_i_json")


def parse_bundle_text(text: str) -> dict[str, Any]:
    """The bundle object of a UTF-8 JSON text, refusing what I-JSON and this format refuse."""
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise BundleError(f"not JSON: {error}", "unreadable_bundle") from None
    if not isinstance(value, dict):
        raise BundleError("a bundle is one JSON object", "unreadable_bundle")
    check_top_level(value)
    return value


def check_top_level(bundle: dict[str, Any]) -> None:
    """A known format version, and exactly its top-level keys."""
    if bundle.get("format") != BUNDLE_FORMAT:
        raise BundleError(
            f"unknown bundle format {bundle.get('format')!r} (this verifier reads {BUNDLE_FORMAT})", "unknown_format"
        )
    unknown = sorted(set(bundle) - TOP_LEVEL_KEYS - OPTIONAL_KEYS)
    if unknown:
        raise BundleError(f"keys {', '.join(unknown)} are not part of {BUNDLE_FORMAT}", "unknown_key")
    missing = sorted(TOP_LEVEL_KEYS - set(bundle))
    if missing:
        raise BundleError(f"keys {', '.join(missing)} are missing", "missing_key")
