"""ledger.pub: the keys every verifier trusts, and the refusal of a file that is not one."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from api.cli_commands import trust_option
from domain.errors import InvalidInput
from ledger.trust_anchor import LEDGER_PUBLIC_KEY_FILE, home_trust_anchor, read_trust_anchor


def test_every_line_is_one_key(tmp_path: Path) -> None:
    keys = {bytes([n]) * 32 for n in (1, 2)}
    path = tmp_path / LEDGER_PUBLIC_KEY_FILE
    path.write_text("".join(base64.b64encode(key).decode() + "\n" for key in keys))
    assert read_trust_anchor(path) == keys
    assert home_trust_anchor(tmp_path) == keys


def test_no_file_in_the_home_means_no_anchor(tmp_path: Path) -> None:
    assert home_trust_anchor(tmp_path) is None


@pytest.mark.parametrize("content", [None, "not base64 at all!\n"])
def test_a_missing_or_garbled_trust_file_is_refused_naming_the_option(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "given.pub"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InvalidInput) as refused:
        trust_option(str(path))
    assert (refused.value.field, refused.value.rule) == ("--trust", "unreadable_key")
