"""Each checkpoint the ledger signs goes to the configured witnesses; their cosignatures are kept and demanded.

A real `custody witness serve` process (the fixtures of test_witness.py) cosigns. The test's
oracle for a cosignature is the witness's own verifier-key file, never the ledger's table.
"""

from __future__ import annotations

import argparse
import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.cli_witness_verify import check_witnesses
from ledger.bundle import export_bundle
from ledger.bundle_verify import verify_bundle
from ledger.keys import KeyPair
from ledger.service import CustodyLedger
from ledger.verifier import VerificationReport, stored_checkpoints
from ledger.witness import WitnessKey, cosigners
from ledger.witness_client import Witness, submit
from ledger.witness_quorum import QUORUM_RULE, Quorum
from ledger.witness_store import PUBLIC_FILE, WitnessHome
from ledger.witness_submit import stored_cosignatures
from tests.integration import test_witness as witness_fixtures
from tests.integration.journeys import enrolled, team
from tests.integration.test_witness import forged, grow, prover

witness_home = witness_fixtures.witness_home  # a witness following this ledger, in its own directory
witness = witness_fixtures.witness  # `custody witness serve` on a free port


def configure(ledger: CustodyLedger, monkeypatch: pytest.MonkeyPatch, *entries: tuple[str, Path]) -> None:
    """CUSTODY_WITNESSES as the ledger's settings hold it."""
    monkeypatch.setattr(ledger.settings, "witnesses", ";".join(f"{url}={path}" for url, path in entries))


def vkey_file(home: WitnessHome) -> Path:
    return home.home / PUBLIC_FILE


def unreachable_url() -> str:
    """A local port nobody listens on: what a witness that is down looks like."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def stranger_key_file(tmp_path: Path) -> Path:
    path = tmp_path / "stranger.vkey"
    path.write_text(WitnessKey("witness.test/stranger", KeyPair.generate().public_key).vkey() + "\n")
    return path


def quorum_args(*keyfiles: Path, quorum: int | None = None) -> argparse.Namespace:
    return argparse.Namespace(witness=[str(path) for path in keyfiles], quorum=quorum)


def test_a_signed_checkpoint_is_cosigned_by_the_configured_witness_and_the_cosignature_stored(
    ledger: CustodyLedger, witness: Witness, witness_home: WitnessHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(ledger, monkeypatch, (witness.url, vkey_file(witness_home)))
    first = grow(ledger, "ann")
    second = grow(ledger, "bob", "cid")  # sent with the consistency proof from the first

    for made in (first, second):
        lines = stored_cosignatures(ledger.store, made.size)
        assert list(lines) == [witness.key.name]
        assert cosigners(made.note + lines[witness.key.name], [witness.key]) == [witness.key.name]


def test_a_witness_that_is_down_does_not_fail_the_write_and_gets_the_next_checkpoint(
    ledger: CustodyLedger,
    witness: Witness,
    witness_home: WitnessHome,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure(ledger, monkeypatch, (witness.url, vkey_file(witness_home)))
    first = grow(ledger, "ann")
    configure(ledger, monkeypatch, (unreachable_url(), vkey_file(witness_home)))
    with caplog.at_level(logging.WARNING, logger="custody.witness"):
        missed = grow(ledger, "bob")

    assert [cp.size for cp in stored_checkpoints(ledger.store)] == [first.size, missed.size]
    assert stored_cosignatures(ledger.store, missed.size) == {}
    assert [record.levelname for record in caplog.records] == ["WARNING"]

    configure(ledger, monkeypatch, (witness.url, vkey_file(witness_home)))
    third = grow(ledger, "cid")  # proven from the first, the last size this witness cosigned
    assert cosigners(third.note + stored_cosignatures(ledger.store, third.size)[witness.key.name], [witness.key])


def test_a_witness_holding_another_view_of_the_log_is_logged_as_an_error_and_verify_warns(
    ledger: CustodyLedger,
    witness: Witness,
    witness_home: WitnessHome,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    submit(witness, forged(ledger, 1000, b"\x07" * 32), 0, prover(ledger))  # a fork the witness saw first
    configure(ledger, monkeypatch, (witness.url, vkey_file(witness_home)))
    with caplog.at_level(logging.WARNING, logger="custody.witness"):
        made = grow(ledger, "ann")

    assert stored_checkpoints(ledger.store)[-1] == made  # still signed
    assert stored_cosignatures(ledger.store, made.size) == {}
    assert [record.levelname for record in caplog.records] == ["ERROR"]
    check_witnesses(ledger, VerificationReport(), quorum_args())
    assert "warning: FORK OR ROLLBACK: witness witness.test/w1 answered 409" in capsys.readouterr().err


def test_verify_with_a_quorum_of_the_cosigning_witness_passes_and_with_a_wrong_key_fails(
    ledger: CustodyLedger,
    witness: Witness,
    witness_home: WitnessHome,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    configure(ledger, monkeypatch, (witness.url, vkey_file(witness_home)))
    made = grow(ledger, "ann")

    passed = VerificationReport()
    check_witnesses(ledger, passed, quorum_args(vkey_file(witness_home), quorum=1))
    assert passed.failures == []

    failed = VerificationReport()
    check_witnesses(ledger, failed, quorum_args(stranger_key_file(tmp_path), quorum=1))
    assert [(f.position, f.reason) for f in failed.failures] == [(made.size, QUORUM_RULE)]

    two = VerificationReport()
    check_witnesses(ledger, two, quorum_args(vkey_file(witness_home), stranger_key_file(tmp_path), quorum=2))
    assert [f.reason for f in two.failures] == [QUORUM_RULE]


def test_verify_without_witnesses_configured_fails_a_quorum(ledger: CustodyLedger, witness_home: WitnessHome) -> None:
    grow(ledger, "ann")  # signed, never sent anywhere: CUSTODY_WITNESSES is empty
    report = VerificationReport()
    check_witnesses(ledger, report, quorum_args(vkey_file(witness_home)))
    assert [f.reason for f in report.failures] == [QUORUM_RULE]


def test_an_exported_bundle_carries_the_cosignature_and_verifies_with_a_quorum(
    ledger: CustodyLedger,
    witness: Witness,
    witness_home: WitnessHome,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    configure(ledger, monkeypatch, (witness.url, vkey_file(witness_home)))
    journey = enrolled(team(ledger), datetime.now(UTC) - timedelta(days=40))
    bundle = export_bundle(ledger, journey.product)
    trusted = {ledger.meta.ledger_key_pair().public_key}

    assert verify_bundle(bundle, trusted, Quorum((witness.key,), 1)) == []
    stranger = Quorum((WitnessKey("witness.test/stranger", KeyPair.generate().public_key),), 1)
    assert [problem.split(":")[0] for problem in verify_bundle(bundle, trusted, stranger)] == [QUORUM_RULE]
    stripped = dict(bundle, checkpoint=bundle["checkpoint"].split("\u2014 witness.test/w1 ")[0])
    assert [problem.split(":")[0] for problem in verify_bundle(stripped, trusted, Quorum((witness.key,), 1))] == [
        QUORUM_RULE
    ]
