"""Benchmark of the read models: rebuild throughput against reading the log, and a status query at 1e3 and 1e5 products.

Run in a scratch store (a temporary CUSTODY_HOME, and on PostgreSQL a temporary
schema, both removed afterwards), never the real ledger. The log holds signed
product journeys appended in one transaction per product (no domain checks: this
measures the projections, not the rules). For the 1e5 case, synthetic status rows
are inserted directly into the scratch table: the query must cost the same with
1e3 or 1e5 products, which the primary-key index guarantees.

``log_read_per_s`` is the floor under any rebuild: the whole log read through the
recorder in the rebuild's batch size, in the same run on the same backend, so
``rebuild_over_log_read`` holds when the machine's speed drifts. ``log_decode_per_s``
is the same read with every envelope decoded as the projections decode it: the
ceiling of any rebuild in this process. ``rebuild_write_floor_per_s`` is the other
ceiling: the read models' own rows written back with the rebuild's bulk writer and
nothing else (``projections/bench_floor.py``). Each is the best of ``REPEATS`` runs
(the machine is shared; the best run is the least disturbed).

    python -m projections.bench            # one JSON line for the configured backend
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from domain.events import Actor
from ledger.bench import scratch_settings
from ledger.envelope import Envelope, event_body, seal
from ledger.keys import KeyPair
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import initialise
from projections import runner
from projections.bench_floor import write_floor_seconds
from projections.logged import decode_batch
from projections.product_status import STATUS
from projections.status_query import status_now

BENCH_PASSWORD = "bench-password"
REPEATS = 2
ACTOR = Actor("bench", "Bench Runner", "pharmacist")
SITE, PHARMACY = "Bench apheresis unit", "Bench PUI"


def _journey(product: uuid.UUID, n: int, at: datetime) -> list[tuple[str, dict[str, Any]]]:
    """The eleven steps of a CAR-T product from enrolment to LN2 storage, as payloads."""
    coi, lot, ship1, ship2 = f"CHB{n:012d}", f"LOT-{n}", str(uuid.uuid4()), str(uuid.uuid4())
    started = (at - timedelta(hours=4)).isoformat()
    return [
        ("ProductEnrolled", {"coi": coi, "product_kind": "car_t", "product_code": "KYMRIAH",
                             "patient_pseudonym": f"PSN-BENCH-{n}", "indication": "vasculitis",
                             "treating_physician": "physician", "collection_site": SITE}),
        ("ApheresisCollected", {"din": "G123498654321", "site": SITE, "volume_ml": 250, "started_at": started,
                                "ended_at": at.isoformat(), "preservation": "fresh"}),
        ("ProductShipped", {"shipment_id": ship1, "leg": "to_manufacturer", "to_site": "Bench GMP"}),
        ("ProductReceived", {"shipment_id": ship1, "site": "Bench GMP", "leg": "to_manufacturer", "scanned_coi": coi,
                             "seal_intact": True, "temperature_ok": True, "condition": "intact",
                             "min_c": 3.5, "max_c": 6.8, "excursion_min": 0}),
        ("ManufacturingStarted", {"lot": lot, "site": "Bench GMP"}),
        ("ManufacturingCompleted", {"lot": lot, "bag_ids": [f"{lot}-B1"], "dose_description": "1e8"}),
        ("QcResultsRecorded", {"tests": [{"name": "viability", "result": "90 %", "specification": ">= 80 %",
                                          "in_spec": True}]}),
        ("ProductReleased", {"certificate_id": f"CoR-{n}"}),
        ("ProductShipped", {"shipment_id": ship2, "leg": "to_pharmacy", "to_site": PHARMACY}),
        ("ProductReceived", {"shipment_id": ship2, "site": PHARMACY, "leg": "to_pharmacy", "scanned_coi": coi,
                             "seal_intact": True, "temperature_ok": True, "condition": "intact",
                             "min_c": -191.0, "max_c": -172.5, "excursion_min": 0}),
        ("StoredInLN2", {"site": PHARMACY, "tank": "T1", "rack": "R1", "box": f"B{n // 100}",
                         "position": str(n % 100), "temperature_c": -180.0}),
    ]  # fmt: skip


def signed_journey(
    ledger_id: str, pair: KeyPair, actor: Actor, product: uuid.UUID, n: int, now: datetime
) -> list[Envelope]:
    """One product's journey (``_journey``), each step sealed and chained through the ledger's signing code."""
    envelopes: list[Envelope] = []
    prev_hash = None
    for version, (event_type, payload) in enumerate(_journey(product, n, now - timedelta(days=30)), start=1):
        body = event_body(
            ledger_id=ledger_id, aggregate_id=product, aggregate_kind="product", version=version,
            event_type=event_type, payload=payload, occurred_at=now - timedelta(days=30 - version),
            recorded_at=now, actor=actor, meaning="performed", prev_hash=prev_hash, key_id=pair.key_id,
        )  # fmt: skip
        envelope = seal(body, pair)
        envelopes.append(envelope)
        prev_hash = envelope.hash
    return envelopes


def _append_journeys(ledger: CustodyLedger, products: int) -> list[uuid.UUID]:
    """Sign and store each product's journey in one transaction."""
    pair, ledger_id, now = ledger.meta.ledger_key_pair(), ledger.meta.ledger_id(), ledger.clock.now()
    ids = []
    for n in range(products):
        product = uuid.uuid4()
        ledger.store.append(signed_journey(ledger_id, pair, ACTOR, product, n, now))
        ids.append(product)
    return ids


def _fill_status(ledger: CustodyLedger, template: dict[str, Any], total: int) -> None:
    """Insert synthetic status rows (copies of a real one under new ids) until the table holds ``total``."""
    with ledger.store.side_transaction() as cursor:
        cursor.execute(f"SELECT count(*) AS n FROM {STATUS.name}")
        found = cursor.fetchone()
        missing = total - (int(found["n"]) if found else 0)
        sql = STATUS.upsert_sql().replace("%s", "?") if ledger.store.backend == "sqlite" else STATUS.upsert_sql()
        rows = [
            [str(uuid.uuid4()) if c == "product_id" else template[c] for c in STATUS.columns] for _ in range(missing)
        ]
        cursor.cursor.executemany(sql, rows)


def _status_ms(ledger: CustodyLedger, products: list[uuid.UUID], queries: int) -> float:
    """Median milliseconds of `custody status` work (catch-up check + indexed lookup + presentation)."""
    timings = []
    for index in range(queries):
        started = time.perf_counter()
        status_now(ledger.store, products[index % len(products)], ledger.clock.now(), ledger.catalogue)
        timings.append(time.perf_counter() - started)
    return round(statistics.median(timings) * 1000, 3)


def _read_log(ledger: CustodyLedger, *, decode: bool = False) -> int:
    """Read every notification through the recorder, in the rebuild's batches (and decode them); how many."""
    read, start = 0, 1
    while rows := ledger.store.recorder.select_notifications(start, runner.BATCH):
        if decode:
            decode_batch(rows)
        read += len(rows)
        start = rows[-1].id + 1
    return read


def _best_seconds(work: Any) -> float:
    """The fastest of ``REPEATS`` runs of ``work()``."""
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def bench_projections(settings: Settings, *, products: int = 300, queries: int = 200) -> dict[str, Any]:
    """Measure on a scratch store of ``settings``' backend; return the figures as one JSON-safe dict."""
    with scratch_settings(settings.backend, settings.database_url) as scratch:
        ledger = CustodyLedger(scratch)
        try:
            initialise(ledger, BENCH_PASSWORD)
            ids = _append_journeys(ledger, products)
            events = ledger.store.size()
            assert _read_log(ledger) == events
            read_seconds = _best_seconds(lambda: _read_log(ledger))
            decode_seconds = _best_seconds(lambda: _read_log(ledger, decode=True))
            rebuild_seconds = _best_seconds(lambda: runner.rebuild(ledger.store))
            by_projection = {}
            for name in runner.NAMES:
                one = time.perf_counter()
                runner.rebuild(ledger.store, [name])
                by_projection[name] = round(events / (time.perf_counter() - one), 1)
            floors = [write_floor_seconds(ledger.store, events) for _ in range(REPEATS)]
            floor_seconds, rows_written = min(floors)
            template = status_now(ledger.store, ids[0], ledger.clock.now(), ledger.catalogue)
            with ledger.store.side_transaction() as cursor:
                cursor.execute(f"SELECT * FROM {STATUS.name} WHERE product_id = %s", (str(ids[0]),))
                row = cursor.fetchone()
            assert row is not None and template["state"] == "stored"
            _fill_status(ledger, row, 1000)
            small = _status_ms(ledger, ids, queries)
            _fill_status(ledger, row, 100_000)
            large = _status_ms(ledger, ids, queries)
        finally:
            ledger.close()
    return {
        "backend": settings.backend,
        "events": events,
        "projections": len(runner.NAMES),
        "log_read_per_s": round(events / read_seconds, 1),
        "rebuild_per_s": round(events / rebuild_seconds, 1),
        "rebuild_over_log_read": round(read_seconds / rebuild_seconds, 4),
        "log_decode_per_s": round(events / decode_seconds, 1),
        "rebuild_per_s_by_projection": by_projection,
        "read_model_rows": rows_written,
        "rebuild_write_floor_per_s": round(events / floor_seconds, 1),
        "rebuild_write_floor_over_log_read": round(read_seconds / floor_seconds, 4),
        "status_query_ms_1e3_products": small,
        "status_query_ms_1e5_products": large,
        "status_1e5_over_1e3": round(large / small, 3) if small else None,
    }


if __name__ == "__main__":
    print(json.dumps(bench_projections(Settings())))
