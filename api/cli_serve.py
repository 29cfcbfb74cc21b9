"""`custody serve`: the HTTP API (and its OpenAPI document at /docs) under uvicorn.

Log lines are JSON on standard error: uvicorn's own, and one ``custody.api`` line
per change and per refusal (see api/rest/access_log.py). The store must have been
initialised (`custody init`); the server refuses to start otherwise rather than
answering 503 to everyone, and while CUSTODY_CATALOGUE_FILE is not the signed catalogue
(ledger/catalogue_source.py). A read-only database is served all the same: reads are
answered and writes refused (``storage_read_only``), and the start-up lines say so.
Beside the server, a thread scans the running deadlines every CUSTODY_ALERT_SCAN_SECONDS and
raises their alerts (api/cli_alerts.py; 0 turns it off, for `custody alerts run` instead).
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from typing import Any

from api import cli_alerts
from api.cli_commands import open_ledger
from ledger.settings import Settings
from ledger.sqlite_file import read_only
from ledger.storage_faults import STORAGE_READ_ONLY
from ledger.store import EventStore


def add_command(sub: Any) -> None:
    """Register `custody serve` on the `custody` parser."""
    serve = sub.add_parser("serve", help="serve the HTTP API (OpenAPI at /docs) with uvicorn")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(handler=serve_command)


def accepts_writes(store: EventStore) -> bool:
    """Whether the database takes writes: an SQLite file this process may write, or a PostgreSQL
    session that is neither a read-only transaction by default nor on a standby server."""
    if store.backend == "sqlite":
        return not read_only(store.settings.sqlite_path)
    with store.side_transaction() as cursor:
        cursor.execute("SELECT current_setting('transaction_read_only') = 'on' OR pg_is_in_recovery() AS read_only")
        row = cursor.fetchone()
    return row is None or not row["read_only"]


def serve_command(args: argparse.Namespace, settings: Settings) -> int:
    """Check the store, then run uvicorn until interrupted."""
    import uvicorn

    from api.rest.app import create_app

    with open_ledger(settings) as ledger:
        ledger.meta.ledger_id()
        ledger.catalogues.ensure_file_applied()  # never serve a catalogue file nobody signed
        read_only = not accepts_writes(ledger.store)
    logging.basicConfig(level=getattr(logging, args.log_level.upper()), format="%(message)s")
    base = f"http://{args.host}:{args.port}"
    print(f"serving Custody Ledger: web interface {base}/ui/, API {base} (OpenAPI: {base}/docs); Ctrl-C stops")
    if read_only:
        print(
            f"the database is read-only: serving reads; every write is refused with rule "
            f"{STORAGE_READ_ONLY.rule} (503) until it is writable again"
        )
    sys.stdout.flush()
    stop = threading.Event()
    cli_alerts.scanner(settings, stop)  # deadline alerts every CUSTODY_ALERT_SCAN_SECONDS (0: off)
    try:
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    finally:
        stop.set()
    return 0
