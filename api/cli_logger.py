"""`custody logger import FILE --shipment ID | --product ID`: a logger file, judged by the ledger.

``--shipment``: a received shipper's file over its journey. ``--product``: the monitoring
file of an LN2 tank over the product's stays in it (``--tank``/``--site``, by default the
tank it was last stored in; domain/storage_logger_rules.py); ``--product`` may be repeated
to import one tank's file for every product it held.

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

from api.cli_commands import open_ledger, resolve_id
from api.cli_documents import _read as read_file
from api.passwords import read_password
from api.render import event_line
from domain.errors import InvalidInput
from ledger.clock import instant_field
from ledger.logger_import import LoggerImport, import_logger_file
from ledger.merkle_log import checkpoint_if_due
from ledger.settings import Settings
from ledger.storage_logger_import import check_storage_file, import_storage_logger_file


def add_commands(sub: Any) -> None:
    """Register `custody logger import`."""
    logger = sub.add_parser("logger", help="a shipper's data-logger file: readings judged by the ledger")
    logger_sub = logger.add_subparsers(dest="logger_command", required=True, metavar="ACTION")
    imp = logger_sub.add_parser(
        "import",
        help="read a logger CSV (docs/temperature-loggers.md), store it by hash, record it on a received shipment "
        "or on a product's LN2 storage; an excursion quarantines, a gap is a deviation",
    )
    imp.add_argument("file", metavar="FILE", help="the logger's CSV export")
    target = imp.add_mutually_exclusive_group(required=True)
    target.add_argument("--shipment", metavar="ID", help="the received shipment's UUID (the shipper's logger)")
    target.add_argument(
        "--product",
        metavar="ID",
        action="append",
        help="a product's UUID or COI (a tank's monitoring logger over its stays; repeat for every product the "
        "tank held)",
    )
    imp.add_argument("--tank", help="with --product: the tank the file monitors (default: where it was last stored)")
    imp.add_argument("--site", help="with --product: the tank's site (default: the site of that tank's stay)")
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
    if args.product:
        return storage_import_command(args, settings)
    if args.tank is not None or args.site is not None:
        raise InvalidInput(
            "--tank and --site go with --product (a tank's logger)", field="tank", rule="option_not_applicable"
        )
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


def storage_import_command(args: argparse.Namespace, settings: Settings) -> int:
    """Import one tank file for each product named, in order; every product is checked before anything is stored."""
    occurred_at = (
        None if args.occurred_at is None else instant_field(args.occurred_at, "occurred_at", label="--occurred-at")
    )
    content = read_file(args.file, settings.max_document_bytes)
    password = read_password(f"password for {args.user}: ", env_var="CUSTODY_PASSWORD", from_stdin=args.password_stdin)
    done: list[LoggerImport] = []
    with open_ledger(settings) as ledger:
        products = [resolve_id(text, "product") for text in args.product]
        for product_id in products:
            check_storage_file(ledger, product_id, content, site=args.site, tank=args.tank, occurred_at=occurred_at)
        for product_id in products:
            one = import_storage_logger_file(
                ledger, product_id, content, user=args.user, site=args.site, tank=args.tank,
                meaning=args.meaning, password=password, occurred_at=occurred_at,
            )  # fmt: skip
            done.append(one)
        if any(not d.already_imported for d in done):
            checkpoint_if_due(ledger)
    if args.json:
        print(json.dumps([{
            "product_id": str(product_id), "document": d.document.to_json(), "already_imported": d.already_imported,
            "summary": d.summary, "events": [envelope.to_json() for envelope in d.envelopes],
        } for product_id, d in zip(products, done, strict=True)]))  # fmt: skip
        return 0
    for product_id, d in zip(products, done, strict=True):
        _print_storage(product_id, d)
    return 0


def _print_storage(product_id: UUID, done: LoggerImport) -> None:
    summary = done.summary
    if done.already_imported:
        print(f"logger file {done.document.sha256} is already imported for product {product_id}: nothing recorded")
    verdict = "EXCURSION" if summary["excursion"] else "within range"
    print(
        f"product {product_id}, tank {summary['tank']} at {summary['site']}: {summary['readings']} readings, "
        f"min {summary['min_c']:g} °C, max {summary['max_c']:g} °C, limit {summary['acceptable']}, "
        f"{summary['minutes_outside']} min outside — {verdict}; longest gap {summary['longest_gap_min']} min"
    )
    for stay in summary["stays"]:
        print(
            f"  rack {stay['rack']} box {stay['box']} position {stay['position']}: {stay['from_at']} → "
            f"{stay['to_at']}, {stay['readings']} readings, {stay['minutes_outside']} min outside, "
            f"{len(stay['gaps'])} gap(s) over the limit"
        )
    if not done.already_imported:
        for envelope in done.envelopes:
            print("recorded " + event_line(envelope))
