"""Import a tank's logger file over a product's LN2 storage: read it, store it by hash, record it — once.

One path for `custody logger import FILE --product ID` and `POST /products/{id}/storage-logger`,
in the order ledger/logger_import.py keeps for a shipper's file, so that a bad file changes
nothing: the readings are read first (every bad row refused with its line), the tank is
one the product sat in and the file covers one of its stays there (domain/storage_logger_rules.py),
and only then is the file stored as a ``logger_file`` document and recorded. The tank
defaults to the one the product was last stored in. The same bytes again for the same
product record nothing: the answer is the import already stored (``already_imported``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.errors import InvalidInput, NotFound
from domain.logger_readings import parse_logger_csv
from domain.product import TherapyProduct
from domain.storage_logger_events import STORAGE_LOGGER_FILE_IMPORTED
from domain.storage_logger_rules import judge_stays, stays_in_tank
from domain.temperature_verdict import storage_range
from ledger.envelope import Envelope
from ledger.logger_import import LoggerImport, store_and_record
from ledger.service import CustodyLedger, WithEvents
from ledger.signing_lockout import Channel

IMPORTED = "StorageLoggerFileImported"
SUMMARISED = "StorageReadingsSummarised"


def import_storage_logger_file(
    ledger: CustodyLedger,
    product_id: UUID,
    content: bytes,
    *,
    user: str,
    site: str | None = None,
    tank: str | None = None,
    meaning: str | None,
    password: str | None,
    occurred_at: datetime | None = None,
    session: str | None = None,
    channel: Channel = "cli",
    with_events: WithEvents | None = None,
) -> LoggerImport:
    """Refuse a file that does not read or covers none of the product's stays, before anything is stored."""
    site, tank = check_storage_file(ledger, product_id, content, site=site, tank=tank, occurred_at=occurred_at)
    return store_and_record(
        ledger, STORAGE_LOGGER_FILE_IMPORTED, product_id, content, {"site": site, "tank": tank},
        lambda sha256: _earlier(ledger, product_id, sha256),
        user=user, meaning=meaning, password=password, occurred_at=occurred_at, session=session, channel=channel,
        with_events=with_events,
    )  # fmt: skip


def check_storage_file(
    ledger: CustodyLedger,
    product_id: UUID,
    content: bytes,
    *,
    site: str | None,
    tank: str | None,
    occurred_at: datetime | None,
) -> tuple[str, str]:
    """The (site, tank) the file will be recorded for, once it reads and covers one of the product's stays there."""
    if not content:
        raise InvalidInput("the logger file is empty", field="file", rule="invalid_logger_file")
    product = _product(ledger, product_id)
    site, tank = which_tank(product, site, tank)
    entry = ledger.catalogue.get(product.product_code)
    judge_stays(
        stays_in_tank(product, site, tank), parse_logger_csv(content), occurred_at or ledger.clock.now(),
        storage_range(entry), entry.logger_gap_max_min, tank,
    )  # fmt: skip
    return site, tank


def which_tank(product: TherapyProduct, site: str | None, tank: str | None) -> tuple[str, str]:
    """The tank named, or the one the product was last stored in (its site too, when not named)."""
    last = product.storage_stays[-1] if product.storage_stays else None
    if tank is None or not tank.strip():
        if last is None:
            raise InvalidInput(
                "tank: the product was never stored in LN2, so no tank's logger file covers it",
                field="tank",
                rule="product_never_in_tank",
            )
        return (site or last.site).strip(), last.tank
    if site is None or not site.strip():
        same = [s.site for s in product.storage_stays if s.tank == tank.strip()]
        site = same[-1] if same else (last.site if last is not None else "")
    if not site.strip():
        raise InvalidInput("site: name the site of the tank", field="site", rule="required")
    return site.strip(), tank.strip()


def _product(ledger: CustodyLedger, product_id: UUID) -> TherapyProduct:
    found = ledger.load(product_id)
    if not isinstance(found, TherapyProduct) or found.state is None:
        raise NotFound(f"no product with id {product_id}", field="product_id")
    return found


def _earlier(ledger: CustodyLedger, product_id: UUID, sha256: str) -> list[Envelope]:
    """The product's stored import of this file and the ledger's judgement of it; empty when never imported."""
    found: list[Envelope] = []
    imported = False
    for envelope in ledger.history(product_id):
        payload = envelope.body.get("payload") or {}
        if envelope.type == IMPORTED and payload.get("document", {}).get("sha256") == sha256:
            found.append(envelope)
            imported = True
        elif envelope.type == SUMMARISED and payload.get("document_sha256") == sha256:
            found.append(envelope)
    return found if imported else []


def storage_summaries(ledger: CustodyLedger, product_id: UUID) -> list[dict[str, Any]]:
    """Every summary the ledger signed for this product's tank logger files, oldest first."""
    return [dict(e.body["payload"]) for e in ledger.history(product_id) if e.type == SUMMARISED]
