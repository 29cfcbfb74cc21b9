"""`custody bench --scale`: a ledger of realistic journeys built through the signing code, then measured end to end."""

from __future__ import annotations

import subprocess
import sys

from api.bench_scale import bench_scale
from ledger.settings import Settings


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
    assert said[-1] == "taking a checkpoint…" and any(line.startswith("loaded 209 / 209 events") for line in said)


def test_the_command_refuses_a_scale_that_is_not_positive() -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "api.cli", "bench", "--scale", "0", "--backend", "sqlite", "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert answer.returncode != 0
    said = answer.stdout + answer.stderr
    assert "--scale must be a positive number of events" in said and "positive_count" in said, said
