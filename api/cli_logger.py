"""`custody logger import FILE --shipment ID`: a received shipper's logger file, judged by the ledger.

The file is read before anything is stored (a bad row is refused with its line number,
exit 2, nothing stored), then stored by hash as a ``logger_file`` document and recorded
on the shipment, signed by ``--user``; the ledger signs what it reads in it — the
summary, an excursion that holds every product in the shipper, a gap that is a
deviation (domain/logger_rules.py). The same file again records nothing and says so.
"""

from __future__ import annotations

import argparse
import json
from typing import Any
from uuid import UUID

from api.cli_commands import open_ledger
from api.cli_documents import _read as read_file
from api.passwords import read_password
from api.render import event_line
from domain.errors import InvalidInput
from ledger.clock import instant_field
from ledger.logger_import import import_logger_file
from ledger.merkle_log import checkpoint_if_due
from ledger.settings import Settings


def add_commands(sub: Any) -> None:
    """Register `custody logger import`."""
    logger = sub.add_parser("logger", help="a shipper's data-logger file: readings judged by the ledger")
    logger_sub = logger.add_subparsers(dest="logger_command", required=True, metavar="ACTION")
    imp = logger_sub.add_parser(
        "import",
        help="read a received shipment's logger CSV (ISO 8601 time with offset, °C), store it by hash, record it; "
        "an excursion quarantines every product in the shipper, a gap is a deviation",
    )
    imp.add_argument("file", metavar="FILE", help="the logger's CSV export")
    imp.add_argument("--shipment", required=True, metavar="ID", help="the shipment's UUID")
    imp.add_argument("--user", required=True, help="who signs the import (a pharmacist or QP)")
    imp.add_argument("--meaning", default="recorded", help="recorded (default) or verified")
    imp.add_argument("--occurred-at", help="when the file was read (ISO 8601 with offset; default now)")
    imp.add_argument("--password-stdin", action="store_true", help="read the signer's password from stdin")
    imp.add_argument("--json", action="store_true", help="print the document, the summary and the events as JSON")
    imp.set_defaults(handler=import_command)


def _shipment_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise InvalidInput(f"--shipment {text!r} is not a UUID", field="shipment", rule="invalid_identifier") from None


def import_command(args: argparse.Namespace, settings: Settings) -> int:
    """Import once; print the summary and every event stored (or already stored)."""
    shipment_id = _shipment_id(args.shipment)
    occurred_at = (
        None if args.occurred_at is None else instant_field(args.occurred_at, "occurred_at", label="--occurred-at")
    )
    content = read_file(args.file, settings.max_document_bytes)
    password = read_password(f"password for {args.user}: ", env_var="CUSTODY_PASSWORD", from_stdin=args.password_stdin)
    with open_ledger(settings) as ledger:
        done = import_logger_file(
            ledger, shipment_id, content, user=args.user, meaning=args.meaning, password=password,
            occurred_at=occurred_at,
        )  # fmt: skip
        if not done.already_imported:
            checkpoint_if_due(ledger)
    summary = done.summary
    if args.json:
        print(json.dumps({
            "document": done.document.to_json(), "already_imported": done.already_imported, "summary": summary,
            "events": [envelope.to_json() for envelope in done.envelopes],
        }))  # fmt: skip
        return 0
    if done.already_imported:
        print(f"logger file {done.document.sha256} is already imported for this shipment: nothing recorded")
    print(
        f"logger {summary['data_logger_id']}: {summary['readings']} readings {summary['from_at']} → "
        f"{summary['to_at']}, min {summary['min_c']:g} °C, max {summary['max_c']:g} °C, "
        f"longest gap {summary['longest_gap_min']} min"
    )
    for product in summary["products"]:
        verdict = "EXCURSION" if product["excursion"] else "within range"
        print(
            f"  {product['product_id']} {product['product_code']} {product['acceptable']}: "
            f"{product['minutes_outside']} min outside — {verdict}; {len(product['gaps'])} gap(s) over the limit"
        )
    if not done.already_imported:
        for envelope in done.envelopes:
            print("recorded " + event_line(envelope))
    return 0
