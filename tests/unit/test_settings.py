"""A bad CUSTODY_* variable is refused at start-up, naming the variable and the rule, never a traceback."""

from __future__ import annotations

import pytest

from api.cli import main
from domain.errors import InvalidInput
from ledger.settings import load_settings


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CUSTODY_TIMEZONE", "Mars/Olympus"),
        ("CUSTODY_TOKEN_MINUTES", "0"),
        ("CUSTODY_LOGIN_MAX_FAILURES", "0"),
        ("CUSTODY_LOGIN_LOCKOUT_MINUTES", "-5"),
        ("CUSTODY_SIGNING_MAX_FAILURES", "0"),
        ("CUSTODY_SIGNING_MAX_FAILURES", "five"),
        ("CUSTODY_SIGNING_MAX_FAILURES", "101"),
    ],
)
def test_a_bad_setting_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(InvalidInput) as refused:
        load_settings()
    assert (refused.value.field, refused.value.rule) == (variable, "invalid_setting")
    assert main(["verify"]) == 2
    assert f"field: {variable}; rule: invalid_setting" in capsys.readouterr().err


def test_good_settings_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTODY_TIMEZONE", "America/Cayenne")
    assert load_settings().timezone == "America/Cayenne"


def test_signing_lockout_limit_defaults_to_five_and_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CUSTODY_SIGNING_MAX_FAILURES", raising=False)
    assert load_settings().signing_max_failures == 5
    monkeypatch.setenv("CUSTODY_SIGNING_MAX_FAILURES", "3")
    assert load_settings().signing_max_failures == 3
