"""`custody bench`: throughput of the signed ledger against eventsourcing alone, in one run.

Every figure is measured in the same process on the same backend, so ratios
(signed/bare, verify/raw Ed25519) hold even when the machine's speed drifts.
Scratch stores are created for the run (a temporary CUSTODY_HOME, and on
PostgreSQL a temporary schema) and removed afterwards: the real ledger is
never touched.
"""

from __future__ import annotations

import platform
import resource
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from domain.events import Actor
from ledger.bench_ceiling import measured_ceiling, raw_verify_cpu_seconds
from ledger.bench_tree import bench_tree
from ledger.envelope import event_body, seal
from ledger.keys import KeyPair
from ledger.merkle import event_leaf, inclusion_proof, verify_inclusion
from ledger.merkle import root as merkle_root
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import initialise, register_staff
from ledger.signed_note import checkpoint_body, sign_note
from ledger.store import eventsourcing_env
from ledger.verifier import VerifyOptions, verify_store

EVENTS_PER_AGGREGATE = 10
BENCH_PASSWORD = "bench-password"


class BareProduct(Aggregate):
    """The same facts recorded the idiomatic eventsourcing way: an aggregate whose method triggers the event."""

    @event("AnnotationAdded")
    def annotate(self, payload: dict[str, Any], occurred_at: datetime, actor: dict[str, str], meaning: str) -> None:
        """Record an annotation (state is not needed for the measurement)."""
        self.last_payload = payload


class BareApplication(Application[uuid.UUID]):
    """eventsourcing with its defaults: the baseline the ledger is measured against."""

    name = "CustodyBenchBare"


@contextmanager
def scratch_settings(backend: str, database_url: str | None) -> Iterator[Settings]:
    """A throw-away home (and PostgreSQL schema) for one benchmark run."""
    home = Path(tempfile.mkdtemp(prefix="custody-bench-"))
    schema = f"custody_bench_{uuid.uuid4().hex[:10]}"
    base = (database_url or "postgresql://postgres@127.0.0.1:5432/test").split("?")[0]
    try:
        if backend == "postgresql":
            yield Settings(home=home, database_url=f"{base}?schema={schema}", kdf_memory_kib=8192)
        else:
            # database_url=None explicitly: otherwise CUSTODY_DATABASE_URL would put the SQLite run in that database.
            yield Settings(home=home, database_url=None, kdf_memory_kib=8192)
    finally:
        shutil.rmtree(home, ignore_errors=True)
        if backend == "postgresql":
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _payload(n: int) -> dict[str, Any]:
    return {"text": f"bench annotation {n}", "din": "G123498654321", "volume_ml": 250, "site": "F9999-CTU"}


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else float("inf")


class BareRun:
    """eventsourcing alone: an aggregate method triggers each event, then ``Application.save``.

    Each aggregate is created (eventsourcing's creation event) then annotated nine
    times: as many stored events, one transaction each, as the signed run.
    """

    def __init__(self, settings: Settings, actor: Actor) -> None:
        env = eventsourcing_env(settings, create_table=True)
        if not settings.database_url:
            env["SQLITE_DBNAME"] = str(settings.home / "bare.sqlite3")
        self.app = BareApplication(env=env)
        self.actor = actor.to_dict()
        self.now = datetime.now(UTC)

    def block(self, first: int, aggregates: int) -> float:
        """Save ``aggregates`` × 10 events; return the seconds it took."""
        started = time.perf_counter()
        for aggregate in range(first, first + aggregates):
            product = BareProduct()
            self.app.save(product)
            for version in range(1, EVENTS_PER_AGGREGATE):
                product.annotate(_payload(aggregate * EVENTS_PER_AGGREGATE + version), self.now, self.actor, "recorded")
                self.app.save(product)
        return time.perf_counter() - started


class SignedRun:
    """The ledger's append path: envelope, RFC 8785 bytes, SHA-256 chain link, Ed25519 signature, save."""

    def __init__(self, ledger: CustodyLedger, actor: Actor, pair: KeyPair) -> None:
        self.ledger, self.actor, self.pair = ledger, actor, pair
        self.ledger_id = ledger.meta.ledger_id()
        self.now = ledger.clock.now()
        self.aggregates: list[uuid.UUID] = []

    def block(self, first: int, aggregates: int) -> float:
        """Sign and save ``aggregates`` × 10 events; return the seconds it took."""
        started = time.perf_counter()
        for aggregate in range(first, first + aggregates):
            originator = uuid.uuid4()
            self.aggregates.append(originator)
            prev_hash = None
            for version in range(1, EVENTS_PER_AGGREGATE + 1):
                body = event_body(
                    ledger_id=self.ledger_id,
                    aggregate_id=originator,
                    aggregate_kind="product",
                    version=version,
                    event_type="AnnotationAdded",
                    payload=_payload(aggregate * EVENTS_PER_AGGREGATE + version),
                    occurred_at=self.now,
                    recorded_at=self.ledger.clock.now(),
                    actor=self.actor,
                    meaning="recorded",
                    prev_hash=prev_hash,
                    key_id=self.pair.key_id,
                )
                envelope = seal(body, self.pair)
                self.ledger.store.append([envelope])
                prev_hash = envelope.hash
        return time.perf_counter() - started


def bench_appends(bare: BareRun, signed: SignedRun, events: int, blocks: int = 100) -> tuple[float, float, float]:
    """Both append paths in alternating blocks (A B B A A B …); returns signed/s, bare/s and the median block ratio.

    The median of the per-block ratios, not the ratio of the totals, is the figure to trust on a
    shared machine: a burst of other work slows one block, not the comparison. Which path goes
    first alternates from pair to pair, so that neither always follows the other's writes (a
    commit can wait on the disk still flushing the one before it).
    """
    aggregates = events // EVENTS_PER_AGGREGATE
    per_block = max(1, aggregates // blocks)
    bare_seconds = signed_seconds = 0.0
    ratios: list[float] = []
    done = 0
    while done < aggregates:
        size = min(per_block, aggregates - done)
        if len(ratios) % 2:
            signed_block = signed.block(done, size)
            bare_block = bare.block(done, size)
        else:
            bare_block = bare.block(done, size)
            signed_block = signed.block(done, size)
        bare_seconds += bare_block
        signed_seconds += signed_block
        ratios.append(bare_block / signed_block)
        done += size
    return _rate(events, signed_seconds), _rate(events, bare_seconds), round(statistics.median(ratios), 3)


def raw_sign_cpu_seconds(count: int = 2000) -> float:
    """CPU seconds one Ed25519 signature takes on this thread (the least of three runs)."""
    pair = KeyPair.generate()
    message = b"x" * 56
    best = float("inf")
    for _ in range(3):
        started = time.thread_time()
        for _ in range(count):
            pair.sign(message)
        best = min(best, (time.thread_time() - started) / count)
    return best


def signed_over_bare_ceiling(bare_per_s: float, sign_cpu: float) -> float:
    """The best signed/bare ratio if signing an event cost its Ed25519 signature and nothing else.

    A bare append takes ``1 / bare_per_s`` seconds; a signed one at least that plus one signature.
    """
    return round(1 / (1 + bare_per_s * sign_cpu), 3)


def bench_raw_verify(seconds: float = 1.0) -> float:
    """cryptography's Ed25519 verify in a tight loop on one core: the yardstick for the verifier."""
    pair = KeyPair.generate()
    message = b"x" * 56
    signature = pair.sign(message)
    public = pair.private_key.public_key()
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for _ in range(500):
            public.verify(signature, message)
        count += 500
    return _rate(count, time.perf_counter() - started)


@dataclass
class VerificationUsage:
    """What one verification cost: CPU of this process and its workers, and this process's peak resident memory."""

    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0


@contextmanager
def measured_verification() -> Iterator[VerificationUsage]:
    """CPU time (self + finished children) and this process's peak RSS over the block.

    The peak is the kernel's high-water mark (VmHWM), reset before the block through
    /proc/self/clear_refs (Linux); where that is not possible it is the process's lifetime
    peak (ru_maxrss). Workers are not counted: a child's ru_maxrss includes the parent's
    pages it shared until it ran the worker, so it says nothing of the worker itself.
    """
    usage = VerificationUsage()
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    cpu = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        yield usage
    finally:
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        usage.cpu_seconds = time.process_time() - cpu + (after.ru_utime - children.ru_utime)
        usage.cpu_seconds += after.ru_stime - children.ru_stime
        usage.peak_rss_mb = round(_high_water_kib() / 1024, 1)


def _high_water_kib() -> int:
    with suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _timed(function: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def run_bench(settings: Settings, *, events: int = 2000) -> dict[str, Any]:
    """Run every measurement on one backend and return the figures as one JSON object."""
    events = max(EVENTS_PER_AGGREGATE, events - events % EVENTS_PER_AGGREGATE)
    ledger = CustodyLedger(settings)
    try:
        initialise(ledger, BENCH_PASSWORD)
        register_staff(
            ledger,
            "bench",
            "Bench Nurse",
            "nurse",
            BENCH_PASSWORD,
            registrar="admin",
            registrar_password=BENCH_PASSWORD,
        )
        actor, member = ledger.actor("bench")
        pair = ledger.signer_for(member, BENCH_PASSWORD)
        bare_run = BareRun(settings, actor)
        signed_run = SignedRun(ledger, actor, pair)
        signed, bare, append_ratio = bench_appends(bare_run, signed_run, events)
        sign_cpu = raw_sign_cpu_seconds()
        bare_run.app.close()
        aggregates = signed_run.aggregates
        trusted = {ledger.meta.ledger_key_pair().public_key}
        options = VerifyOptions(
            trusted=trusted,
            ledger_id=ledger.meta.ledger_id(),
            workers=settings.verify_workers,
        )
        raw_before = bench_raw_verify(0.5)
        with measured_verification() as usage:
            report, verify_seconds = _timed(lambda: verify_store(ledger.store, options))
        raw = round((raw_before + bench_raw_verify(0.5)) / 2, 1)  # the yardstick, on either side of the run
        raw_cpu = raw_verify_cpu_seconds()
        assert report.intact, report.failures[:3]
        _, replay_seconds = _timed(lambda: [ledger.load(aggregate) for aggregate in aggregates])
        verify = _rate(report.events, verify_seconds)
        return {
            "backend": settings.backend,
            "events": events,
            "signed_append_per_s": signed,
            "bare_append_per_s": bare,
            "signed_over_bare": append_ratio,
            "raw_ed25519_sign_us": round(sign_cpu * 1e6, 1),
            "signed_over_bare_ceiling": signed_over_bare_ceiling(bare, sign_cpu),
            "verify_per_s": verify,
            "raw_ed25519_verify_per_s": raw,
            "verify_over_raw": round(verify / raw, 3),
            "verify_cpu_over_raw_cpu": round(usage.cpu_seconds / report.events / raw_cpu, 3),
            **measured_ceiling(ledger.store, options),
            "verify_peak_rss_mb": usage.peak_rss_mb,
            "replay_per_s": _rate(events, replay_seconds),
            **bench_merkle(),
            **bench_tree(),  # the stored tree at 1e3, 1e5 and 1e6 leaves
            "verify_workers": settings.verify_workers,
            "python": platform.python_version(),
            "measured_at": (datetime.now(UTC) - timedelta(microseconds=0)).isoformat(timespec="seconds"),
        }
    finally:
        ledger.close()


def bench_merkle(sizes: tuple[int, ...] = (1_000, 10_000, 100_000)) -> dict[str, Any]:
    """Checkpoint (root + signature) time and inclusion-proof size and time for logs of several sizes.

    The proof grows as log2(n) hashes; computing a root is one pass over the leaves.
    """
    pair = KeyPair.generate()
    figures: dict[str, Any] = {}
    for size in sizes:
        leaves = [event_leaf(str(index).encode()) for index in range(size)]
        started = time.perf_counter()
        tree_root = merkle_root(leaves)
        sign_note(checkpoint_body("custody-ledger/bench", size, tree_root), "custody-ledger/bench", pair)
        checkpoint_ms = (time.perf_counter() - started) * 1000
        index = size // 3
        started = time.perf_counter()
        proof = inclusion_proof(leaves, index, size)
        proof_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        assert verify_inclusion(leaves[index], index, size, proof, tree_root)
        verify_us = (time.perf_counter() - started) * 1e6
        figures[f"merkle_{size}"] = {
            "checkpoint_ms": round(checkpoint_ms, 2),
            "inclusion_proof_hashes": len(proof),
            "inclusion_proof_ms": round(proof_ms, 2),
            "inclusion_verify_us": round(verify_us, 1),
        }
    return figures
