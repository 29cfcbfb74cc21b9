"""CUSTODY_WITNESSES is read at start-up: a witness entry that could never be used is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.errors import InvalidInput
from ledger.keys import KeyPair
from ledger.settings import load_settings, witness_entries
from ledger.witness import WitnessKey


def key_file(tmp_path: Path, name: str = "witness.test/w1") -> tuple[Path, WitnessKey]:
    key = WitnessKey(name, KeyPair.generate().public_key)
    path = tmp_path / f"{name.replace('/', '_')}.vkey"
    path.write_text(key.vkey() + "\n", encoding="ascii")
    return path, key


def test_two_witnesses_are_read_as_url_and_verifier_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, first_key = key_file(tmp_path, "witness.test/w1")
    second, second_key = key_file(tmp_path, "witness.test/w2")
    monkeypatch.setenv("CUSTODY_WITNESSES", f"http://127.0.0.1:8101={first}; https://w2.example={second}")

    settings = load_settings()

    assert witness_entries(settings.witnesses) == [
        ("http://127.0.0.1:8101", first_key),
        ("https://w2.example", second_key),
    ]


def test_no_witness_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUSTODY_WITNESSES", raising=False)
    assert witness_entries(load_settings().witnesses) == []


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("http://127.0.0.1:8101", "is not URL=KEYFILE"),
        ("ftp://127.0.0.1={key}", "is not URL=KEYFILE"),
        ("http://127.0.0.1={missing}", "cannot be read"),
        ("http://127.0.0.1={garbled}", "witness key file"),
        ("http://127.0.0.1={key};http://127.0.0.2={key}", "configured twice"),
    ],
)
def test_an_unusable_witness_entry_is_refused_at_start_up_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, says: str
) -> None:
    key, _ = key_file(tmp_path)
    garbled = tmp_path / "garbled.vkey"
    garbled.write_text("witness.test/w1+00000000+AAAA\n", encoding="ascii")
    monkeypatch.setenv("CUSTODY_WITNESSES", value.format(key=key, missing=tmp_path / "absent.vkey", garbled=garbled))

    with pytest.raises(InvalidInput) as refused:
        load_settings()

    assert (refused.value.field, refused.value.rule) == ("CUSTODY_WITNESSES", "invalid_setting")
    assert says in str(refused.value)
