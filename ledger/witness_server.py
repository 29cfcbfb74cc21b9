"""`custody witness serve`: the witness's HTTP endpoint, ``POST /add-checkpoint`` and nothing else.

The standard library's threading server is enough: a witness answers a few requests per
checkpoint, each a bounded body, and every check-and-store is one SQLite transaction.
"""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ledger.witness_protocol import Answer, add_checkpoint
from ledger.witness_store import WitnessHome

MAX_BODY = 64 * 1024
"""63 proof lines and a checkpoint with its signatures fit many times over."""


def serve(home: WitnessHome, host: str, port: int) -> ThreadingHTTPServer:
    """A server bound to ``host:port`` (port 0: any free port), not yet serving."""
    home.signer()  # refuse to start without a key

    class Handler(BaseHTTPRequestHandler):
        """One request: read the bounded body, answer as tlog-witness says."""

        def do_POST(self) -> None:
            if self.path != "/add-checkpoint":
                return self._answer(Answer(404, "only POST /add-checkpoint\n"))
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length <= MAX_BODY:
                return self._answer(Answer(400 if length <= 0 else 413, f"a body of 1 to {MAX_BODY} bytes\n"))
            return self._answer(add_checkpoint(home, self.rfile.read(length), int(time.time())))

        def _answer(self, answer: Answer) -> None:
            data = answer.body.encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return ThreadingHTTPServer((host, port), Handler)
