"""`custody webhook …`: tell other systems, signed, of each event of chosen types (docs/webhooks.md).

Administrators add and disable webhooks (audited); `run` is the sender, a long-running
process beside `custody serve` (or, with ``--once``, one pass for cron or a test). What
is sent is the notice of api/rest/notices.py: identifiers and times, never a payload,
never a patient's identity.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from api.cli_commands import open_ledger
from api.rest.notices import notice
from ledger.settings import Settings
from ledger.webhooks import add_webhook, checked_events, checked_url, disable_webhook, list_webhooks
from ledger.webhooks_run import deliver_all
from ledger.webhooks_secrets import read_secret_file
from ledger.webhooks_status import all_status

POLL_SECONDS = 1.0


def add_commands(sub: Any) -> None:
    """Register `custody webhook add|list|disable|status|run`."""
    webhook = sub.add_parser("webhook", help="signed notifications of new events to other systems (HTTP POST)")
    actions = webhook.add_subparsers(dest="webhook_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="send notices of these event types to URL, signed with the secret (admin)")
    add.add_argument("url", metavar="URL", help="http:// or https:// address that receives the POSTs")
    add.add_argument("--events", nargs="+", required=True, metavar="TYPE", help="event types (`custody event-types`)")
    add.add_argument(
        "--secret-file", required=True, metavar="F", help="the signing secret (whsec_<base64> or text, 24+ bytes)"
    )
    add.add_argument("--user", default="admin", help="the administrator who adds it (default admin)")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=add_command)
    listing = actions.add_parser("list", help="every webhook, enabled or not (never its secret)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_command)
    disable = actions.add_parser("disable", help="stop sending to a webhook (admin; kept for the record)")
    disable.add_argument("id", metavar="ID")
    disable.add_argument("--user", default="admin", help="the administrator who disables it (default admin)")
    disable.add_argument("--json", action="store_true")
    disable.set_defaults(handler=disable_command)
    status = actions.add_parser("status", help="per webhook: position, pending delivery, deliveries given up")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=status_command)
    run = actions.add_parser("run", help="the sender: deliver new events to every enabled webhook, until stopped")
    run.add_argument("--once", action="store_true", help="attempt what is due now once, then exit")
    run.set_defaults(handler=run_command)


def add_command(args: argparse.Namespace, settings: Settings) -> int:
    """Check URL, types and secret before anything is stored, then register and audit."""
    checked_url(args.url)
    checked_events(args.events)
    key = read_secret_file(args.secret_file)
    with open_ledger(settings) as ledger:
        hook = add_webhook(ledger, args.url, args.events, key, by=args.user)
    if args.json:
        print(json.dumps(hook.to_dict()))
    else:
        print(f"webhook {hook.id} added: {hook.url} is told of {', '.join(sorted(hook.events))} from now on")
    return 0


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print every webhook."""
    with open_ledger(settings) as ledger:
        hooks = list_webhooks(ledger.store)
    if args.json:
        print(json.dumps([hook.to_dict() for hook in hooks]))
        return 0
    for hook in hooks:
        state = "enabled" if hook.enabled else f"disabled {hook.disabled_at} by {hook.disabled_by}"
        print(f"{hook.id}  {hook.url}  [{', '.join(sorted(hook.events))}]  {state}")
    if not hooks:
        print("no webhook")
    return 0


def disable_command(args: argparse.Namespace, settings: Settings) -> int:
    """Disable one webhook."""
    with open_ledger(settings) as ledger:
        hook = disable_webhook(ledger, args.id, by=args.user)
    if args.json:
        print(json.dumps(hook.to_dict()))
    else:
        print(f"webhook {hook.id} disabled by {hook.disabled_by}; recorded in the audit log")
    return 0


def status_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print where each webhook has got to."""
    with open_ledger(settings) as ledger:
        report = all_status(ledger.store)
    if args.json:
        print(json.dumps(report))
        return 0
    for item in report:
        print(f"{item['id']}  {item['url']}  {'enabled' if item['enabled'] else 'disabled'}: position "
              f"{item['position']} of {item['log_size']}, {item['delivered']} delivered")  # fmt: skip
        for row in item["pending"]:
            print(f"  pending {row['webhook_id']} {row['event_type']}: {row['attempts']} attempts, "
                  f"last error {row['reason']}, next attempt {row['next_attempt_at'] or 'now'}")  # fmt: skip
        for row in item["given_up"]:
            print(f"  GIVEN UP {row['webhook_id']} {row['event_type']} at {row['given_up_at']} after "
                  f"{row['attempts']} attempts: {row['reason']}")  # fmt: skip
    if not report:
        print("no webhook")
    return 0


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """Deliver, pass after pass, one line per attempt (ids and types only)."""
    with open_ledger(settings) as ledger:
        while True:
            for outcome in deliver_all(ledger, notice):
                print(outcome.line(), flush=True)
            if args.once:
                return 0
            time.sleep(POLL_SECONDS)
