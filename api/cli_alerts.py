"""`custody alerts run [--once]`: scan the running deadlines and raise each alert due, signed by the ledger.

The scan reads the product status table and the signed catalogue's thresholds (api/deadline_scan.py);
each alert it raises is an event of the log, so the event stream and the webhooks carry it with
everything else. `custody serve` runs the same scan every CUSTODY_ALERT_SCAN_SECONDS (``scanner``
below); a server started with 0 leaves it to this command, run beside it. Several scanners at once
raise each alert once: the store keeps the first of two racing writes.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from api.cli_commands import open_ledger
from api.deadline_scan import scan
from domain.errors import InvalidInput
from ledger.envelope import Envelope
from ledger.merkle_log import checkpoint_if_due
from ledger.service import CustodyLedger
from ledger.settings import Settings

LOG = logging.getLogger("custody.alerts")
MAX_EVERY_SECONDS = 3600.0


def add_commands(sub: Any) -> None:
    """Register `custody alerts run`."""
    alerts = sub.add_parser("alerts", help="deadline alerts: raise, signed by the ledger, each one a deadline reached")
    alerts_sub = alerts.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")
    run = alerts_sub.add_parser(
        "run",
        help="scan the running deadlines (thaw to infusion, fresh shipping) and raise the amber and red alerts due, "
        "once each; repeat until interrupted unless --once",
    )
    run.add_argument("--once", action="store_true", help="scan once and stop")
    run.add_argument(
        "--every",
        type=float,
        metavar="SECONDS",
        help="seconds between scans (default CUSTODY_ALERT_SCAN_SECONDS, or 30)",
    )
    run.add_argument("--json", action="store_true", help="print each alert raised as a JSON line")
    run.set_defaults(handler=run_command)


def _interval(args: argparse.Namespace, settings: Settings) -> float:
    every = args.every if args.every is not None else (settings.alert_scan_seconds or 30.0)
    if not 0 < every <= MAX_EVERY_SECONDS:
        raise InvalidInput(
            f"--every must be more than 0 and at most {MAX_EVERY_SECONDS:g} seconds, got {every:g}",
            field="every",
            rule="out_of_range",
        )
    return float(every)


def _line(envelope: Envelope) -> str:
    payload = envelope.body["payload"]
    return (
        f"{payload['level']} alert: {payload['deadline']} of {payload['coi']} ends at {payload['deadline_at']}; "
        f"told: {', '.join(payload['roles'])} (alert {envelope.aggregate_id} v{envelope.version})"
    )


def scan_and_report(ledger: CustodyLedger, report: Callable[[Envelope], None]) -> int:
    """One scan; each alert raised reported; a checkpoint signed when one is due. The number raised."""
    raised = scan(ledger)
    for envelope in raised:
        report(envelope)
    if raised:
        checkpoint_if_due(ledger)
    return len(raised)


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """Scan once, or every ``--every`` seconds until interrupted."""
    every = _interval(args, settings)

    def report(envelope: Envelope) -> None:
        print(json.dumps(envelope.to_json()) if args.json else _line(envelope), flush=True)

    with open_ledger(settings) as ledger:
        while True:
            count = scan_and_report(ledger, report)
            if args.once:
                if not args.json:
                    print(f"{count} alert(s) raised", flush=True)
                return 0
            time.sleep(every)


def scanner(settings: Settings, stop: threading.Event) -> threading.Thread | None:
    """The scan `custody serve` runs in the background (None when CUSTODY_ALERT_SCAN_SECONDS is 0).

    A failed scan (the database away, a restore in progress) is logged and tried again at the next
    interval: the server keeps serving, and an alert missed now is raised by the next scan.
    """
    every = settings.alert_scan_seconds
    if every <= 0:
        return None

    def loop() -> None:
        with open_ledger(settings) as ledger:
            while not stop.is_set():
                try:
                    scan_and_report(ledger, lambda envelope: LOG.info(_line(envelope)))
                except Exception:  # any failure waits for the next scan; the server goes on
                    LOG.exception("deadline scan failed; retrying in %g s", every)
                stop.wait(every)

    thread = threading.Thread(target=loop, name="custody-alerts", daemon=True)
    thread.start()
    return thread
