"""`custody staff reenrol`: a person who forgot their password gets a new key and enrolment secret, on each backend.

ledger/reenrolment.py, run as a real subprocess. One initialised ledger per backend for the module; each test
enrols its own people. They are administrators, so the step they sign is the registration of someone else
(`custody staff add --by`): no product needed.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import BACKENDS, Custody, private_store

OWN = "granit hibou cerise 4711"
CHOSEN = "brume saumon quarante vélo"
REASON = "forgot her password; identity checked in person"
Run = subprocess.CompletedProcess[str]


@pytest.fixture(scope="module", params=BACKENDS)
def initialised(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Custody]:
    """`custody init` only: the administrator and nobody else."""
    with private_store(request.param, tmp_path_factory.mktemp(f"reenrol-{request.param}")) as custody:
        custody.run("init")
        yield custody


def _add(custody: Custody, username: str, *, by: str = "admin", by_password: str = "", expect: int = 0) -> Run:
    return custody.run(
        "staff", "add", username, "--name", f"{username.title()} R", "--role", "admin", "--by", by,
        CUSTODY_PASSWORD=by_password or custody.admin_password(), CUSTODY_NEW_PASSWORD=f"{username}-enrolment-1",
        expect=expect,
    )  # fmt: skip


def _change(custody: Custody, username: str, old: str, new: str, *, expect: int = 0) -> Run:
    return custody.run(
        "password", "change", "--user", username, "--password-stdin", stdin=f"{old}\n{new}\n", expect=expect
    )


def _enrolled(custody: Custody, username: str, role: str = "admin") -> None:
    """A person the administrator registered and who chose ``OWN`` as their password."""
    custody.run(
        "staff", "add", username, "--name", f"{username.title()} R", "--role", role,
        CUSTODY_PASSWORD=custody.admin_password(), CUSTODY_NEW_PASSWORD=f"{username}-enrolment-1",
    )  # fmt: skip
    _change(custody, username, f"{username}-enrolment-1", OWN)


def _reenrol(custody: Custody, username: str, *args: str, by_password: str = "", expect: int = 0, **env: str) -> Run:
    return custody.run(
        "staff", "reenrol", username, *args, CUSTODY_PASSWORD=by_password or custody.admin_password(), expect=expect,
        **env,
    )  # fmt: skip


def test_after_reenrolment_the_old_password_opens_nothing_and_the_secret_must_be_replaced(
    initialised: Custody,
) -> None:
    _enrolled(initialised, "rosa")
    signed_before = _add(initialised, "rosa-first", by="rosa", by_password=OWN)
    old_key = re.search(r"with key (\w+)", signed_before.stdout)

    done = _reenrol(initialised, "rosa", "--reason", REASON)

    found = re.search(r"re-enrolled rosa by admin: new key (\w+); revoked (\w+)", done.stdout)
    secret = re.search(r"enrolment secret for rosa \(shown once; hand it over in person\): (\S+)", done.stdout)
    assert found is not None and secret is not None and old_key is not None, done.stdout
    assert "custody password change --user rosa" in done.stdout
    rows = initialised.stored_rows()
    refused = _add(initialised, "rosa-second", by="rosa", by_password=OWN, expect=2)
    assert "change your password first" in refused.stderr
    wrong = _change(initialised, "rosa", OWN, CHOSEN, expect=2)
    assert "wrong password for rosa: the password was not changed" in wrong.stderr
    assert initialised.stored_rows() == rows
    changed = initialised.run_json(
        "password", "change", "--user", "rosa", "--password-stdin", stdin=f"{secret.group(1)}\n{CHOSEN}\n"
    )
    assert changed["resealed_keys"] == [found.group(1)] and changed["replaced_enrolment_secret"] is True
    _add(initialised, "rosa-third", by="rosa", by_password=CHOSEN)
    assert initialised.run_json("verify")["intact"] is True, "her signatures with the revoked key still verify"
    log = initialised.run_json("audit", "--security", "--user", "rosa")["security_log"]
    [row] = [entry for entry in log if entry["action"] == "staff_reenrolled"]
    assert (row["actor"], row["subject"], row["detail"]["reason"]) == ("admin", "rosa", REASON)
    assert row["detail"]["revoked_keys"] == [found.group(2)]
    assert secret.group(1) not in str(log)


def test_refusals_name_the_field_and_the_rule_and_store_nothing(initialised: Custody) -> None:
    _enrolled(initialised, "sara")
    _enrolled(initialised, "noah", role="nurse")
    rows = initialised.stored_rows()
    cases = [
        (("nobody", "--reason", REASON), "", "[field: username; rule: staff_not_registered]"),
        (("admin", "--reason", REASON), "", "[field: username; rule: reenrol_self]"),
        (("sara", "--reason", REASON, "--by", "noah"), OWN, "[field: --by; rule: admin_only]"),
        (("sara", "--reason", " "), "", "[field: reason; rule: required]"),
        (("sara",), "", "the following arguments are required: --reason"),
        (("sara", "--reason", REASON, "--password", "x-y-z"), "", "unrecognized arguments: --password x-y-z"),
    ]
    for args, by_password, expected in cases:
        refused = _reenrol(initialised, *args, by_password=by_password, expect=2)
        assert expected in refused.stderr, (args, refused.stderr)
    assert initialised.stored_rows() == rows
    _add(initialised, "sara-first", by="sara", by_password=OWN)


def test_a_locked_person_is_unlocked_by_the_reenrolment_and_it_says_so(initialised: Custody) -> None:
    _enrolled(initialised, "tess")
    for _ in range(5):
        _add(initialised, "tess-first", by="tess", by_password="a-wrong-guess-1", expect=2)
    locked = _add(initialised, "tess-first", by="tess", by_password=OWN, expect=2)
    assert "locked" in locked.stderr

    done = initialised.run_json(
        "staff", "reenrol", "tess", "--reason", REASON,
        CUSTODY_PASSWORD=initialised.admin_password(), CUSTODY_NEW_PASSWORD="tess-second-secret",
    )  # fmt: skip

    assert done["signing_lock_lifted"]["consecutive_failures"] == 5
    assert "enrolment_secret" not in done, "a secret the administrator typed is not printed back"
    log = initialised.run_json("audit", "--security", "--user", "tess")["security_log"]
    unlocked = [entry for entry in log if entry["action"] == "signing_unlocked"]
    assert [(entry["actor"], entry["detail"]["reason"]) for entry in unlocked] == [("admin", f"re-enrolment: {REASON}")]
    _change(initialised, "tess", "tess-second-secret", CHOSEN)
    _add(initialised, "tess-second", by="tess", by_password=CHOSEN)
