"""Rows checked on every core: worker processes, each given the rules once.

Opening a row (strict JSON, the canonical-form check, hashing, the key lookup) is Python
work that holds the GIL; only the Ed25519 verification itself releases it. Threads
therefore share one core for most of the work; processes do not. The main process reads
the rows in log order and hands out chunks; each worker returns the chunk's ``Checked``
tuples, and the results are taken back in submission order with at most
``2 × workers`` chunks in flight, so memory stays bounded on any size of log.

Each worker is a fresh interpreter that imports only the row checks (ledger/verify_serve.py)
and talks over its standard input and output: length-prefixed pickles, the rules first,
then one chunk per request. Not a forked child, which would inherit the parent's database
connections and the lock state of its threads (the HTTP server's, the store's pool); and
not multiprocessing's ``spawn``, which re-imports the parent's main module (the whole
`custody` command, about 2 s) in every worker. Starting one still costs about 0.1 s of CPU
(0.4 s on a busy machine), so processes are used only from ``PROCESSES_FROM_EVENTS`` stored
events up; below that, or with one worker, rows are checked in this process (README,
"Verifying a large ledger").
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from queue import SimpleQueue

from ledger.key_history import KeyHistory
from ledger.row_check import Checked, Row, RowRules, check_row
from ledger.verify_serve import RowValues
from ledger.verify_serve import receive as _receive
from ledger.verify_serve import send as _send

# Where worker processes start to pay for their start-up: with two cores, checking 10 000 events in this
# process takes about as long as starting two workers and checking them in parallel (`custody bench`).
PROCESSES_FROM_EVENTS = 10_000

_ENTRY = "from ledger.verify_serve import serve; serve()"


class WorkerFailed(RuntimeError):
    """A worker process stopped or raised while checking rows (its traceback is the message)."""


def portable_rules(rules: RowRules) -> RowRules:
    """The rules with fresh copies of the keys: a parsed public key, cached on its ``KnownKey``, cannot be pickled."""
    keys = KeyHistory(keys={key_id: replace(key) for key_id, key in rules.keys.keys.items()})
    return replace(rules, keys=keys)


def checked_chunks(chunks: Iterable[Sequence[Row]], rules: RowRules, processes: int) -> Iterator[list[Checked]]:
    """Each chunk's checked rows, in order: in this process when ``processes`` < 2, else on that many workers."""
    if processes < 2:
        for chunk in chunks:
            yield [check_row(row, rules) for row in chunk]
        return
    blob = pickle.dumps(portable_rules(rules), pickle.HIGHEST_PROTOCOL)
    workers: list[_Worker] = []
    try:
        workers = [_Worker(blob) for _ in range(processes)]
        idle: SimpleQueue[_Worker] = SimpleQueue()
        for worker in workers:
            idle.put(worker)

        def on_idle_worker(rows: list[RowValues]) -> list[Checked]:
            worker = idle.get()
            try:
                return worker.check(rows)
            finally:
                idle.put(worker)

        with ThreadPoolExecutor(processes) as threads:
            in_flight: deque[Future[list[Checked]]] = deque()
            try:
                for chunk in chunks:
                    # Plain tuples: half the pickling of named ones, in the one process every row passes through.
                    plain = [(r.id, r.originator_id, r.originator_version, r.topic, r.state) for r in chunk]
                    in_flight.append(threads.submit(on_idle_worker, plain))
                    if len(in_flight) >= 2 * processes:
                        yield in_flight.popleft().result()
                while in_flight:
                    yield in_flight.popleft().result()
            finally:
                for future in in_flight:
                    future.cancel()
    finally:
        for worker in workers:
            worker.close()


class _Worker:
    """One worker process and its two pipes; used by one thread at a time."""

    def __init__(self, rules: bytes) -> None:
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(
            [sys.executable, "-c", _ENTRY], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.requests, self.replies = self.process.stdin, self.process.stdout
        _send(self.requests, rules)

    def check(self, rows: list[RowValues]) -> list[Checked]:
        """The checked rows, or ``WorkerFailed``."""
        try:
            _send(self.requests, pickle.dumps(rows, pickle.HIGHEST_PROTOCOL))
            reply = _receive(self.replies)
        except OSError as error:
            raise WorkerFailed(f"verification worker {self.process.pid} stopped: {error}") from error
        if reply is None:
            raise WorkerFailed(f"verification worker {self.process.pid} stopped (exit code {self.process.poll()})")
        kind, value = pickle.loads(reply)
        if kind != "checked":
            raise WorkerFailed(f"verification worker {self.process.pid} failed:\n{value}")
        result: list[Checked] = value
        return result

    def close(self) -> None:
        """End the worker: its input closes, it finishes; one that does not within 5 s is killed."""
        with suppress(OSError):  # already gone: its pipe broke
            self.requests.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.replies.close()
