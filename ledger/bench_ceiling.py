"""The ceiling over any parallel verifier: the checks one row needs, on one core, times the cores.

Verification splits into checks each row needs on its own (``ledger/row_check.py``:
the strict opening of the envelope — hash, JSON, canonical form — its columns, its
ledger id, the key and the Ed25519 signature) and a fold in log order (chains, the
Merkle tree, the committed heads). However the work is spread over processes, each
row's own checks are paid once on some core. Their CPU cost per row, measured here on
this thread, gives what ``cores`` perfect cores could verify with nothing else to do
(no reading, no hand-over, no fold): the highest ``verify_over_raw`` this verifier
can reach on this machine (README, "Scale").

CPU time (``thread_time``), not wall time: other work on the machine does not change it.
"""

from __future__ import annotations

import os
import time
from typing import Any

from ledger.ledger_meta import LEDGER_USER
from ledger.row_check import RowRules, check_row
from ledger.store import StoredRow
from ledger.verifier import DOCUMENT_FIELDS, VerifyOptions, key_history

SAMPLE_ROWS = 5000


def sample_rows(store: Any, count: int) -> list[StoredRow]:
    """The first ``count`` rows of the log as the verifier reads them."""
    rows: list[StoredRow] = []
    while len(rows) < count and (batch := store.raw_rows(rows[-1].id + 1 if rows else 1, count - len(rows))):
        rows.extend(batch)
    return rows


def row_check_cpu_seconds(rows: list[StoredRow], rules: RowRules, repeats: int = 3) -> float:
    """CPU seconds this thread spends on one row's own checks (the best of ``repeats`` passes)."""
    if not rows:
        raise ValueError("no rows to measure: the log is empty")
    best = float("inf")
    for _ in range(repeats):
        started = time.thread_time()
        for row in rows:
            check_row(row, rules)
        best = min(best, (time.thread_time() - started) / len(rows))
    return best


def ceiling_figures(row_cpu: float, raw_cpu: float, cores: int) -> dict[str, float]:
    """``row_check_cpu_over_raw_cpu`` (1.0 would be the signature alone) and ``verify_ceiling_over_raw``."""
    return {
        "row_check_cpu_over_raw_cpu": round(row_cpu / raw_cpu, 3),
        "verify_ceiling_over_raw": round(cores * raw_cpu / row_cpu, 3),
    }


def measured_ceiling(store: Any, options: VerifyOptions, raw_cpu: float, sample: int = SAMPLE_ROWS) -> dict[str, float]:
    """The ceiling figures for ``options``' verification of ``store``, from its first ``sample`` rows.

    ``raw_cpu`` is one Ed25519 verification's CPU seconds, measured by the caller in the same run; the
    cores are the verification's workers, as many as the machine has at most.
    """
    rules = RowRules(
        key_history(store, options.trusted), options.ledger_id, LEDGER_USER, options.strict, DOCUMENT_FIELDS
    )
    cores = max(1, min(options.workers, os.cpu_count() or 1))
    return ceiling_figures(row_check_cpu_seconds(sample_rows(store, sample), rules), raw_cpu, cores)
