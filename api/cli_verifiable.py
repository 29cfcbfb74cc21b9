"""`custody checkpoint`: sign the transparency log's current size and root (C2SP checkpoint note)."""

from __future__ import annotations

import argparse
import base64
import json
from typing import Any

from api.cli_commands import open_ledger
from ledger.merkle_log import checkpoint
from ledger.settings import Settings


def add_commands(sub: Any) -> None:
    """Register the transparency-log subcommands."""
    cp = sub.add_parser(
        "checkpoint", help="sign the log's size and Merkle root with the ledger key (C2SP checkpoint note)"
    )
    cp.add_argument("--json", action="store_true", help="print size, root and the note as JSON")
    cp.add_argument("-o", "--output", metavar="FILE", help="also write the note to FILE (an auditor's copy)")
    cp.set_defaults(handler=checkpoint_command)


def checkpoint_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody checkpoint`: the note an auditor keeps to prove later that history was not rewritten."""
    ledger = open_ledger(settings)
    try:
        made = checkpoint(ledger)
    finally:
        ledger.close()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(made.note)
    if args.json:
        print(json.dumps({"size": made.size, "root": base64.b64encode(made.root).decode(), "note": made.note}))
    else:
        print(made.note, end="")
    return 0
