"""The signing lockout through the `custody` command line (run in-process), on SQLite and PostgreSQL.

Each `custody` run opens its own ledger, as separate processes do: the count and the lock
live in the database, not in a process.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import pytest

from api.cli import main
from ledger.audit_log import read_audit
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import register_staff
from tests.conftest import ADMIN_PASSWORD, FAST_KDF
from tests.integration.journeys import password_of, register_team

WRONG = "not-the-password-123"


@pytest.fixture
def cli(
    ledger: CustodyLedger, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    """``cli(password, *argv)`` → (exit code, stdout, stderr), run against the fixture's ledger."""
    register_team(ledger, ("nurse", "auditor"))
    for name in list(os.environ):
        if name.startswith("CUSTODY_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CUSTODY_HOME", str(settings.home))
    if settings.database_url:
        monkeypatch.setenv("CUSTODY_DATABASE_URL", settings.database_url)
    for key, value in FAST_KDF.items():
        monkeypatch.setenv("CUSTODY_" + key.upper(), str(value))

    def run(password: str | None, *argv: str) -> tuple[int, str, str]:
        if password is None:
            monkeypatch.delenv("CUSTODY_PASSWORD", raising=False)
        else:
            monkeypatch.setenv("CUSTODY_PASSWORD", password)
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def annotate(password: str, cli: Any) -> tuple[int, dict[str, Any]]:
    code, out, _ = cli(password, "record", "AnnotationAdded", str(uuid.uuid4()), "--user", "nurse",
                       "--meaning", "authored", "--payload", '{"text": "checked"}', "--json")  # fmt: skip
    return code, json.loads(out)


def test_five_wrong_passwords_lock_signing_until_an_administrator_unlocks(cli: Any, ledger: CustodyLedger) -> None:
    for count in range(1, 5):
        code, answer = annotate(WRONG, cli)
        assert (code, answer["rule"]) == (2, "signature_authentication")
        assert f"({count} of 5 wrong passwords in a row lock signing)" in answer["error"]
    code, answer = annotate(WRONG, cli)
    assert (code, answer["rule"]) == (2, "signing_locked")
    code, answer = annotate(password_of("nurse"), cli)
    assert (code, answer["rule"]) == (2, "signing_locked"), "the right password is refused while locked"
    assert "custody staff unlock-signing nurse --reason" in answer["error"]

    code, out, err = cli(password_of("nurse"), "staff", "unlock-signing", "nurse", "--reason", "x", "--by",
                         "nurse")  # fmt: skip
    assert code == 2 and "[field: --by; rule: role_not_allowed]" in err
    code, out, err = cli(ADMIN_PASSWORD, "staff", "unlock-signing", "nurse", "--reason", "phoned the ward")
    assert code == 0, err
    assert "signing of nurse unlocked by admin" in out and "after 5 wrong passwords" in out

    code, answer = annotate(password_of("nurse"), cli)
    assert answer["rule"] not in {"signing_locked", "signature_authentication"}, "the signature itself is accepted"
    assert ledger.signing_lockout.state("nurse").failures == 0
    channels = {e.detail["channel"] for e in read_audit(ledger.store)}
    assert channels == {"cli"}


def test_an_unlocked_administrator_signs_a_registration_again(
    cli: Any, ledger: CustodyLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_staff(ledger, "admin2", "Ada Admin", "admin", password_of("admin2"), registrar="ledger")
    monkeypatch.setenv("CUSTODY_NEW_PASSWORD", "a-new-person-password")
    register = ("staff", "add", "nurse9", "--name", "Nora Nine", "--role", "nurse", "--by", "admin2")
    for _ in range(5):
        assert cli(WRONG, *register)[0] == 2
    code, _, err = cli(password_of("admin2"), *register)
    assert code == 2 and "signing as admin2 is locked" in err
    assert cli(ADMIN_PASSWORD, "staff", "unlock-signing", "admin2", "--reason", "typo streak")[0] == 0
    code, out, err = cli(password_of("admin2"), *register)
    assert code == 0, err
    assert "registered nurse9" in out


def test_custody_audit_security_lists_the_rows_and_plain_audit_is_unchanged(cli: Any, ledger: CustodyLedger) -> None:
    for _ in range(5):
        annotate(WRONG, cli)
    cli(ADMIN_PASSWORD, "staff", "unlock-signing", "nurse", "--reason", "checked in person")
    code, out, err = cli(None, "audit", "--security", "--json")
    assert code == 0, err
    rows = json.loads(out)["security_log"]
    assert [(r["action"], r["actor"], r["subject"]) for r in rows] == [("signature_failed", "nurse", "nurse")] * 5 + [
        ("signing_locked", "nurse", "nurse"),
        ("signing_unlocked", "admin", "nurse"),
    ]
    assert rows[-1]["detail"]["reason"] == "checked in person"
    code, out, _ = cli(None, "audit", "--security")
    assert code == 0
    assert out.splitlines()[0] == "security log: 7 row(s)"
    assert "signing_unlocked" in out.splitlines()[-1] and "reason=checked in person" in out
    code, out, _ = cli(None, "audit", "--security", "--user", "auditor", "--json")
    assert json.loads(out) == {"security_log": []}
    code, _, err = cli(None, "audit", "--security", "--role", "nurse")
    assert code == 2 and "[field: --role; rule: option_not_applicable]" in err
    code, out, _ = cli(None, "audit", "--json")
    assert code == 0 and "security_log" not in json.loads(out), "the signed-event trail keeps its shape"
    assert WRONG not in out
