"""The ceiling over any parallel verifier: the checks one row needs, on one core, times the cores.

Verification splits into checks each row needs on its own (``ledger/row_check.py``:
the strict opening of the envelope — hash, JSON, canonical form — its columns, its
ledger id, the key and the Ed25519 signature) and a fold in log order (chains, the
Merkle tree, the committed heads). However the work is spread over processes, each
row's own checks are paid once on some core. Their CPU cost per row, measured here on
this thread, gives what ``cores`` perfect cores could verify with nothing else to do
(no reading, no hand-over, no fold): the highest ``verify_over_raw`` this verifier
can reach on this machine (README, "Scale").

CPU time (``thread_time``), not wall time, so that the figure holds while the machine is shared; see
``measured_ceiling`` for what sharing still does to it.
"""

from __future__ import annotations

import os
import time
from typing import Any

from ledger.keys import KeyPair
from ledger.ledger_meta import LEDGER_USER
from ledger.row_check import RowRules, check_row
from ledger.store import StoredRow
from ledger.verifier import DOCUMENT_FIELDS, VerifyOptions, key_history

SAMPLE_ROWS = 2000
ROUNDS = 5


def sample_rows(store: Any, count: int) -> list[StoredRow]:
    """The first ``count`` rows of the log as the verifier reads them."""
    rows: list[StoredRow] = []
    while len(rows) < count and (batch := store.raw_rows(rows[-1].id + 1 if rows else 1, count - len(rows))):
        rows.extend(batch)
    return rows


def raw_verify_cpu_seconds(count: int = 2000) -> float:
    """CPU seconds one Ed25519 verify takes on this thread, the least of three runs.

    A CPU time is moved far less than a rate by other work on the machine.
    """
    pair = KeyPair.generate()
    message = b"x" * 56
    signature = pair.sign(message)
    public = pair.private_key.public_key()
    best = float("inf")
    for _ in range(3):
        started = time.thread_time()
        for _ in range(count):
            public.verify(signature, message)
        best = min(best, (time.thread_time() - started) / count)
    return best


def row_check_cpu_seconds(rows: list[StoredRow], rules: RowRules) -> float:
    """CPU seconds this thread spends on one row's own checks, in one pass over ``rows``."""
    if not rows:
        raise ValueError("no rows to measure: the log is empty")
    started = time.thread_time()
    for row in rows:
        check_row(row, rules)
    return (time.thread_time() - started) / len(rows)


def ceiling_figures(row_cpu: float, raw_cpu: float, cores: int) -> dict[str, float]:
    """``row_check_cpu_over_raw_cpu`` (1.0 would be the signature alone) and ``verify_ceiling_over_raw``."""
    return {
        "row_check_cpu_over_raw_cpu": round(row_cpu / raw_cpu, 3),
        "verify_ceiling_over_raw": round(cores * raw_cpu / row_cpu, 3),
    }


def measured_ceiling(store: Any, options: VerifyOptions, sample: int = SAMPLE_ROWS) -> dict[str, float]:
    """The ceiling figures for ``options``' verification of ``store``, from its first ``sample`` rows.

    The two costs are measured in turn, ``ROUNDS`` times, and the least of each kept: on a machine whose
    cores share their caches (or are two threads of one core), CPU time per operation still rises while a
    neighbour works, and the least is the undisturbed figure of both. The cores are the verification's
    workers, as many as the machine has at most.
    """
    keys = key_history(store, options.trusted)
    rules = RowRules(keys, options.ledger_id, LEDGER_USER, options.strict, DOCUMENT_FIELDS)
    rows = sample_rows(store, sample)
    raw_cpu = row_cpu = float("inf")
    for _ in range(ROUNDS):
        raw_cpu = min(raw_cpu, raw_verify_cpu_seconds(1000))
        row_cpu = min(row_cpu, row_check_cpu_seconds(rows, rules))
    cores = max(1, min(options.workers, os.cpu_count() or 1))
    return ceiling_figures(row_cpu, raw_cpu, cores)
