"""A verification worker's side of the pipe: read the rules, then check chunk after chunk of rows.

Kept apart from ledger/verify_workers.py, which starts the workers, so that a worker imports only
what checking rows needs (the row checks, pickle): every module a worker imports is paid once per
worker per verification, before the first row is checked. Messages are length-prefixed pickles.
"""

from __future__ import annotations

import pickle
import sys
from typing import IO, Any

from ledger.row_check import PlainRow, RowRules, check_row

HEADER = 8
RowValues = tuple[int, Any, int, str, bytes | str]
"""A row as sent to a worker: the fields of ``PlainRow`` in a plain tuple, which pickles in half the time."""


def serve() -> None:
    """A worker's life: read the rules, then check chunk after chunk until the input closes."""
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing printed may enter the reply channel
    rules_blob = receive(requests)
    if rules_blob is None:
        return
    rules: RowRules = pickle.loads(rules_blob)
    while (request := receive(requests)) is not None:
        reply: tuple[str, Any]
        try:
            reply = ("checked", [check_row(PlainRow(*row), rules) for row in pickle.loads(request)])
        except Exception:  # reported to the parent, which raises it there
            import traceback  # only now: it costs a worker's start-up more than any other import here

            reply = ("failed", traceback.format_exc())
        send(replies, pickle.dumps(reply, pickle.HIGHEST_PROTOCOL))


def send(channel: IO[bytes], payload: bytes) -> None:
    """One message: its length, then its bytes."""
    channel.write(len(payload).to_bytes(HEADER, "big"))
    channel.write(payload)
    channel.flush()


def receive(channel: IO[bytes]) -> bytes | None:
    """The next message, or None once the other side has closed (or sent a message cut short)."""
    header = channel.read(HEADER)
    if len(header) < HEADER:
        return None
    size = int.from_bytes(header, "big")
    payload = channel.read(size)
    return payload if len(payload) == size else None
