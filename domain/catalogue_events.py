"""The site's product catalogue as signed events: what changed it, who, when and why.

The catalogue (domain/catalogue.py) holds the figures the custody rules judge by: storage
limits, thaw and lymphodepletion windows, bag counts, release panels. EU GMP Annex 11 §10
asks that a change to such configuration be made under control and be traceable, so the
catalogue the ledger uses is not a file read silently at start-up: it is the latest
``CatalogueChanged`` on one catalogue aggregate with a fixed id. Each change carries the
site's whole mapping (the catalogue file's parsed JSON, validated by
``Catalogue.from_mapping``), the SHA-256 of its canonical form, so the file an operator
holds can be compared with what was signed, and the reason for the change.

Who signs it: the Qualified Person. Every figure in the catalogue is product specification
— the release panel's acceptance criteria decide whether a lot is "within specification",
the storage and thaw limits whether a product is still fit to infuse — and it is the QP
who certifies lots against that specification (README.md, "Who signs what"). The
administrator runs the installation but does not decide what a lot must meet. The ledger
itself (role ``system``) signs only the first catalogue, the file in place when the
ledger is initialised, before any QP is registered.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from domain.aggregate import Aggregate
from domain.catalogue import Catalogue
from domain.events import Actor, EventRecord
from domain.events import Meaning as M
from domain.events import Role as R
from domain.payloads import FreeText
from domain.spec import EventSpec

KIND = "catalogue"
CATALOGUE_NAMESPACE = UUID("3e9b6f14-7a2d-4c85-b0e1-94d7c2a6f853")
CATALOGUE_ID = uuid5(CATALOGUE_NAMESPACE, "site-catalogue")
"""Fixed forever: the one catalogue aggregate of a ledger."""
CATALOGUE_CHANGED_TYPE = "CatalogueChanged"


def canonical_catalogue(value: Any) -> Any:
    """The mapping as it survives the signed envelope: a whole number is the same figure as 30 or 30.0.

    Envelopes are canonical JSON (RFC 8785), which writes 30.0 as 30; normalising here makes the
    digest of a file, of the payload signed and of the payload replayed the same.
    """
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(key): canonical_catalogue(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_catalogue(item) for item in value]
    return value


def catalogue_digest(mapping: Any) -> str:
    """SHA-256 (hex) of the mapping's canonical form: sorted keys, no spaces, UTF-8, whole numbers as integers."""
    text = json.dumps(
        canonical_catalogue(mapping), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


EMPTY_DIGEST = catalogue_digest({})
"""The digest of "no site settings": the labels' defaults (``Catalogue.default()``)."""


@dataclass(frozen=True)
class CatalogueChanged:
    """The site's whole catalogue mapping from now on, its digest, and why it changed."""

    mapping: dict[str, Any]
    sha256: str
    reason: FreeText


@dataclass(frozen=True)
class CatalogueChange:
    """One signed change, as the history shows it."""

    version: int
    mapping: dict[str, Any]
    sha256: str
    reason: str
    actor: Actor
    meaning: str
    occurred_at: str
    recorded_at: str


class SiteCatalogue(Aggregate):
    """The catalogue in force and every change that led to it."""

    kind = KIND

    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(aggregate_id)
        self.changes: list[CatalogueChange] = []

    @property
    def mapping(self) -> dict[str, Any]:
        """The site's mapping in force (empty: the labels' defaults)."""
        return self.changes[-1].mapping if self.changes else {}

    @property
    def digest(self) -> str:
        """The digest of the mapping in force."""
        return self.changes[-1].sha256 if self.changes else EMPTY_DIGEST

    @property
    def catalogue(self) -> Catalogue:
        """The catalogue the rules judge by (the mapping was validated when it was signed)."""
        return Catalogue.from_mapping(self.mapping)

    def when_CatalogueChanged(self, record: EventRecord) -> None:
        """The new mapping replaces the old one; the old one stays in the history."""
        p = record.payload
        self.changes.append(
            CatalogueChange(
                record.version,
                dict(p["mapping"]),
                p["sha256"],
                p["reason"],
                record.actor,
                record.meaning,
                record.occurred_at.isoformat(),
                record.recorded_at.isoformat(),
            )
        )


CATALOGUE_SIGNERS = frozenset({R.QP, R.SYSTEM})
CATALOGUE_SPECS: tuple[EventSpec, ...] = (
    EventSpec(
        CATALOGUE_CHANGED_TYPE,
        KIND,
        CatalogueChanged,
        (M.APPROVED, M.RECORDED),
        CATALOGUE_SIGNERS,
        "The Qualified Person approves a new product catalogue (limits, windows, release panels) for the site, "
        "with its digest and reason; steps recorded from then on are judged against it.",
        singleton=True,
    ),
)
