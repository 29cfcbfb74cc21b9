"""`custody bench`: the worklist page with the demo, then with 2,000 more products, in time and in bytes.

A unit's worklist must not slow down as its ledger grows: the page is read by the
nurse dozens of times a night. The demo is recorded into a scratch store (never the
real ledger), the nurse's worklist is fetched through the web application in-process
(sign-in, cookie, template: all of it), then 2,000 status rows are added, copies of
the demo's rows under new ids and COIs, a seventh of them with a running deadline, and
the page is fetched again; then 2,000 more again. Each figure is the best of 20
fetches (the least disturbed by other work on the machine). The demo fills less
than a page of each list, 2,000 more products fill every page, so the first ratio
says what full pages cost; ``worklist_4e3_over_2e3`` near 1, and the same page
weight with 2,000 or 4,000 more, say the page costs the rows it shows, not the
products the ledger holds.

    python -m api.web.bench_worklist          # one JSON line for the configured backend
"""

from __future__ import annotations

import contextlib
import io
import json
import time
import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from api.demo import record_demo
from api.rest.app import create_app
from ledger.bench import scratch_settings
from ledger.clock import isoformat
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import initialise
from projections.product_status import STATUS, ProductStatusFollower

EXTRA_PRODUCTS = 2000
FETCHES = 20
BENCH_PASSWORD = "bench-admin-password"
COPY_PREFIX = "CHB"


def _extra_rows(ledger: CustodyLedger, count: int, first: int = 0) -> None:
    """``count`` status rows copied from the demo's, each under a new id and COI; one in seven with a running clock."""
    ProductStatusFollower(ledger.store).catch_up()
    now = ledger.clock.now()
    with ledger.store.side_transaction() as cursor:
        cursor.execute(f"SELECT * FROM {STATUS.name} WHERE coi NOT LIKE %s ORDER BY product_id", (f"{COPY_PREFIX}%",))
        demo = cursor.fetchall()
        rows = []
        for n in range(first, first + count):
            row = dict(demo[n % len(demo)])
            row["product_id"], row["coi"] = str(uuid.uuid4()), f"{COPY_PREFIX}{n:012d}"
            if n % 7 == 0:  # 7 is prime to the demo's 5 products: every kind of row gets a running clock
                row["deadline_kind"] = "thaw_to_infusion"
                row["deadline_at"] = isoformat(now + timedelta(minutes=n % 90 - 30))
            rows.append([row[column] for column in STATUS.columns])
        sql = STATUS.upsert_sql()
        cursor.cursor.executemany(sql.replace("%s", "?") if ledger.store.backend == "sqlite" else sql, rows)


def _fetch(client: TestClient) -> tuple[float, int]:
    """Best milliseconds of the worklist page over ``FETCHES`` fetches, and its size in bytes."""
    timings, size = [], 0
    for _ in range(FETCHES):
        started = time.perf_counter()
        answer = client.get("/ui/")
        timings.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text[:300]
        size = len(answer.content)
    return round(min(timings) * 1000, 2), size


def _more(scratch: Settings, client: TestClient, first: int) -> tuple[float, int]:
    """Add ``EXTRA_PRODUCTS`` rows, then fetch the page."""
    ledger = CustodyLedger(scratch)
    try:
        _extra_rows(ledger, EXTRA_PRODUCTS, first)
    finally:
        ledger.close()
    return _fetch(client)


def bench_worklist(settings: Settings) -> dict[str, Any]:
    """Measure on a scratch store of ``settings``' backend; return the figures as one JSON-safe dict."""
    with scratch_settings(settings.backend, settings.database_url) as scratch:
        ledger = CustodyLedger(scratch)
        try:
            initialise(ledger, BENCH_PASSWORD)
        finally:
            ledger.close()
        with contextlib.redirect_stdout(io.StringIO()):
            record_demo(scratch, as_json=True, if_empty=False)
        with TestClient(create_app(scratch)) as client:
            signed_in = client.post(
                "/ui/sign-in",
                data={"username": "nurse", "password": "nurse-demo-pass", "next": "/ui/"},
                follow_redirects=False,
            )
            assert signed_in.status_code == 303, signed_in.text[:300]
            client.get("/ui/")  # warm: templates compiled, projections caught up
            demo_ms, demo_bytes = _fetch(client)
            more_ms, more_bytes = _more(scratch, client, 0)
            most_ms, most_bytes = _more(scratch, client, EXTRA_PRODUCTS)
    return {
        "worklist_ms_demo": demo_ms,
        "worklist_ms_2e3_more": more_ms,
        "worklist_2e3_over_demo": round(more_ms / demo_ms, 3) if demo_ms else None,
        "worklist_bytes_demo": demo_bytes,
        "worklist_bytes_2e3_more": more_bytes,
        "worklist_ms_4e3_more": most_ms,
        "worklist_4e3_over_2e3": round(most_ms / more_ms, 3) if more_ms else None,
        "worklist_bytes_4e3_more": most_bytes,
    }


if __name__ == "__main__":
    print(json.dumps(bench_worklist(Settings())))
