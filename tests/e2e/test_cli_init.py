"""`custody init` on a real home: store, trust anchor, first administrator, idempotence."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.e2e.conftest import Custody


def _event_table_exists(custody: Custody) -> bool:
    if custody.backend == "sqlite":
        return custody.sqlite_path.is_file() and custody.stored_rows() > 0
    with custody.pg() as conn:
        row = conn.execute("SELECT to_regclass('custody_events') IS NOT NULL").fetchone()
    return bool(row and row[0]) and custody.stored_rows() > 0


def test_init_on_an_empty_home_creates_the_store_the_trust_anchor_and_a_private_working_admin_password(
    empty_ledger: Custody,
) -> None:
    result = empty_ledger.run("init")

    assert _event_table_exists(empty_ledger)
    assert (empty_ledger.home / "ledger.pub").read_text().strip()
    password_file = empty_ledger.home / "admin-password.txt"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert len(empty_ledger.admin_password()) >= 16
    assert "administrator 'admin' registered (generated" in result.stdout
    assert empty_ledger.admin_password() not in result.stdout + result.stderr
    empty_ledger.run(
        "staff",
        "add",
        "bob",
        "--name",
        "Bob B",
        "--role",
        "pharmacist",
        CUSTODY_PASSWORD=empty_ledger.admin_password(),
        CUSTODY_NEW_PASSWORD="bob-password-1",
    )


def test_a_second_init_exits_0_says_the_admin_already_exists_and_changes_nothing(empty_ledger: Custody) -> None:
    empty_ledger.run("init")
    password = empty_ledger.admin_password()
    anchor = (empty_ledger.home / "ledger.pub").read_bytes()
    rows = empty_ledger.stored_rows()

    again = empty_ledger.run("init")

    assert "administrator 'admin' already registered" in again.stdout
    assert "(existing)" in again.stdout
    assert empty_ledger.admin_password() == password
    assert (empty_ledger.home / "ledger.pub").read_bytes() == anchor
    assert empty_ledger.stored_rows() == rows


def test_init_with_custody_admin_password_uses_it_and_writes_no_password_file(empty_ledger: Custody) -> None:
    result = empty_ledger.run("init", CUSTODY_ADMIN_PASSWORD="chosen-admin-password")

    assert not (empty_ledger.home / "admin-password.txt").exists()
    assert "generated" not in result.stdout
    assert "administrator 'admin' registered" in result.stdout
    empty_ledger.run(
        "staff",
        "add",
        "bob",
        "--name",
        "Bob B",
        "--role",
        "nurse",
        CUSTODY_PASSWORD="chosen-admin-password",
        CUSTODY_NEW_PASSWORD="bob-password-1",
    )


def test_init_with_password_stdin_reads_the_admin_password_from_standard_input(empty_ledger: Custody) -> None:
    empty_ledger.run("init", "--password-stdin", stdin="piped-admin-password\n")

    assert not (empty_ledger.home / "admin-password.txt").exists()
    empty_ledger.run(
        "staff",
        "add",
        "bob",
        "--name",
        "Bob B",
        "--role",
        "nurse",
        CUSTODY_PASSWORD="piped-admin-password",
        CUSTODY_NEW_PASSWORD="bob-password-1",
    )


def test_verify_before_init_exits_3_with_a_message_not_a_traceback(empty_ledger: Custody) -> None:
    result = empty_ledger.run("verify", expect=3)

    assert "custody: error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_verify_before_init_tells_the_user_to_run_custody_init(empty_ledger: Custody) -> None:
    result = empty_ledger.run("verify", expect=3)

    assert "custody init" in result.stderr, result.stderr


def test_init_against_an_unreachable_postgresql_exits_3_with_a_message_not_a_traceback(tmp_path: Path) -> None:
    custody = Custody("sqlite", tmp_path / "home")

    result = custody.run("init", expect=None, CUSTODY_DATABASE_URL="postgresql://postgres@127.0.0.1:1/test")

    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 3
    assert "cannot be reached" in result.stderr and "[rule: database_unavailable]" in result.stderr
