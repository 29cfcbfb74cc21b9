"""`custody bench --scale N`: a ledger of N events end to end — loaded, verified, rebuilt, checkpointed.

A manufacturer's or a national registry's ledger holds millions of events and must be
verified by every audit and rebuilt after every read-model change. This builds one of
realistic CAR-T journeys (eleven signed steps each, from enrolment to LN2 storage)
through the ledger's own signing code — envelope, RFC 8785 bytes, SHA-256 chain link,
Ed25519 signature — stored in batches of ``BATCH_PRODUCTS`` journeys per transaction,
then measures each whole-ledger operation once, with its rate and the process's peak
memory, and extrapolates to ten million events (README "Scale"). Progress goes to
stderr, so a long run shows where it is; the figures go to stdout as one JSON object.
"""

from __future__ import annotations

import math
import resource
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from ledger.bench import BENCH_PASSWORD, bench_raw_verify, measured_verification
from ledger.bench_ceiling import measured_ceiling
from ledger.merkle_log import checkpoint
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import initialise, register_staff
from ledger.verifier import VerifyOptions, verify_store
from projections import runner
from projections.bench import ACTOR, signed_journey
from projections.bench import _journey as journey_steps  # the same journeys as the read-model bench

BATCH_PRODUCTS = 100
TEN_MILLION = 10_000_000
Report = Callable[[str], None]


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def bulk_load(ledger: CustodyLedger, events: int, report: Report = _to_stderr) -> int:
    """Sign and store whole journeys until at least ``events`` are stored; returns how many were.

    The signer is a registered member of staff with a key of their own, as in a real ledger: the verifier
    checks that each signing key belongs to the person the event names.
    """
    steps = len(journey_steps(uuid.uuid4(), 0, ledger.clock.now()))
    products = max(1, math.ceil(events / steps))
    register_staff(
        ledger, ACTOR.user_id, ACTOR.name, ACTOR.role, BENCH_PASSWORD,
        registrar="admin", registrar_password=BENCH_PASSWORD,
    )  # fmt: skip
    actor, member = ledger.actor(ACTOR.user_id)
    pair, ledger_id, now = ledger.signer_for(member, BENCH_PASSWORD), ledger.meta.ledger_id(), ledger.clock.now()
    stored, started, last_report = 0, time.perf_counter(), 0.0
    for first in range(0, products, BATCH_PRODUCTS):
        batch = [
            envelope
            for n in range(first, min(first + BATCH_PRODUCTS, products))
            for envelope in signed_journey(ledger_id, pair, actor, uuid.uuid4(), n, now)
        ]
        ledger.store.append(batch)
        stored += len(batch)
        elapsed = time.perf_counter() - started
        if elapsed - last_report >= 5 or stored >= products * steps:
            last_report = elapsed
            report(f"loaded {stored:,} / {products * steps:,} events ({stored / elapsed:,.0f}/s)")
    return stored


def _timed(function: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def _peak_rss_mb() -> float:
    """The largest resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def bench_scale(settings: Settings, events: int, report: Report = _to_stderr) -> dict[str, Any]:
    """Load, verify, rebuild and checkpoint a ledger of about ``events`` events; each rate and the peak memory."""
    ledger = CustodyLedger(settings)
    try:
        initialise(ledger, BENCH_PASSWORD)
        stored, load_seconds = _timed(lambda: bulk_load(ledger, events, report))
        load_rss = _peak_rss_mb()
        raw_before = bench_raw_verify(0.5)
        options = VerifyOptions(
            trusted={ledger.meta.ledger_key_pair().public_key},  # the ledger's key certifies the staff keys
            ledger_id=ledger.meta.ledger_id(),
            workers=settings.verify_workers,
        )
        report("verifying every signature and chain link…")
        with measured_verification() as usage:
            verified, verify_seconds = _timed(lambda: verify_store(ledger.store, options))
        raw = (raw_before + bench_raw_verify(0.5)) / 2  # the yardstick, on either side of the run (ledger/bench.py)
        ceiling = measured_ceiling(ledger.store, options)  # before the rebuild and checkpoint load the database
        if not verified.intact:
            raise AssertionError(f"the freshly built ledger does not verify: {verified.failures[:3]}")

        def progress(_label: str, done: int, total: int) -> None:
            if done == total or done % 100_000 < runner.BATCH:
                report(f"rebuilt read models: {done:,} / {total:,} events")

        report("rebuilding every read model…")
        _, rebuild_seconds = _timed(lambda: runner.rebuild(ledger.store, progress=progress))
        report("taking a checkpoint…")
        made, checkpoint_seconds = _timed(lambda: checkpoint(ledger))
        total = ledger.store.size()
        verify_per_s = verified.events / verify_seconds
        return {
            "backend": settings.backend,
            "scale_events": stored,
            "stored_events": total,
            "load_per_s": round(stored / load_seconds, 1),
            "verify_per_s": round(verify_per_s, 1),
            "raw_ed25519_verify_per_s": round(raw, 1),
            "verify_over_raw": round(verify_per_s / raw, 3),
            **ceiling,
            "verify_peak_rss_mb": usage.peak_rss_mb,
            "rebuild_per_s": round(total / rebuild_seconds, 1),
            "checkpoint_s": round(checkpoint_seconds, 2),
            "checkpoint_size": made.size,
            "load_peak_rss_mb": load_rss,
            "peak_rss_mb": _peak_rss_mb(),
            "verify_10m_minutes": round(TEN_MILLION / verify_per_s / 60, 1),
            "rebuild_10m_minutes": round(TEN_MILLION / (total / rebuild_seconds) / 60, 1),
            "load_10m_minutes": round(TEN_MILLION / (stored / load_seconds) / 60, 1),
            "verify_workers": settings.verify_workers,
        }
    finally:
        ledger.close()
