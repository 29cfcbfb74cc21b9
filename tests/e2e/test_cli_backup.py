"""`custody backup` / `custody restore` as an operator runs them, on both backends.

A demonstration ledger is backed up, moves on (a later checkpoint is published),
and the backup is restored into an empty store: it verifies, its writes are held,
the later checkpoint cannot release the hold, and an administrator's recorded
acceptance of the fork can.
"""

from __future__ import annotations

import io
import json
import shutil
import stat
import tarfile
from pathlib import Path

from tests.e2e.conftest import Custody, private_store

NURSE_PASSWORD = "nurse-demo-pass\n"


def annotate(custody: Custody, product: str, expect: int = 0) -> str:
    """Record one annotation as the demo nurse; return standard error."""
    result = custody.run(
        "record",
        "AnnotationAdded",
        product,
        "--user",
        "nurse",
        "--meaning",
        "authored",
        "--password-stdin",
        "--payload",
        json.dumps({"text": "bag label photographed"}),
        stdin=NURSE_PASSWORD,
        expect=expect,
    )
    return result.stderr


def archive_bytes(path: Path) -> list[bytes]:
    """The archive file itself and each member's content."""
    with tarfile.open(path) as archive:
        contents = []
        for info in archive:
            handle = archive.extractfile(info)
            assert handle is not None
            contents.append(handle.read())
    return [path.read_bytes(), *contents]


def test_a_backup_restored_into_an_empty_store_verifies_and_is_held_until_the_fork_is_accepted(
    fresh_demo: Custody, tmp_path: Path
) -> None:
    source, product = fresh_demo, fresh_demo.demo["products"][0]
    source.run("checkpoint", "-o", str(tmp_path / "earlier.note"))
    annotate(source, product)
    rows_backed_up = source.stored_rows()
    manifest = source.run_json("backup", "-o", str(tmp_path / "ledger.backup"))
    annotate(source, product)
    source.run("checkpoint", "-o", str(tmp_path / "later.note"))  # commits the heads: one more row
    archive = tmp_path / "ledger.backup"

    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert manifest["log_size"] == rows_backed_up < source.stored_rows()
    master = (source.home / "master.key").read_bytes()
    assert all(master not in blob for blob in archive_bytes(archive))

    with private_store(source.backend, tmp_path / "target") as target:
        target.home.mkdir(parents=True)
        shutil.copy(source.home / "master.key", target.home / "master.key")
        restored = target.run_json("restore", str(archive))
        assert (restored["restored_size"], restored["held"], restored["master_key"]) == (
            manifest["log_size"],
            True,
            "unlocks",
        )

        verified = target.run("verify")
        assert verified.stdout.strip().endswith(": intact")
        assert "writes HELD" in verified.stderr
        target.run("verify", "--against", str(tmp_path / "earlier.note"))
        behind = target.run("verify", "--against", str(tmp_path / "later.note"), expect=1)
        assert "truncated_log" in behind.stdout

        refused = annotate(target, product, expect=2)
        assert "rule: restored_store_held" in refused
        assert target.stored_rows() == manifest["log_size"]

        again = target.run("restore", str(archive), expect=2)
        assert "rule: target_not_empty" in again.stderr

        admin = source.admin_password() + "\n"
        fork = target.run(
            "restore",
            "acknowledge",
            "--latest-checkpoint",
            str(tmp_path / "later.note"),
            "--password-stdin",
            stdin=admin,
            expect=2,
        )
        assert "rule: restored_store_behind" in fork.stderr
        no_reason = target.run("restore", "acknowledge", "--accept-fork", "--password-stdin", stdin=admin, expect=2)
        assert "field: --reason; rule: reason_required" in no_reason.stderr

        target.run(
            "restore",
            "acknowledge",
            "--accept-fork",
            "--reason",
            "primary site lost, no later checkpoint kept",
            "--password-stdin",
            stdin=admin,
        )
        status = target.run_json("restore", "status")
        [row] = status["restores"]
        assert (status["held"], row["release_kind"], row["released_by"], row["restored_size"]) == (
            False,
            "accept_fork",
            "admin",
            manifest["log_size"],
        )
        assert row["release_reason"] == "primary site lost, no later checkpoint kept"
        assert "FORK RISK ACCEPTED by admin" in target.run("verify").stderr
        annotate(target, product)
        assert target.stored_rows() == manifest["log_size"] + 1


def test_a_tampered_archive_and_misplaced_options_are_refused_and_nothing_is_restored(
    empty_ledger: Custody, tmp_path: Path
) -> None:
    empty_ledger.run("init")
    archive, altered = tmp_path / "ledger.backup", tmp_path / "altered.backup"
    empty_ledger.run("backup", "-o", str(archive))
    with tarfile.open(archive) as source, tarfile.open(altered, "w:gz") as out:
        for info in source:
            handle = source.extractfile(info)
            assert handle is not None
            data = handle.read()
            if info.name == "ledger.pub":
                data = data.replace(data[:4], b"AAAA", 1)
            out.addfile(info, io.BytesIO(data))

    with private_store(empty_ledger.backend, tmp_path / "target") as target:
        tampered = target.run("restore", str(altered), expect=2)
        misplaced = target.run("restore", str(archive), "--reason", "because", expect=2)
        existing = empty_ledger.run("backup", "-o", str(archive), expect=2)

        assert "field: ledger.pub; rule: member_digest_mismatch" in tampered.stderr
        assert "field: --reason; rule: option_not_allowed" in misplaced.stderr
        assert "field: --output; rule: output_exists" in existing.stderr
        assert not (target.home / "ledger.pub").exists()
        assert target.run("verify", expect=3).returncode == 3
