"""`custody bench --api`: the HTTP API, served by a real `custody serve`, against the same operations in-process.

One run, one scratch store (a temporary CUSTODY_HOME, and on PostgreSQL a
temporary schema, removed afterwards; the real ledger is never touched):

1. the store is initialised, a nurse (``bench``) and a physician registered, and
   products enrolled: one per client for the in-process writes, one per client
   for the HTTP writes, so both write onto histories of the same length;
2. in-process: signed ``AnnotationAdded`` steps through ``CustodyLedger.record``
   (the password at each client's first signature), then status reads through
   ``projections.status_query.status_now``, paced like the HTTP reads below;
3. `custody serve` is started as a second process on a free port (log level
   info, as operators run it) and driven from this process over HTTP/1.1
   keep-alive connections: the same signed writes (``POST
   /products/{id}/events``, each client signed in once and giving its password
   on its first step), then status reads (``GET /products/{id}``) at a paced
   rate (200 requests/s by default) for a few seconds.

Writes are closed-loop: each client sends its next step when the previous one
is answered. Reads are open-loop: request *i* is due at ``start + i / rate``
whoever is free sends it, and its latency is counted from when it was due, so
a slow server cannot hide its queueing by slowing the client down. Before each
read phase one untimed read brings the status projection up to date with the
writes just made. Latencies are p50 and p99 (nearest rank) in milliseconds; the
ratios are HTTP over in-process (how many times slower, or for requests/s what
fraction is kept). The HTTP write also checks the bearer token, re-reads the
signer from the ledger and checks whether a checkpoint is due: that, with HTTP
and JSON, is the overhead measured.
"""

from __future__ import annotations

import dataclasses
import http.client
import itertools
import json
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from api import demo_journeys, demo_pathway
from ledger.bench import scratch_settings
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import initialise, register_staff
from ledger.staff_training import qualify_role_wide
from projections.status_query import status_now

BENCH_PASSWORD = "bench-password"
WRITER = "bench"
PHYSICIAN = "physician"
TARGET_P99_MS = 50.0
TARGET_PER_S = 200.0
READ_WORKERS = 16
START_SECONDS = 60.0
STOP_SECONDS = 20.0

Call = Callable[[int], None]


class BenchFailure(Exception):
    """A request did not get the answer a working server gives."""


def progress(message: str) -> None:
    """One line of progress on standard error (standard output is the report)."""
    print(f"bench --api: {message}", file=sys.stderr, flush=True)


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class Sample:
    """Latencies (seconds) of the calls that succeeded, the failures, and the phase's duration."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, latency: float) -> None:
        """Count one successful call."""
        with self.lock:
            self.latencies.append(latency)

    def fail(self, error: Exception) -> None:
        """Count one failed call."""
        with self.lock:
            self.failures.append(f"{type(error).__name__}: {error}")

    def figures(self, **extra: Any) -> dict[str, Any]:
        """Requests (or operations) per second, p50 and p99 in milliseconds, and the failure count."""
        ordered = sorted(self.latencies)
        return {
            "count": len(ordered),
            "errors": len(self.failures),
            "per_s": round(len(ordered) / self.seconds, 1) if self.seconds > 0 else 0.0,
            "p50_ms": _ms(percentile(ordered, 0.50)),
            "p99_ms": _ms(percentile(ordered, 0.99)),
            **extra,
            **({"first_error": self.failures[0][:300]} if self.failures else {}),
        }


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values (0.0 when there are none)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 2) if denominator > 0 else None


def closed_loop(calls: Sequence[Call], per_client: int) -> Sample:
    """Each call (one per client thread) is made ``per_client`` times back to back; every latency is kept."""
    sample = Sample()
    ready = threading.Barrier(len(calls) + 1)

    def client(call: Call) -> None:
        ready.wait()
        for index in range(per_client):
            started = time.perf_counter()
            try:
                call(index)
            except Exception as error:  # counted and reported, never fatal to the run
                sample.fail(error)
                continue
            sample.add(time.perf_counter() - started)

    threads = [threading.Thread(target=client, args=(call,), daemon=True) for call in calls]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    sample.seconds = time.perf_counter() - started
    return sample


def paced(calls: Sequence[Call], rate: float, seconds: float) -> Sample:
    """Open loop: call *i* is due at start + i/rate, made by whichever worker is free; latency counts from then."""
    total = max(1, round(rate * seconds))
    sample = Sample()
    claim = threading.Lock()
    counter = itertools.count()
    start = time.perf_counter() + 0.05
    finished: list[float] = []

    def worker(call: Call) -> None:
        while True:
            with claim:
                index = next(counter)
            if index >= total:
                return
            due = start + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                call(index)
            except Exception as error:  # counted and reported, never fatal to the run
                sample.fail(error)
                continue
            ended = time.perf_counter()
            sample.add(ended - due)
            with claim:
                finished.append(ended)

    threads = [threading.Thread(target=worker, args=(call,), daemon=True) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sample.seconds = (max(finished) if finished else time.perf_counter()) - start
    return sample


# -- the HTTP side -----------------------------------------------------------------------------


class HttpClient:
    """One keep-alive HTTP/1.1 connection to the server (one per client thread)."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, **headers: str) -> tuple[int, bytes]:
        """Send one request; the status and body of the answer."""
        try:
            self.connection.request(method, path, body=body, headers={**self.headers, **headers})
            answer = self.connection.getresponse()
            return answer.status, answer.read()
        except (http.client.HTTPException, OSError):
            self.connection.close()  # the next request reconnects
            raise

    def sign_in(self, username: str, password: str) -> None:
        """POST /auth/token; later requests carry the bearer token."""
        form = urlencode({"username": username, "password": password}).encode()
        status, body = self.request(
            "POST", "/auth/token", form, **{"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 200:
            raise BenchFailure(f"sign-in answered {status}: {body[:300]!r}")
        self.headers["Authorization"] = f"Bearer {json.loads(body)['access_token']}"

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


def _annotation(client: int, index: int) -> dict[str, Any]:
    return {"text": f"bench annotation {client}-{index}"}


def http_writer(client: HttpClient, product: UUID, number: int) -> Call:
    """A signed AnnotationAdded per call, over HTTP; the password on the session's first step only."""

    def call(index: int) -> None:
        step: dict[str, Any] = {"type": "AnnotationAdded", "payload": _annotation(number, index), "meaning": "authored"}
        if index == 0:
            step["password"] = BENCH_PASSWORD
        status, body = client.request(
            "POST", f"/products/{product}/events", json.dumps(step).encode(), **{"Content-Type": "application/json"}
        )
        if status != 201:
            raise BenchFailure(f"POST /products/{{id}}/events answered {status}: {body[:300]!r}")

    return call


def http_reader(client: HttpClient, products: Sequence[UUID]) -> Call:
    """GET /products/{id} per call, cycling through the products."""

    def call(index: int) -> None:
        status, body = client.request("GET", f"/products/{products[index % len(products)]}")
        if status != 200:
            raise BenchFailure(f"GET /products/{{id}} answered {status}: {body[:300]!r}")

    return call


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(settings: Settings) -> dict[str, str]:
    """The environment of `custody serve` over the scratch store: no CUSTODY_* variable of the caller leaks in."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("CUSTODY_")}
    env.update(
        {
            "CUSTODY_HOME": str(settings.home),
            "CUSTODY_KDF_TIME_COST": str(settings.kdf_time_cost),
            "CUSTODY_KDF_MEMORY_KIB": str(settings.kdf_memory_kib),
            "CUSTODY_KDF_PARALLELISM": str(settings.kdf_parallelism),
        }
    )
    if settings.database_url:
        env["CUSTODY_DATABASE_URL"] = settings.database_url
    return env


def _log_tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _wait_for_health(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    probe = HttpClient(port)
    try:
        while True:
            if process.poll() is not None:
                raise BenchFailure(f"`custody serve` exited {process.returncode}:\n{_log_tail(log)}")
            try:
                if probe.request("GET", "/health")[0] == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise BenchFailure(f"`custody serve` did not answer /health within {START_SECONDS:g} s")
            time.sleep(0.1)
    finally:
        probe.close()


@contextmanager
def served(settings: Settings, log_dir: Path) -> Iterator[int]:
    """`custody serve` over the scratch store, as a second process, until the block ends; yields its port."""
    port = free_port()
    log = log_dir / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=server_env(settings),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_health(process, port, log)
        progress(f"custody serve (pid {process.pid}) answers on http://127.0.0.1:{port}")
        yield port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# -- the run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiBenchOptions:
    """How much to measure."""

    writes: int = 200
    clients: int = 4
    read_per_s: float = TARGET_PER_S
    read_seconds: float = 5.0


def prepare(settings: Settings, products: int) -> list[UUID]:
    """Initialise the scratch store, register the bench nurse and the physicians, enrol ``products`` products.

    Each product belongs to a care pathway (sites registered and accredited, an eligible RCP
    decision co-signed by the pair, consent), as the ledger requires before any enrolment.
    """
    ledger = CustodyLedger(settings)
    try:
        initialise(ledger, BENCH_PASSWORD)
        register_staff(ledger, WRITER, "Bench Nurse", "nurse", BENCH_PASSWORD, registrar="ledger")
        register_staff(ledger, PHYSICIAN, "Bench Physician", "physician", BENCH_PASSWORD, registrar="ledger")
        specialist = demo_pathway.DISEASE_SPECIALIST
        register_staff(ledger, specialist, "Bench Internist", "physician", BENCH_PASSWORD, registrar="ledger")
        today = ledger.clock.now().date()
        for username in (WRITER, PHYSICIAN, specialist):
            qualify_role_wide(
                ledger, username, valid_from=today - timedelta(days=1), valid_until=today + timedelta(days=365),
                reference=f"TR-{username}", evidence="bench training record", by="ledger",
            )  # fmt: skip
        rec = demo_journeys.Recorder(ledger, {PHYSICIAN: BENCH_PASSWORD, specialist: BENCH_PASSWORD})
        now = ledger.clock.now()
        enrolled = []
        for number in range(products):
            pseudonym = f"PSN-BENCH-{number:04d}"
            demo_pathway.ready_patient(rec, pseudonym, "systemic_lupus_erythematosus", now)
            coi = demo_journeys.new_coi(settings.facility, now.year % 100)
            enrolled.append(demo_journeys.enrol_car_t(rec, coi, pseudonym, "systemic_lupus_erythematosus", now))
        return enrolled
    finally:
        ledger.close()


def in_process(
    settings: Settings, products: Sequence[UUID], readable: Sequence[UUID], options: ApiBenchOptions
) -> tuple[Sample, Sample]:
    """The same writes and reads, called directly on a ledger in this process."""
    ledger = CustodyLedger(settings)
    try:

        def writer(number: int, product: UUID) -> Call:
            def call(index: int) -> None:
                ledger.record(
                    "AnnotationAdded", product, _annotation(number, index), user=WRITER, meaning="authored",
                    password=BENCH_PASSWORD if index == 0 else None, session=f"in-process-{number}",
                )  # fmt: skip

            return call

        def read(index: int) -> None:
            status_now(ledger.store, readable[index % len(readable)], ledger.clock.now(), ledger.catalogue)

        per_client = max(1, options.writes // options.clients)
        progress(f"in-process: {per_client * options.clients} signed writes by {options.clients} threads")
        writes = closed_loop([writer(n, product) for n, product in enumerate(products)], per_client)
        read(0)  # untimed: the projection catches up with the writes just made
        progress(f"in-process: status reads at {options.read_per_s:g}/s for {options.read_seconds:g} s")
        reads = paced([read] * READ_WORKERS, options.read_per_s, options.read_seconds)
        return writes, reads
    finally:
        ledger.close()


def over_http(
    port: int, products: Sequence[UUID], readable: Sequence[UUID], options: ApiBenchOptions
) -> tuple[Sample, Sample]:
    """The writes and reads over HTTP against the running server."""
    writers = [HttpClient(port) for _ in products]
    readers = [HttpClient(port) for _ in range(READ_WORKERS)]
    try:
        for client in writers:
            client.sign_in(WRITER, BENCH_PASSWORD)
        for client, source in zip(readers, itertools.cycle(writers), strict=False):
            client.headers = dict(source.headers)
        per_client = max(1, options.writes // options.clients)
        progress(f"HTTP: {per_client * options.clients} signed writes by {options.clients} clients")
        writes = closed_loop(
            [
                http_writer(client, product, n)
                for n, (client, product) in enumerate(zip(writers, products, strict=True))
            ],
            per_client,
        )
        http_reader(readers[0], readable)(0)  # untimed: the projection catches up with the writes just made
        progress(f"HTTP: status reads at {options.read_per_s:g}/s for {options.read_seconds:g} s")
        reads = paced([http_reader(client, readable) for client in readers], options.read_per_s, options.read_seconds)
        return writes, reads
    finally:
        for client in (*writers, *readers):
            client.close()


def compare(api: dict[str, Any], local: dict[str, Any]) -> dict[str, Any]:
    """HTTP over in-process: latency multiples and the share of the in-process rate kept."""
    return {
        "p50": _ratio(api["p50_ms"], local["p50_ms"]),
        "p99": _ratio(api["p99_ms"], local["p99_ms"]),
        "per_s": _ratio(api["per_s"], local["per_s"]),
    }


def run_api_bench(settings: Settings, options: ApiBenchOptions) -> dict[str, Any]:
    """Every measurement on one scratch store; one JSON object."""
    load_before = os.getloadavg()[0]
    clients = max(1, options.clients)
    options = dataclasses.replace(options, clients=clients)
    progress(f"preparing a scratch {settings.backend} store with {2 * clients} products")
    products = prepare(settings, 2 * clients)
    local_products, api_products = products[:clients], products[clients:]
    local_writes, local_reads = in_process(settings, local_products, products, options)
    with tempfile.TemporaryDirectory(prefix="custody-bench-serve-") as logs:
        progress("starting custody serve as a second process")
        with served(settings, Path(logs)) as port:
            api_writes, api_reads = over_http(port, api_products, products, options)
        if api_writes.failures or api_reads.failures:
            progress("the server's log ends with:\n" + _log_tail(Path(logs) / "serve.log", 40))
    read_extra = {"target_per_s": options.read_per_s, "seconds": options.read_seconds, "workers": READ_WORKERS}
    figures = {
        "writes": {
            "api": api_writes.figures(clients=clients),
            "in_process": local_writes.figures(clients=clients),
        },
        "status_reads": {
            "api": api_reads.figures(**read_extra),
            "in_process": local_reads.figures(**read_extra),
        },
    }
    for kind in ("writes", "status_reads"):
        figures[kind]["api_over_in_process"] = compare(figures[kind]["api"], figures[kind]["in_process"])
    reads = figures["status_reads"]["api"]
    met = (
        options.read_per_s >= TARGET_PER_S
        and reads["per_s"] >= 0.95 * TARGET_PER_S
        and reads["errors"] == 0
        and 0 < reads["p99_ms"] < TARGET_P99_MS
    )
    for failed in (api_writes, api_reads, local_writes, local_reads):
        if failed.failures:
            progress(f"{len(failed.failures)} failed call(s), first: {failed.failures[0][:300]}")
    return {
        "mode": "api",
        "backend": settings.backend,
        "products": len(products),
        **figures,
        "target": {
            "description": f"p99 < {TARGET_P99_MS:g} ms for status reads at {TARGET_PER_S:g} requests/s",
            "p99_ms": reads["p99_ms"],
            "per_s": reads["per_s"],
            "met": met,
        },
        "latency": "p50/p99 nearest rank, ms; reads counted from when each request was due (open loop)",
        "cpus": os.cpu_count(),
        "load_average_before": round(load_before, 2),
        "python": platform.python_version(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def bench_api_command(args: Any, settings: Settings) -> int:
    """`custody bench --api`: one JSON line (with --json) per backend."""
    options = ApiBenchOptions(
        writes=args.api_writes, clients=args.api_clients, read_per_s=args.api_rate, read_seconds=args.api_seconds
    )
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend or settings.backend]
    for backend in backends:
        with scratch_settings(backend, settings.database_url) as scratch:
            figures = run_api_bench(scratch, options)
        if args.json:
            print(json.dumps(figures), flush=True)
        else:
            print(_text(figures), flush=True)
    return 0


def _text(figures: dict[str, Any]) -> str:
    lines = [f"backend={figures['backend']} products={figures['products']}"]
    for kind in ("writes", "status_reads"):
        for where in ("api", "in_process"):
            row = figures[kind][where]
            lines.append(
                f"  {kind:<12} {where:<10} {row['per_s']:>8} /s  p50 {row['p50_ms']:>8} ms  "
                f"p99 {row['p99_ms']:>8} ms  errors {row['errors']}"
            )
        ratios = figures[kind]["api_over_in_process"]
        lines.append(
            f"  {kind:<12} api/in-process: p50 ×{ratios['p50']}  p99 ×{ratios['p99']}  rate ×{ratios['per_s']}"
        )
    target = figures["target"]
    lines.append(
        f"  target {target['description']}: {'met' if target['met'] else 'NOT met'} (p99 {target['p99_ms']} ms)"
    )
    return "\n".join(lines)
