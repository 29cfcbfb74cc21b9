"""`custody verify` and `custody verify-bundle` demand a witness quorum; a real witness process cosigns.

The ledger's operator sets CUSTODY_WITNESSES; the auditor names the witness keys it trusts
with --witness and how many must have cosigned with --quorum.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.keys import KeyPair
from ledger.witness import WitnessKey
from tests.e2e.conftest import REPO, Custody, custody_command

START_SECONDS = 20


@pytest.fixture
def witness_url(scratch_ledger: Custody, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A witness of its own directory following the scratch ledger, served on a free port: (URL, its vkey file)."""
    home = tmp_path / "witness"
    scratch_ledger.run("witness", "init", "--home", str(home), "--name", "witness.test/w1")
    origin = scratch_ledger.run_json("checkpoint")["note"].split("\n")[0]
    scratch_ledger.run("witness", "add-log", origin, str(scratch_ledger.home / "ledger.pub"), "--home", str(home))
    process = subprocess.Popen(
        [*custody_command(), "witness", "serve", "--home", str(home), "--port", "0"],
        cwd=REPO,
        env=scratch_ledger.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("witness listening on "), line
        yield line.removeprefix("witness listening on ").strip(), home / "witness.vkey"
    finally:
        process.terminate()
        process.wait(timeout=START_SECONDS)
        if process.stdout is not None:
            process.stdout.close()


def test_a_cosigned_checkpoint_meets_a_quorum_of_one_offline_and_online_and_a_stranger_key_does_not(
    scratch_ledger: Custody, witness_url: tuple[str, Path], tmp_path: Path
) -> None:
    url, vkey = witness_url
    stranger = tmp_path / "stranger.vkey"
    stranger.write_text(WitnessKey("witness.test/stranger", KeyPair.generate().public_key).vkey() + "\n")
    configured = f"{url}={vkey}"

    before = scratch_ledger.run_json("verify", "--witness", str(vkey), "--quorum", "1", expect=1)
    assert [failure["reason"] for failure in before["failures"]] == ["witness_quorum_not_met"]

    scratch_ledger.run(
        "checkpoint", CUSTODY_WITNESSES=configured
    )  # the latest checkpoint goes to the witness now configured
    passed = scratch_ledger.run_json("verify", "--witness", str(vkey), "--quorum", "1", CUSTODY_WITNESSES=configured)
    assert passed["intact"] is True
    failed = scratch_ledger.run_json("verify", "--witness", str(stranger), "--quorum", "1", expect=1)
    assert [failure["reason"] for failure in failed["failures"]] == ["witness_quorum_not_met"]
    both = scratch_ledger.run("verify", "--witness", str(vkey), "--witness", str(stranger), "--quorum", "2", expect=1)
    assert "witness_quorum_not_met: the checkpoint of" in both.stdout and "(witness.test/w1), 2 required" in both.stdout

    bundle = tmp_path / "bundle.json"
    scratch_ledger.run("export", scratch_ledger.demo["products"][0], "-o", str(bundle), CUSTODY_WITNESSES=configured)
    inspector = Custody(backend="sqlite", home=tmp_path / "inspector")
    trust = str(scratch_ledger.home / "ledger.pub")
    offline = inspector.run_json(
        "verify-bundle", str(bundle), "--trust", trust, "--witness", str(vkey), "--quorum", "1"
    )
    assert (offline["intact"], offline["cosigned_by"]) == (True, ["witness.test/w1"])
    refused = inspector.run_json("verify-bundle", str(bundle), "--trust", trust, "--witness", str(stranger), expect=1)
    assert refused["problems"][-1].startswith("witness_quorum_not_met: ")
    assert not inspector.home.exists()


def test_a_quorum_without_witness_keys_or_above_their_number_is_refused_naming_the_option(
    scratch_ledger: Custody, tmp_path: Path
) -> None:
    alone = scratch_ledger.run("verify", "--quorum", "1", expect=2)
    assert "field: --quorum; rule: no_witness" in alone.stderr
    key = tmp_path / "w.vkey"
    key.write_text(WitnessKey("witness.test/w9", KeyPair.generate().public_key).vkey() + "\n")
    above = scratch_ledger.run("verify", "--witness", str(key), "--quorum", "2", expect=2)
    assert "field: --quorum; rule: quorum_out_of_range" in above.stderr
    missing = scratch_ledger.run("verify", "--witness", str(tmp_path / "absent.vkey"), expect=2)
    assert "field: --witness; rule: unreadable_key" in missing.stderr
