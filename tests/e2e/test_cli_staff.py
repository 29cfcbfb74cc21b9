"""`custody staff`: an administrator registers a person, who signs with the password she chose until revoked.

Each test registers its own username on the module's scratch ledger.
"""

from __future__ import annotations

import json
import subprocess

from tests.e2e.conftest import Custody


def _add(
    custody: Custody, username: str, password: str, *, admin_password: str | None = None, expect: int = 0
) -> subprocess.CompletedProcess[str]:
    return custody.run(
        "staff",
        "add",
        username,
        "--name",
        f"{username.title()} A",
        "--role",
        "nurse",
        expect=expect,
        CUSTODY_PASSWORD=admin_password or custody.admin_password(),
        CUSTODY_NEW_PASSWORD=password,
    )


def _annotate_as(
    custody: Custody, username: str, password: str, *, expect: int = 0
) -> subprocess.CompletedProcess[str]:
    return custody.run(
        "record",
        "AnnotationAdded",
        custody.demo["products"][2],
        "--user",
        username,
        "--meaning",
        "authored",
        "--password-stdin",
        "--payload",
        json.dumps({"text": f"note by {username}"}),
        stdin=password + "\n",
        expect=expect,
    )


def test_a_nurse_the_admin_registers_signs_once_she_has_chosen_her_own_password(scratch_ledger: Custody) -> None:
    added = _add(scratch_ledger, "alice", "alice-enrolment-1")
    refused = _annotate_as(scratch_ledger, "alice", "alice-enrolment-1", expect=2)
    scratch_ledger.run(
        "password", "change", "--user", "alice", "--password-stdin", stdin="alice-enrolment-1\nbrume saumon quarante\n"
    )

    recorded = _annotate_as(scratch_ledger, "alice", "brume saumon quarante")

    assert added.stdout.startswith("registered alice (nurse) with key ")
    assert "custody password change --user alice" in added.stdout
    assert "change your password first: custody password change" in refused.stderr
    assert "Alice A (nurse), authored" in recorded.stdout
    _annotate_as(scratch_ledger, "alice", "alice-enrolment-1", expect=2)


def test_after_her_key_is_revoked_a_nurses_next_record_exits_2_and_stores_nothing(scratch_ledger: Custody) -> None:
    _add(scratch_ledger, "carol", "carol-password-1")

    revoked = scratch_ledger.run(
        "staff", "revoke-key", "carol", "--reason", "test", CUSTODY_PASSWORD=scratch_ledger.admin_password()
    )
    rows = scratch_ledger.stored_rows()
    refused = _annotate_as(scratch_ledger, "carol", "carol-password-1", expect=2)

    assert revoked.stdout.startswith("revoked key ")
    assert "carol" in refused.stderr
    assert scratch_ledger.stored_rows() == rows
    assert scratch_ledger.run_json("verify")["intact"] is True


def test_staff_add_with_a_wrong_admin_password_exits_2_and_registers_nobody(scratch_ledger: Custody) -> None:
    rows = scratch_ledger.stored_rows()

    refused = _add(scratch_ledger, "dave", "dave-password-1", admin_password="not-the-admin-password", expect=2)

    assert "wrong password for admin" in refused.stderr
    assert scratch_ledger.stored_rows() == rows


def test_staff_add_of_an_existing_username_exits_2_naming_the_username_field(scratch_ledger: Custody) -> None:
    rows = scratch_ledger.stored_rows()

    refused = _add(scratch_ledger, "nurse", "another-password", expect=2)

    assert "[field: username; rule: already_exists]" in refused.stderr
    assert scratch_ledger.stored_rows() == rows
