"""The signed catalogue as people read it: the figures in force and who changed what, when and why.

One view for `custody catalogue show` and ``GET /catalogue``: the effective entries
(defaults included), the site's mapping and its digest, and the history of signed
changes, each with its signer, meaning, times, reason and the settings it changed
(domain/catalogue_diff.py). The catalogue names no patient and no product: every signed-in
person may read it.
"""

from __future__ import annotations

from typing import Any

from domain.catalogue import Catalogue, CatalogueEntry
from domain.catalogue_diff import differences, entry_settings
from domain.catalogue_events import CatalogueChange, SiteCatalogue
from domain.errors import InvalidInput


def entry_view(entry: CatalogueEntry) -> dict[str, Any]:
    """One product: code, name, kind and every setting, as the diff prints them."""
    return {"code": entry.code, **entry_settings(entry)}


def history_view(catalogue: SiteCatalogue) -> list[dict[str, Any]]:
    """Every signed change, oldest first, with the settings it changed from the catalogue before it."""
    rows = []
    before = Catalogue.default()
    for change in catalogue.changes:
        try:
            after = Catalogue.from_mapping(change.mapping)
        except InvalidInput:  # signed under rules this version no longer accepts: shown, not compared
            rows.append({**_signature(change), "changes": None})
            continue
        rows.append({**_signature(change), "changes": [d.to_dict() for d in differences(before, after)]})
        before = after
    return rows


def _signature(change: CatalogueChange) -> dict[str, Any]:
    return {
        "version": change.version,
        "sha256": change.sha256,
        "reason": change.reason,
        "signed_by": change.actor.to_dict(),
        "meaning": change.meaning,
        "occurred_at": change.occurred_at,
        "recorded_at": change.recorded_at,
    }


def catalogue_view(catalogue: SiteCatalogue) -> dict[str, Any]:
    """The catalogue in force, its mapping and digest, and its history."""
    return {
        "version": catalogue.version,
        "sha256": catalogue.digest,
        "signed": bool(catalogue.changes),
        "mapping": catalogue.mapping,
        "entries": [entry_view(entry) for entry in catalogue.catalogue],
        "history": history_view(catalogue),
    }
