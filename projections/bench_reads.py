"""Benchmark of the paged reads at scale: a page with 1e5 products against the same page with 1e3.

A hospital holds hundreds of products, a manufacturer or a registry a hundred thousand:
`GET /products`, `GET /inventory` and a product's status must answer a page in the same
time either way (README "Scale"). Real journeys are signed and projected first; the
read models are then filled with copies of a real row under new ids (derived data, so
nothing signed is forged) to 1e3 and then 1e5 products, and each read is timed at both
sizes in the same run: the figures are the ratios.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

from ledger.bench import BENCH_PASSWORD, scratch_settings
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import initialise
from projections import queries
from projections.bench import _append_journeys, _fill_status
from projections.inventory import INVENTORY
from projections.product_status import STATUS
from projections.status_query import list_status, status_now

PAGE = 100
SMALL, LARGE = 1_000, 100_000


def _fill_inventory(ledger: CustodyLedger, template: dict[str, Any], total: int) -> None:
    """Copies of a real inventory row, each in a position of its own, until the table holds ``total``."""
    with ledger.store.side_transaction() as cursor:
        cursor.execute(f"SELECT count(*) AS n FROM {INVENTORY.name}")
        found = cursor.fetchone()
        start = int(found["n"]) if found else 0
        sql = INVENTORY.upsert_sql()
        if ledger.store.backend == "sqlite":
            sql = sql.replace("%s", "?")
        rows = []
        for n in range(start, total):
            fresh = {**template, "product_id": str(uuid.uuid4()), "box": f"BX{n // 100:05d}", "position": str(n % 100)}
            rows.append([fresh[column] for column in INVENTORY.columns])
        cursor.cursor.executemany(sql, rows)


def _median_ms(read: Callable[[], Any], times: int) -> float:
    timings = []
    for _ in range(times):
        started = time.perf_counter()
        read()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def _reads(ledger: CustodyLedger, product: uuid.UUID, times: int) -> dict[str, float]:
    now = ledger.clock.now()
    return {
        "product_list_page": _median_ms(lambda: list_status(ledger.store, now, limit=PAGE, offset=PAGE), times),
        "product_list_page_in_state": _median_ms(
            lambda: list_status(ledger.store, now, state="stored", limit=PAGE), times
        ),
        "inventory_page": _median_ms(lambda: queries.inventory(ledger.store, limit=PAGE, offset=PAGE), times),
        "product_status": _median_ms(lambda: status_now(ledger.store, product, now, ledger.catalogue), times),
    }


def bench_read_pages(
    settings: Settings, *, journeys: int = 50, times: int = 30, sizes: tuple[int, int] = (SMALL, LARGE)
) -> dict[str, Any]:
    """Each paged read at 1e3 and 1e5 products, and the ratio of the two (1.0 = no slower at scale)."""
    with scratch_settings(settings.backend, settings.database_url) as scratch:
        ledger = CustodyLedger(scratch)
        try:
            initialise(ledger, BENCH_PASSWORD)
            ids = _append_journeys(ledger, journeys)
            status_now(ledger.store, ids[0], ledger.clock.now(), ledger.catalogue)  # the read models caught up
            queries.inventory(ledger.store)
            with ledger.store.side_transaction() as cursor:
                cursor.execute(f"SELECT * FROM {STATUS.name} WHERE product_id = %s", (str(ids[0]),))
                status_row = cursor.fetchone()
                cursor.execute(f"SELECT * FROM {INVENTORY.name} WHERE product_id = %s", (str(ids[0]),))
                inventory_row = cursor.fetchone()
            assert status_row is not None and inventory_row is not None
            _fill_status(ledger, status_row, sizes[0])
            _fill_inventory(ledger, inventory_row, sizes[0])
            small = _reads(ledger, ids[0], times)
            _fill_status(ledger, status_row, sizes[1])
            _fill_inventory(ledger, inventory_row, sizes[1])
            large = _reads(ledger, ids[0], times)
        finally:
            ledger.close()
    figures: dict[str, Any] = {}
    for name, small_ms in small.items():
        figures[f"{name}_ms_1e3"] = round(small_ms, 3)
        figures[f"{name}_ms_1e5"] = round(large[name], 3)
        figures[f"{name}_1e5_over_1e3"] = round(large[name] / small_ms, 3) if small_ms else None
    return figures
