"""`custody schedule`: the planning worklist of open treatment orders, from today (or ``--since``)."""

from __future__ import annotations

import argparse
import json
from typing import Any
from zoneinfo import ZoneInfo

from api.cli_commands import open_ledger
from domain.payloads import parse_date
from ledger.settings import Settings
from projections.schedule_query import schedule


def add_commands(sub: Any) -> None:
    """Register `custody schedule`."""
    command = sub.add_parser(
        "schedule", help="upcoming apheresis, manufacturing slot and infusion days of the open treatment orders"
    )
    command.add_argument("--since", metavar="DATE", help="from this day (YYYY-MM-DD; default today)")
    command.add_argument("--json", action="store_true")
    command.set_defaults(handler=schedule_command)


def schedule_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print one line per planned day."""
    with open_ledger(settings) as ledger:
        today = ledger.clock.now().astimezone(ZoneInfo(settings.timezone)).date()
        since = parse_date(args.since, field="since") if args.since else today
        rows = schedule(ledger, since)
    if args.json:
        print(json.dumps({"since": since.isoformat(), "planned": rows}))
        return 0
    if not rows:
        print(f"nothing planned from {since.isoformat()}")
    for row in rows:
        print(f"{row['day']}  {row['kind']:<18}  {row['patient_pseudonym']}  {row['manufacturer']}")
    return 0
