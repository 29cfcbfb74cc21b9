"""The shapes every aggregate shares: who signs, with which meaning, and what a fact looks like.

The domain never builds signatures or hashes; it decides which facts may be
recorded (``NewEvent``) and rebuilds state from facts already recorded
(``EventRecord``). The ledger wraps each ``NewEvent`` in a signed envelope.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from domain.aggregate import Aggregate
    from domain.bedside_identity import IdentityVerifier
    from domain.catalogue import Catalogue
    from domain.document_rules import DocumentLookup
    from domain.pathway_policy import PathwayPolicy


class Role(StrEnum):
    """Roles seen in practice in a cell-therapy unit and its partners; the HTTP layer enforces what each may do."""

    NURSE = "nurse"
    PHYSICIAN = "physician"
    PHARMACIST = "pharmacist"
    QP = "qp"
    COURIER = "courier"
    SPONSOR = "sponsor"
    AUDITOR = "auditor"
    ADMIN = "admin"
    SYSTEM = "system"


class Meaning(StrEnum):
    """The meaning of an electronic signature (21 CFR Part 11 §11.50)."""

    PERFORMED = "performed"
    VERIFIED = "verified"
    WITNESSED = "witnessed"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    RELEASED = "released"
    REQUESTED = "requested"
    RECEIVED = "received"
    RECORDED = "recorded"
    AUTHORED = "authored"


@dataclass(frozen=True)
class Actor:
    """The person (or the ledger itself) who signs: id, printed name, role."""

    user_id: str
    name: str
    role: str

    def to_dict(self) -> dict[str, str]:
        """JSON-safe form, as it appears in the signed envelope."""
        return {"user_id": self.user_id, "name": self.name, "role": self.role}


@dataclass(frozen=True)
class EventRecord:
    """A fact already recorded in one aggregate's history, as the domain replays it.

    ``payload`` is JSON-safe (str, int, float, bool, None, lists, dicts); times
    inside it are ISO 8601 strings with an offset.
    """

    aggregate_id: UUID
    version: int
    type: str
    payload: Mapping[str, Any]
    occurred_at: datetime
    recorded_at: datetime
    actor: Actor
    meaning: str


@dataclass(frozen=True)
class NewEvent:
    """A fact the domain accepted and the ledger must sign and store.

    ``occurred_at`` is when it physically happened; the ledger adds
    ``recorded_at`` from its clock, the version, the chain link and the signature.
    ``by_ledger`` marks a fact the ledger itself established from the figures it was
    given (a temperature excursion it judged): the ledger signs it with its own key, as
    the ``system`` actor, rather than the person whose step revealed it.
    """

    aggregate_id: UUID
    type: str
    payload: dict[str, Any]
    occurred_at: datetime
    meaning: Meaning
    aggregate_kind: str = "product"
    by_ledger: bool = False


@dataclass(frozen=True)
class Context:
    """What a command knows besides its payload: who, when it happened, and now.

    ``now`` is the ledger's clock reading, injected so the domain never reads one;
    ``pathway`` carries the site's pathway figures (defaults when None).
    ``identity`` is the ledger's wristband check: it compares a scanned wristband with
    the patient's sealed identity and answers only whether they match and which
    identity version was compared, so the domain never holds who the patient is
    (None: no identity can be checked, and the bedside check is refused).
    ``bedside_check_valid_minutes`` is how long the two bedside checks vouch for the
    patient in the bed (the domain's default when None).
    ``signer`` is the signer's staff record as the ledger already loaded it, so checking
    their qualifications costs no second read (None: the domain loads it itself).
    ``documents`` is the ledger's document store lookup (SHA-256 → what it holds; None: no
    store, and any document reference is refused); ``documents_required`` names the
    ``Type.field`` document fields the site requires (domain/document_rules.py).
    ``document_bytes`` reads a stored document's content, checked against its SHA-256 (None:
    unreadable), for the rules that judge a file's content, as a logger's readings are.
    """

    actor: Actor
    occurred_at: datetime
    now: datetime
    meaning: Meaning | None = None
    catalogue: Catalogue | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    pathway: PathwayPolicy | None = None
    identity: IdentityVerifier | None = None
    bedside_check_valid_minutes: int | None = None
    signer: Aggregate | None = None
    documents: DocumentLookup | None = None
    documents_required: frozenset[str] = frozenset()
    document_bytes: Callable[[str], bytes | None] | None = None
