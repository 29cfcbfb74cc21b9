"""One finding of `custody verify`: what is wrong with the stored history, where, and why.

Its own small module so that the processes checking rows (ledger/verify_workers.py) can
build and return findings without importing the store.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Failure:
    """One thing wrong with the stored history, where it is, and why."""

    position: int
    aggregate_id: str
    version: int
    reason: str
    detail: str
