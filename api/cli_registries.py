"""`custody sites | trials | shipments | batches`: the registers on the command line, to find valid codes.

Thin, like the other read commands: replay the registers (projections/registers.py),
then print one line per entry, or one JSON object with the list (``--json``). The
command line is the operator's, on the ledger's own machine: it lists everything.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from api.cli_commands import open_ledger
from domain.batch import BankBatch
from domain.shipment import Shipment
from ledger.service import CustodyLedger
from ledger.settings import Settings
from projections import registers

Lister = Callable[[CustodyLedger], list[dict[str, Any]]]


def _sites(ledger: CustodyLedger) -> list[dict[str, Any]]:
    return registers.sites(ledger.store, ledger.load, ledger.clock.now().date())


def _trials(ledger: CustodyLedger) -> list[dict[str, Any]]:
    return registers.trials(ledger.store, ledger.load, lambda trial: True)


def _shipments(ledger: CustodyLedger) -> list[dict[str, Any]]:
    found = registers.every(ledger.store, ledger.load, "ShipmentDispatched", Shipment)
    return [registers.shipment_entry(shipment, list(shipment.units)) for shipment in reversed(found)]


def _batches(ledger: CustodyLedger) -> list[dict[str, Any]]:
    found = registers.every(ledger.store, ledger.load, "BatchRegistered", BankBatch)
    entries = [registers.batch_entry(batch, batch.allocated) for batch in found]
    return sorted(entries, key=lambda entry: entry["lot"])


def _site_line(site: dict[str, Any]) -> str:
    covers = ", ".join(site["covers_today"]) or "nothing today"
    lines = [f"{site['code']:<16} {site['name']}  (covered today for: {covers})"]
    for held in site["accreditations"]:
        ended = f", withdrawn on {held['withdrawn_on']}" if held["withdrawn_on"] else ""
        lines.append(
            f"    {held['accreditor']} {held['reference']}: {', '.join(held['scope'])} "
            f"from {held['valid_from']} to {held['valid_until']}{ended}"
        )
    if site["pathway_managed_elsewhere"]:
        lines.append(f"    pathway managed elsewhere: {site['pathway_managed_elsewhere']}")
    return "\n".join(lines)


def _trial_line(trial: dict[str, Any]) -> str:
    users = ", ".join(trial["sponsor_users"]) or "none"
    return f"{trial['protocol']:<16} {trial['sponsor']}  EU CT {trial['eu_ct_number'] or '—'}  sponsor users: {users}"


def _shipment_line(shipment: dict[str, Any]) -> str:
    where = "received" if shipment["received"] else f"custodian {shipment['custodian']}"
    if shipment["handing_over_to"]:
        where += f", offered to {shipment['handing_over_to']} (not accepted yet)"
    seal = "" if shipment["seal_intact"] else ", SEAL BROKEN"
    return (
        f"{shipment['shipment_id']}  {shipment['from_site']} → {shipment['to_site']} ({shipment['leg']}, "
        f"{shipment['temperature_class']}), {len(shipment['units'])} unit(s): {where}{seal}"
    )


def _batch_line(batch: dict[str, Any]) -> str:
    status = "recalled" if batch["recalled"] else ("released" if batch["released"] else "not released")
    return (
        f"{batch['batch_id']}  lot {batch['lot']}  {batch['product_code']} at {batch['site']}: {status}, "
        f"{batch['doses_left']} of {batch['doses']} dose(s) left"
    )


COMMANDS: dict[str, tuple[str, Lister, Callable[[dict[str, Any]], str]]] = {
    "sites": ("registered sites: codes, accreditations (scope, validity) and pathway settings", _sites, _site_line),
    "trials": ("registered trials: protocols, sponsors and sponsor users", _trials, _trial_line),
    "shipments": ("shipments: route, custodian, pending hand-over, seal and receipt", _shipments, _shipment_line),
    "batches": ("MSC bank batches: lot, product, release, recall and doses left", _batches, _batch_line),
}


def add_commands(sub: Any) -> None:
    """Register the register listings on the `custody` parser."""
    for name, (description, _, _) in COMMANDS.items():
        command = sub.add_parser(name, help=description)
        command.add_argument("--json", action="store_true", help=f"one JSON object with a `{name}` list")
        command.set_defaults(handler=list_command, register=name)


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody sites` (and trials, shipments, batches): one entry per line, or JSON."""
    _, lister, line = COMMANDS[args.register]
    with open_ledger(settings) as ledger:
        entries = lister(ledger)
    if args.json:
        print(json.dumps({args.register: entries}, ensure_ascii=False))
        return 0
    print(f"{len(entries)} {args.register}")
    for entry in entries:
        print(line(entry))
    return 0
