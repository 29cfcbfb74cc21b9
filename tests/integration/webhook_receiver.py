"""A real HTTP receiver for the webhook tests: it checks signatures by hand and dedupes by webhook-id.

It behaves as Standard Webhooks asks a receiver to: verify the signature over
``{id}.{timestamp}.{body}`` (written here from the definition, not with the ledger's
code), apply a message once (``accepted``, in arrival order) and answer a redelivery
of an accepted id with 200 without applying it again. ``answer`` chooses the status
per request; ``hold`` keeps one request open after accepting it (the crash test kills
the sender while it waits).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def hand_signature(key: bytes, message_id: str, timestamp: str, body: bytes) -> str:
    """The v1 signature a receiver expects, from the definition."""
    signed = message_id.encode() + b"." + timestamp.encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


@dataclass
class Request:
    """One request as it arrived."""

    message_id: str
    timestamp: str
    signature: str
    body: bytes
    signature_valid: bool


@dataclass
class Receiver:
    """What arrived, what was accepted, and how to answer."""

    key: bytes
    answer: Callable[[str], int] = lambda message_id: 200
    hold: str | None = None
    hold_seconds: float = 0.0
    requests: list[Request] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    bodies: dict[str, bytes] = field(default_factory=dict)
    held: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def handle(self, message_id: str, timestamp: str, signature: str, body: bytes) -> int:
        valid = hmac.compare_digest(signature, hand_signature(self.key, message_id, timestamp, body))
        with self.lock:
            self.requests.append(Request(message_id, timestamp, signature, body, valid))
            if not valid:
                return 401
            if message_id in self.accepted:
                return 200  # a redelivery: applied once already
            status = self.answer(message_id)
            if 200 <= status < 300:
                self.accepted.append(message_id)
                self.bodies[message_id] = body
        if message_id == self.hold and not self.held.is_set():
            self.held.set()
            time.sleep(self.hold_seconds)
        return status

    def arrivals(self, message_id: str) -> int:
        """How many requests carried this id."""
        with self.lock:
            return sum(1 for request in self.requests if request.message_id == message_id)


@contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    """Serve ``receiver`` on a free local port while the block runs."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status = receiver.handle(
                self.headers.get("webhook-id", ""),
                self.headers.get("webhook-timestamp", ""),
                self.headers.get("webhook-signature", ""),
                body,
            )
            try:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender was killed while we held the request

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
