"""`custody serve`: the HTTP API (and its OpenAPI document at /docs) under uvicorn.

Log lines are JSON on standard error: uvicorn's own, and one ``custody.api`` line
per change and per refusal (see api/rest/access_log.py). The store must have been
initialised (`custody init`); the server refuses to start otherwise rather than
answering 503 to everyone.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from api.cli_commands import open_ledger
from ledger.settings import Settings


def add_command(sub: Any) -> None:
    """Register `custody serve` on the `custody` parser."""
    serve = sub.add_parser("serve", help="serve the HTTP API (OpenAPI at /docs) with uvicorn")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(handler=serve_command)


def serve_command(args: argparse.Namespace, settings: Settings) -> int:
    """Check the store, then run uvicorn until interrupted."""
    import uvicorn

    from api.rest.app import create_app

    with open_ledger(settings) as ledger:
        ledger.meta.ledger_id()
    logging.basicConfig(level=getattr(logging, args.log_level.upper()), format="%(message)s")
    base = f"http://{args.host}:{args.port}"
    print(f"serving Custody Ledger: web interface {base}/ui/, API {base} (OpenAPI: {base}/docs); Ctrl-C stops")
    sys.stdout.flush()
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0
