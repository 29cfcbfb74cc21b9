"""`custody password change` and the enrolment secret of `custody staff add`, as a real subprocess on each backend.

21 CFR Part 11 §11.300 (api/cli_password.py). One initialised ledger per backend for the module; each test
registers its own people. The person enrolled is an administrator, so the step they sign is the registration of
someone else (`custody staff add --by`): no product needed.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import BACKENDS, Custody, private_store

CHOSEN = "brume saumon quarante vélo"
Run = subprocess.CompletedProcess[str]


@pytest.fixture(scope="module", params=BACKENDS)
def initialised(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Custody]:
    """`custody init` only: the administrator and nobody else."""
    with private_store(request.param, tmp_path_factory.mktemp(f"password-{request.param}")) as custody:
        custody.run("init")
        yield custody


def _add(
    custody: Custody, username: str, *, by: str = "admin", by_password: str = "", expect: int = 0, **env: str
) -> Run:
    return custody.run(
        "staff", "add", username, "--name", f"{username.title()} B", "--role", "admin", "--by", by,
        CUSTODY_PASSWORD=by_password or custody.admin_password(), expect=expect, **env,
    )  # fmt: skip


def _change(custody: Custody, username: str, old: str, new: str, *, expect: int = 0) -> Run:
    return custody.run(
        "password", "change", "--user", username, "--password-stdin", stdin=f"{old}\n{new}\n", expect=expect
    )


def test_a_generated_enrolment_secret_is_printed_once_and_must_be_replaced_before_signing(
    initialised: Custody,
) -> None:
    added = _add(initialised, "bruno")
    found = re.search(r"enrolment secret for bruno \(shown once; hand it over in person\): (\S+)", added.stdout)
    assert found is not None, added.stdout
    secret = found.group(1)
    rows = initialised.stored_rows()

    refused = _add(initialised, "bruno-first", by="bruno", by_password=secret, expect=2)
    changed = initialised.run_json(
        "password", "change", "--user", "bruno", "--password-stdin", stdin=f"{secret}\n{CHOSEN}\n"
    )
    signed = _add(initialised, "bruno-second", by="bruno", by_password=CHOSEN, CUSTODY_NEW_PASSWORD="second-secret-1")

    assert "change your password first: custody password change --user bruno" in refused.stderr
    assert initialised.stored_rows() > rows  # the refusal stored nothing; the second registration did
    assert changed["username"] == "bruno" and changed["replaced_enrolment_secret"] is True
    [key_id] = changed["resealed_keys"]
    assert f"with key {key_id}" in added.stdout  # the key registered at enrolment is the one re-sealed
    assert "enrolment secret for" not in signed.stdout  # an administrator's own secret is not printed back
    assert "second-secret-1" not in signed.stdout + signed.stderr
    _add(initialised, "bruno-third", by="bruno", by_password=secret, expect=2)
    assert initialised.run_json("verify")["intact"] is True


def test_a_refusal_stores_nothing(initialised: Custody) -> None:
    _add(initialised, "dora", CUSTODY_NEW_PASSWORD="dora-enrolment-1")
    rows = initialised.stored_rows()

    _add(initialised, "dora-first", by="dora", by_password="dora-enrolment-1", expect=2)

    assert initialised.stored_rows() == rows


def test_a_password_breaking_the_policy_is_refused_naming_the_rule(initialised: Custody) -> None:
    _add(initialised, "chloe", CUSTODY_NEW_PASSWORD="chloe-enrolment-1")
    cases = [
        ("too-short-1", "password_too_short"),
        ("Chloe and her cat 2026", "password_contains_name"),
        ("password1234", "password_common"),
    ]
    for new, rule in cases:
        refused = _change(initialised, "chloe", "chloe-enrolment-1", new, expect=2)
        assert f"[field: new_password; rule: {rule}]" in refused.stderr, refused.stderr
    wrong = _change(initialised, "chloe", "not-her-secret-1", CHOSEN, expect=2)
    assert "wrong password for chloe: the password was not changed" in wrong.stderr
    still = _add(initialised, "chloe-first", by="chloe", by_password="chloe-enrolment-1", expect=2)
    assert "change your password first" in still.stderr


def test_no_password_can_be_given_on_the_command_line(initialised: Custody) -> None:
    unknown = initialised.run("password", "change", "--user", "admin", "--new-password", "x-y-z", expect=2)

    assert "unrecognized arguments: --new-password x-y-z" in unknown.stderr


def test_the_administrators_password_from_init_can_be_changed(initialised: Custody) -> None:
    old = initialised.admin_password()
    new = "granit hibou cerise 4711"

    _change(initialised, "admin", old, new)

    initialised.home.joinpath("admin-password.txt").write_text(new + "\n")  # later tests sign with the new one
    _add(initialised, "emma", CUSTODY_NEW_PASSWORD="emma-enrolment-1")
    _add(initialised, "emma-x", by_password=old, expect=2, CUSTODY_NEW_PASSWORD="emma-enrolment-2")
