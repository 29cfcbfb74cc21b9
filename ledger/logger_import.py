"""Import a shipper's logger file: read it, store it by hash, record it — once, or not at all.

One path for `custody logger import` and `POST /shipments/{id}/logger`. The order is what
makes a bad file change nothing: the readings are read first (every bad row refused with
its line, domain/logger_readings.py) and placed on the shipment's journey (it must be
received, and the file must hold readings of that journey), and only then is the file stored as a
``logger_file`` document and recorded (``ShipmentLoggerFileImported``, judged by the
domain, domain/logger_rules.py). The same bytes again for the same shipment record
nothing: the answer is the import already stored (``already_imported``), so a retried
upload is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.document_ref import DocumentKind
from domain.errors import InvalidInput, NotFound, OutOfOrder
from domain.logger_events import SHIPMENT_LOGGER_FILE_IMPORTED
from domain.logger_readings import parse_logger_csv
from domain.logger_rules import check_serial, journey_of
from domain.registry import check_role
from domain.shipment import Shipment
from domain.spec import EventSpec
from ledger.documents import DocumentInfo
from ledger.envelope import Envelope
from ledger.service import CustodyLedger, WithEvents
from ledger.signing_lockout import Channel

IMPORTED = "ShipmentLoggerFileImported"
SUMMARISED = "ShipmentReadingsSummarised"
SUMMARY_TYPES = frozenset({SUMMARISED, "StorageReadingsSummarised"})
ALREADY = "logger_file_already_imported"


@dataclass(frozen=True)
class LoggerImport:
    """What an import stored (or found stored): the document and the events, and whether they were already there."""

    document: DocumentInfo
    envelopes: list[Envelope]
    already_imported: bool

    @property
    def summary(self) -> dict[str, Any]:
        """The summary payload the ledger signed for this file (a shipper's or a tank's)."""
        found = next(e for e in self.envelopes if e.type in SUMMARY_TYPES)
        return dict(found.body["payload"])


def import_logger_file(
    ledger: CustodyLedger,
    shipment_id: UUID,
    content: bytes,
    *,
    user: str,
    meaning: str | None,
    password: str | None,
    occurred_at: datetime | None = None,
    session: str | None = None,
    channel: Channel = "cli",
    with_events: WithEvents | None = None,
) -> LoggerImport:
    """Refuse a file that does not read, before anything is stored; store and record it once."""
    if not content:
        raise InvalidInput("the logger file is empty", field="file", rule="invalid_logger_file")
    shipment = _shipment(ledger, shipment_id)
    check_serial(shipment, content)
    journey_of(shipment, parse_logger_csv(content))
    return store_and_record(
        ledger, SHIPMENT_LOGGER_FILE_IMPORTED, shipment_id, content, {},
        lambda sha256: _earlier(ledger, shipment_id, sha256),
        user=user, meaning=meaning, password=password, occurred_at=occurred_at, session=session, channel=channel,
        with_events=with_events,
    )  # fmt: skip


def store_and_record(
    ledger: CustodyLedger,
    spec: EventSpec,
    aggregate_id: UUID,
    content: bytes,
    fields: dict[str, Any],
    earlier: Callable[[str], list[Envelope]],
    *,
    user: str,
    meaning: str | None,
    password: str | None,
    occurred_at: datetime | None,
    session: str | None,
    channel: Channel,
    with_events: WithEvents | None,
) -> LoggerImport:
    """Store a logger file already read and placed, then record ``spec`` naming it (with ``fields``) — once.

    The signer's role is asked first, so a refused signer leaves no file behind; ``earlier``
    finds the import of the same bytes already stored on the aggregate (by its SHA-256),
    which is then the answer, also when a copy of this request stored it meanwhile.
    """
    actor, _ = ledger.actor(user)
    check_role(spec, actor.role)
    info, _ = ledger.documents.add(
        content,
        DocumentKind.LOGGER_FILE,
        uploaded_by=actor.user_id,
        now=ledger.clock.now(),
        max_bytes=ledger.settings.max_document_bytes,
    )
    found = earlier(info.sha256)
    if found:
        return LoggerImport(info, found, already_imported=True)
    payload = {"document": info.to_json()["reference"], **fields}
    try:
        envelopes = ledger.record(
            spec.name, aggregate_id, payload, user=user, meaning=meaning, password=password,
            occurred_at=occurred_at, session=session, channel=channel, with_events=with_events,
        )  # fmt: skip
    except OutOfOrder as refused:
        found = earlier(info.sha256) if refused.rule == ALREADY else []
        if not found:
            raise
        return LoggerImport(info, found, already_imported=True)  # a copy of this request stored it meanwhile
    return LoggerImport(info, envelopes, already_imported=False)


def _shipment(ledger: CustodyLedger, shipment_id: UUID) -> Shipment:
    found = ledger.load(shipment_id)
    if not isinstance(found, Shipment):
        raise NotFound(f"no shipment with id {shipment_id}", field="shipment_id")
    return found


def _earlier(ledger: CustodyLedger, shipment_id: UUID, sha256: str) -> list[Envelope]:
    """The shipment's stored import of this file and the ledger's summary of it; empty when never imported."""
    found: list[Envelope] = []
    for envelope in ledger.history(shipment_id):
        payload = envelope.body.get("payload") or {}
        names = payload.get("document", {}).get("sha256") if envelope.type == IMPORTED else None
        if envelope.type == SUMMARISED:
            names = payload.get("document_sha256")
        if names == sha256:
            found.append(envelope)
    return found


def imported_files(ledger: CustodyLedger, shipment_id: UUID) -> list[dict[str, Any]]:
    """Every summary the ledger signed for this shipment's logger files, oldest first (what pages show)."""
    return [dict(e.body["payload"]) for e in ledger.history(shipment_id) if e.type == SUMMARISED]
