"""Storage faults on the command line: exit 3 with the rule and a message to act on, never a traceback.

`custody verify` only reads, so it verifies a read-only store; a write there is
refused as ``storage_read_only``; an unreachable database is exit 3
``database_unavailable`` — never exit 1, which means "verification failed".
"""

from __future__ import annotations

from pathlib import Path

from ledger.settings import Settings
from tests.api.test_storage_faults import read_only
from tests.e2e.conftest import Custody


def _settings(custody: Custody) -> Settings:
    return Settings(home=custody.home, database_url=custody.database_url)


def test_on_a_read_only_store_verify_succeeds_and_a_write_exits_3_storage_read_only(empty_ledger: Custody) -> None:
    empty_ledger.run("init")
    before = empty_ledger.stored_rows()
    with read_only(_settings(empty_ledger)) as restricted:
        url: dict[str, str] = {"CUSTODY_DATABASE_URL": restricted.database_url} if restricted.database_url else {}
        verified = empty_ledger.run_json("verify", stdin=None, expect=0, **url)
        assert verified["intact"] is True
        refused = empty_ledger.run("checkpoint", expect=3, **url)
        assert "[rule: storage_read_only]" in refused.stderr
        assert "Traceback" not in refused.stderr
        as_json = empty_ledger.run_json("checkpoint", expect=3, **url)
        assert as_json["rule"] == "storage_read_only"
        assert "nothing was stored" in as_json["message"]
    assert empty_ledger.stored_rows() == before


def test_verify_on_an_unreachable_database_exits_3_database_unavailable_not_1(tmp_path: Path) -> None:
    custody = Custody("postgresql", tmp_path / "home", schema="absent")
    result = custody.run_json(
        "verify", expect=3, CUSTODY_DATABASE_URL="postgresql://postgres@127.0.0.1:1/test?schema=absent"
    )
    assert result["rule"] == "database_unavailable"


def test_an_sqlite_file_that_cannot_be_opened_exits_3_database_unavailable(tmp_path: Path) -> None:
    custody = Custody("sqlite", tmp_path / "home")
    custody.sqlite_path.mkdir(parents=True)  # a directory where the database file should be
    result = custody.run("verify", expect=3)
    assert "[rule: database_unavailable]" in result.stderr
    assert "Traceback" not in result.stderr
