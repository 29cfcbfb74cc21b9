"""`custody bench --scale`: a ledger of realistic journeys built through the signing code, then measured end to end."""

from __future__ import annotations

import subprocess
import sys

from api.bench_scale import bench_scale
from ledger.bench import BENCH_PASSWORD
from ledger.bench_ceiling import ceiling_figures, sample_rows
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import initialise


def test_a_small_scale_run_loads_whole_journeys_that_verify_rebuild_and_checkpoint(settings: Settings) -> None:
    said: list[str] = []
    figures = bench_scale(settings, 200, report=said.append)
    # 200 events asked: whole journeys of 11 steps, so 19 journeys = 209 events.
    assert figures["scale_events"] == 209
    # Besides the journeys: the admin's and the bench signer's staff records, and the heads commitment.
    assert figures["stored_events"] > 209 and figures["checkpoint_size"] == figures["stored_events"]
    for rate in ("load_per_s", "verify_per_s", "rebuild_per_s", "raw_ed25519_verify_per_s"):
        assert figures[rate] > 0, rate
    assert figures["verify_10m_minutes"] > 0 and figures["peak_rss_mb"] > 0
    # Each row's own checks include one Ed25519 verification, so they cost more than one (give or take the
    # clock's grain), and two cores can never give more than twice the raw rate.
    assert figures["row_check_cpu_over_raw_cpu"] > 0.8
    assert 0 < figures["verify_ceiling_over_raw"] <= 2.0 / 0.8
    assert said[-1] == "taking a checkpoint…" and any(line.startswith("loaded 209 / 209 events") for line in said)


def test_the_command_refuses_a_scale_that_is_not_positive() -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "api.cli", "bench", "--scale", "0", "--backend", "sqlite", "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert answer.returncode != 0
    said = answer.stdout + answer.stderr
    assert "--scale must be a positive number of events" in said and "positive_count" in said, said


def test_the_ceiling_is_the_cores_over_the_cost_of_one_rows_checks() -> None:
    # 150 µs of checks per row against 100 µs per raw verification: 1.5 verifications' worth per row,
    # so two cores verify at most 2 / 1.5 of one core's raw rate.
    assert ceiling_figures(150e-6, 100e-6, 2) == {"row_check_cpu_over_raw_cpu": 1.5, "verify_ceiling_over_raw": 1.333}
    assert ceiling_figures(150e-6, 100e-6, 1)["verify_ceiling_over_raw"] == 0.667


def test_the_sample_is_the_first_rows_of_the_log_in_order(settings: Settings) -> None:
    ledger = CustodyLedger(settings)
    try:
        initialise(ledger, BENCH_PASSWORD)
        size = ledger.store.size()
        assert size >= 3
        assert [row.id for row in sample_rows(ledger.store, 2)] == [1, 2]
        assert [row.id for row in sample_rows(ledger.store, 10_000)] == list(range(1, size + 1))
    finally:
        ledger.close()
