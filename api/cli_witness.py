"""`custody witness`: run a C2SP tlog-witness beside (never inside) a ledger.

``init`` makes the witness's key in its own directory and prints its verifier key;
``add-log`` tells it which log (origin line) to follow and the log's ledger.pub;
``serve`` answers ``POST /add-checkpoint``. None of these open the ledger's store.
"""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path
from typing import Any

from domain.errors import InvalidInput
from ledger.settings import Settings
from ledger.trust_anchor import read_trust_anchor
from ledger.witness_server import serve
from ledger.witness_store import WitnessHome, WitnessSetupError


def add_commands(sub: Any) -> None:
    """Register `custody witness init|add-log|serve`."""
    witness = sub.add_parser("witness", help="a C2SP tlog-witness: its own key and store, cosigning checkpoints")
    actions = witness.add_subparsers(dest="witness_command", required=True, metavar="ACTION")
    init = actions.add_parser("init", help="create the witness key in --home and print its verifier key")
    init.add_argument("--home", required=True, metavar="DIR")
    init.add_argument("--name", required=True, help="the witness's name, e.g. witness.example/w1")
    init.set_defaults(handler=init_command)
    add_log = actions.add_parser("add-log", help="follow a log: its origin line and its ledger.pub")
    add_log.add_argument("origin", metavar="ORIGIN", help="the checkpoint origin, e.g. custody-ledger/<ledger id>")
    add_log.add_argument("keyfile", metavar="KEYFILE", help="the log's public key file (ledger.pub: one key a line)")
    add_log.add_argument("--home", required=True, metavar="DIR")
    add_log.set_defaults(handler=add_log_command)
    run = actions.add_parser("serve", help="answer POST /add-checkpoint until interrupted")
    run.add_argument("--home", required=True, metavar="DIR")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, required=True)
    run.set_defaults(handler=serve_command)


def _setup_refused(error: WitnessSetupError, field: str) -> InvalidInput:
    return InvalidInput(str(error), field=field, rule=error.rule)


def init_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the verifier key the ledger's operator puts in CUSTODY_WITNESSES."""
    try:
        key = WitnessHome(Path(args.home)).initialise(args.name)
    except WitnessSetupError as error:
        raise _setup_refused(error, "--home") from None
    print(key.vkey())
    return 0


def add_log_command(args: argparse.Namespace, settings: Settings) -> int:
    """Only the current ledger key is configured: the last line of ledger.pub."""
    try:
        keys = read_trust_anchor(Path(args.keyfile))
        lines = Path(args.keyfile).read_text(encoding="ascii").split()
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise InvalidInput(f"KEYFILE {args.keyfile}: {error}", field="KEYFILE", rule="unreadable_key") from None
    if not keys:
        raise InvalidInput(f"KEYFILE {args.keyfile} holds no key", field="KEYFILE", rule="unreadable_key")
    try:
        WitnessHome(Path(args.home)).add_log(args.origin, base64.b64decode(lines[-1]))
    except WitnessSetupError as error:
        raise _setup_refused(error, "ORIGIN") from None
    print(f"following {args.origin}")
    return 0


def serve_command(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until interrupted; prints the address it listens on first (tests and scripts wait for it)."""
    try:
        server = serve(WitnessHome(Path(args.home)), args.host, args.port)
    except WitnessSetupError as error:
        raise _setup_refused(error, "--home") from None
    host, port = server.server_address[:2]
    print(f"witness listening on http://{host!s}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("witness stopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0
