"""`custody bench --api`: a real `custody serve` driven over HTTP, beside the same operations in-process.

Small counts only: this checks the command runs end to end and reports every
figure, not how fast the machine is.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import postgres_url, require_postgres
from tests.e2e.conftest import Custody

SIDES = ("api", "in_process")
FIGURES = ("per_s", "p50_ms", "p99_ms")
UNREACHABLE = "postgresql://postgres@127.0.0.1:9/nowhere"


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_bench_api_json_reports_http_and_in_process_figures_and_the_target(tmp_path: Path, backend: str) -> None:
    nowhere = Custody("sqlite", tmp_path / "home")
    command = ("bench", "--api", "--api-seconds", "1", "--api-writes", "8", "--api-clients", "2")
    if backend == "postgresql":
        require_postgres()
        result = nowhere.run(*command, "--json", "--backend", backend, CUSTODY_DATABASE_URL=postgres_url())
    else:  # a configured database must not pull the SQLite run into it
        result = nowhere.run(*command, "--json", "--backend", backend, CUSTODY_DATABASE_URL=UNREACHABLE)

    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    figures = json.loads(lines[0])
    assert figures["mode"] == "api" and figures["backend"] == backend
    for kind in ("writes", "status_reads"):
        for side in SIDES:
            row = figures[kind][side]
            assert row["errors"] == 0, row
            assert row["count"] > 0, row
            for name in FIGURES:
                assert _positive(row[name]), (kind, side, name, row[name])
            assert row["p99_ms"] >= row["p50_ms"]
        ratios = figures[kind]["api_over_in_process"]
        assert {"p50", "p99", "per_s"} <= ratios.keys()
        assert all(_positive(ratios[name]) for name in ("p50", "p99", "per_s")), ratios
    assert figures["writes"]["api"]["count"] == 8
    assert figures["status_reads"]["api"]["target_per_s"] == 200
    target = figures["target"]
    assert target["description"] == "p99 < 50 ms for status reads at 200 requests/s"
    assert isinstance(target["met"], bool)
    assert target["met"] == (target["p99_ms"] < 50 and target["per_s"] >= 190)
    assert _positive(target["p99_ms"])
    assert "bench --api:" in result.stderr  # progress goes to standard error
    assert not nowhere.home.exists()
