"""Backup and restore on both backends, and the hold that keeps a restored store from forking the ledger.

The oracle for "what the store holds" is the Dba's direct SQL on the event table, and
the root a backup should describe is recomputed here from those rows.
"""

from __future__ import annotations

import base64
import io
import json
import stat
import tarfile
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from ledger.backup import backup
from ledger.backup_archive import ArchiveRefused
from ledger.keys import KeyPair
from ledger.merkle import event_leaf, root
from ledger.merkle_log import checkpoint
from ledger.pg_tools import ToolMissing, find_tool, renamed_dump
from ledger.restore import TargetNotEmpty, restore
from ledger.restore_hold import ForkRefused, RestoredStoreHeld, accept_fork, release_with_checkpoint, restores
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import register_staff
from ledger.signed_note import Checkpoint, checkpoint_body, sign_note
from ledger.trust_anchor import home_trust_anchor
from ledger.verifier import VerifyOptions, verify_store
from tests.conftest import postgres_url
from tests.integration.journeys import Dba, Row

FROZEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


class FixedClock:
    """The ledger's clock, stopped at one instant."""

    def now(self) -> datetime:
        return FROZEN


def stored_rows(settings: Settings) -> list[Row]:
    """Every event row, read with plain SQL (the oracle)."""
    session = Dba(settings)
    try:
        return session.rows()
    finally:
        session.close()


def root_of(rows: list[Row]) -> str:
    """The RFC 9162 root of these rows, as the manifest writes it."""
    return base64.b64encode(root([event_leaf(row.state) for row in rows])).decode()


STAFF_EVENTS_PER_PERSON = 3
"""StaffMemberRegistered, SigningKeyRegistered and the PrintedNameClaimed signed with them."""


def add_staff(ledger: CustodyLedger, count: int = 1) -> None:
    """Record ``count`` new people (each three signed events: person, key, printed name), signed by the ledger."""
    for _ in range(count):
        name = f"p{uuid.uuid4().hex[:10]}"
        register_staff(ledger, name, f"Extra Person {name}", "nurse", "extra-password", registrar="ledger")


def verify_against(ledger: CustodyLedger, *notes: Checkpoint) -> set[str]:
    options = VerifyOptions(
        trusted=home_trust_anchor(ledger.settings.home), ledger_id=ledger.meta.ledger_id(), against=notes
    )
    return {failure.reason for failure in verify_store(ledger.store, options).failures}


def rewrite_archive(source: Path, destination: Path, change: Callable[[str, bytes], bytes]) -> None:
    """Copy an archive member by member, passing each through ``change``."""
    with tarfile.open(source) as archive, tarfile.open(destination, "w:gz") as out:
        for info in archive:
            handle = archive.extractfile(info)
            assert handle is not None
            data = change(info.name, handle.read())
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as archive:
        found = {}
        for info in archive:
            handle = archive.extractfile(info)
            assert handle is not None
            found[info.name] = handle.read()
        return found


def target_is_empty(target: Settings) -> bool:
    if target.backend == "sqlite":
        return not target.sqlite_path.exists()
    schema = target.database_url.split("schema=")[-1] if target.database_url else ""
    with psycopg.connect(postgres_url()) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchone()
    return row == (0,)


# -- backup -------------------------------------------------------------------------------------------------


def test_a_backup_describes_the_copy_it_holds_and_is_readable_by_its_owner_only(
    ledger: CustodyLedger, settings: Settings, tmp_path: Path
) -> None:
    add_staff(ledger)
    made = checkpoint(ledger)
    add_staff(ledger)
    rows = stored_rows(settings)
    archive = tmp_path / "ledger.backup"

    manifest = backup(settings, archive, clock=FixedClock())

    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert (manifest.backend, manifest.ledger_id) == (settings.backend, ledger.meta.ledger_id())
    assert (manifest.log_size, manifest.merkle_root) == (len(rows), root_of(rows))
    assert manifest.latest_checkpoint == made.note
    assert manifest.created_at == "2026-03-01T09:30:00.000000Z"
    inside = members(archive)
    assert json.loads(inside["manifest.json"])["format"] == "custody-ledger/backup/v1"
    assert inside["ledger.pub"] == (settings.home / "ledger.pub").read_bytes()


def test_a_backup_never_contains_the_master_key(ledger: CustodyLedger, settings: Settings, tmp_path: Path) -> None:
    archive = tmp_path / "ledger.backup"
    backup(settings, archive)
    secret = (settings.home / "master.key").read_bytes()

    assert secret not in archive.read_bytes()
    assert all(secret not in data and "master.key" not in name for name, data in members(archive).items())


def test_a_backup_never_overwrites_an_existing_file(ledger: CustodyLedger, settings: Settings, tmp_path: Path) -> None:
    archive = tmp_path / "ledger.backup"
    archive.write_bytes(b"an earlier backup")

    with pytest.raises(Exception) as refused:
        backup(settings, archive)

    assert getattr(refused.value, "rule", None) == "output_exists"
    assert archive.read_bytes() == b"an earlier backup"


def test_a_backup_taken_while_events_are_being_recorded_is_one_consistent_moment(
    ledger: CustodyLedger,
    settings: Settings,
    target: Settings,
    tmp_path: Path,
    open_target: Callable[[], CustodyLedger],
) -> None:
    before = len(stored_rows(settings))
    stop = threading.Event()
    writer = CustodyLedger(settings)

    def keep_recording() -> None:
        while not stop.is_set():
            add_staff(writer)

    thread = threading.Thread(target=keep_recording)
    thread.start()
    try:
        while len(stored_rows(settings)) < before + 4:
            stop.wait(0.01)
        manifest = backup(settings, tmp_path / "busy.backup")
    finally:
        stop.set()
        thread.join()
        writer.close()
    rows = stored_rows(settings)

    assert before < manifest.log_size <= len(rows)
    assert manifest.merkle_root == root_of(rows[: manifest.log_size])
    restore(target, tmp_path / "busy.backup")
    restored = open_target()
    assert verify_against(restored) == set()
    assert [row.state for row in stored_rows(target)] == [row.state for row in rows[: manifest.log_size]]


def test_without_pg_dump_anywhere_the_tool_is_named_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ledger.pg_tools.shutil.which", lambda name: None)
    monkeypatch.setattr("ledger.pg_tools.glob.glob", lambda pattern: [])

    with pytest.raises(ToolMissing, match="pg_dump was not found on PATH nor under /usr/lib/postgresql"):
        find_tool("pg_dump")


def test_a_dump_is_renamed_into_the_target_schema_but_copied_rows_are_left_byte_for_byte() -> None:
    dump = [
        "CREATE SCHEMA src;\n",
        "CREATE TABLE src.custody_events (state bytea);\n",
        "COPY src.custody_events (state) FROM stdin;\n",
        "src.custody_events is text inside a row\n",
        "\\.\n",
        "GRANT USAGE ON SCHEMA src TO custody_writer;\n",
        "SELECT pg_catalog.setval('src.custody_events_notification_id_seq', 4, true);\n",
    ]

    assert list(renamed_dump(dump, "src", "dst")) == [
        "CREATE TABLE dst.custody_events (state bytea);\n",
        "COPY dst.custody_events (state) FROM stdin;\n",
        "src.custody_events is text inside a row\n",
        "\\.\n",
        "GRANT USAGE ON SCHEMA dst TO custody_writer;\n",
        "SELECT pg_catalog.setval('dst.custody_events_notification_id_seq', 4, true);\n",
    ]


# -- restore ------------------------------------------------------------------------------------------------


def test_a_restored_store_holds_the_same_rows_and_verifies_also_against_an_earlier_checkpoint(
    ledger: CustodyLedger,
    settings: Settings,
    target: Settings,
    tmp_path: Path,
    open_target: Callable[[], CustodyLedger],
) -> None:
    add_staff(ledger)
    earlier = checkpoint(ledger)
    add_staff(ledger)
    backup(settings, tmp_path / "ledger.backup")

    report = restore(target, tmp_path / "ledger.backup")

    restored = open_target()
    assert [row.state for row in stored_rows(target)] == [row.state for row in stored_rows(settings)]
    assert report.restored_size == len(stored_rows(settings))
    assert report.master_key == "unlocks"
    assert (target.home / "ledger.pub").read_bytes() == (settings.home / "ledger.pub").read_bytes()
    assert verify_against(restored, earlier) == set()


def test_restoring_into_a_store_that_holds_a_ledger_is_refused_and_changes_nothing(
    ledger: CustodyLedger, settings: Settings, tmp_path: Path
) -> None:
    backup(settings, tmp_path / "ledger.backup")
    add_staff(ledger)
    rows = stored_rows(settings)

    with pytest.raises(TargetNotEmpty) as refused:
        restore(settings, tmp_path / "ledger.backup")

    assert refused.value.rule == "target_not_empty"
    assert stored_rows(settings) == rows
    assert restores(ledger.store) == []


def test_an_archive_with_one_altered_byte_in_a_member_is_refused_before_anything_is_written(
    ledger: CustodyLedger, settings: Settings, target: Settings, tmp_path: Path
) -> None:
    backup(settings, tmp_path / "ledger.backup")

    def flip_last_byte(name: str, data: bytes) -> bytes:
        return data[:-1] + bytes([data[-1] ^ 1]) if name.startswith("database/") else data

    rewrite_archive(tmp_path / "ledger.backup", tmp_path / "altered.backup", flip_last_byte)

    with pytest.raises(ArchiveRefused) as refused:
        restore(target, tmp_path / "altered.backup")

    assert (refused.value.rule, refused.value.field) == ("member_digest_mismatch", f"database/{_db_name(settings)}")
    assert target_is_empty(target)
    assert not (target.home / "ledger.pub").exists()


def test_a_backup_of_the_other_backend_is_refused_by_name(
    ledger: CustodyLedger, settings: Settings, target: Settings, tmp_path: Path
) -> None:
    backup(settings, tmp_path / "ledger.backup")
    other = "postgresql" if settings.backend == "sqlite" else "sqlite"

    def relabel(name: str, data: bytes) -> bytes:
        return json.dumps({**json.loads(data), "backend": other}).encode() if name == "manifest.json" else data

    rewrite_archive(tmp_path / "ledger.backup", tmp_path / "relabelled.backup", relabel)

    with pytest.raises(
        ArchiveRefused, match=f"this is a {other} backup and the configured store is {settings.backend}"
    ):
        restore(target, tmp_path / "relabelled.backup")
    assert target_is_empty(target)


def _db_name(settings: Settings) -> str:
    return "custody.sqlite3" if settings.backend == "sqlite" else "custody.sql"


# -- the hold after a restore -------------------------------------------------------------------------------


@pytest.fixture
def behind(
    ledger: CustodyLedger,
    settings: Settings,
    target: Settings,
    tmp_path: Path,
    open_target: Callable[[], CustodyLedger],
) -> tuple[CustodyLedger, Checkpoint, Checkpoint, Checkpoint]:
    """A store restored from a backup the ledger has since moved beyond.

    Returns the restored ledger, a checkpoint older than the backup's last one, the backup's
    last one (below the backup's size), and one the ledger published after the backup.
    """
    add_staff(ledger)
    oldest = checkpoint(ledger)
    add_staff(ledger)
    within = checkpoint(ledger)
    add_staff(ledger)
    backup(settings, tmp_path / "ledger.backup")
    add_staff(ledger, 2)
    later = checkpoint(ledger)
    restore(target, tmp_path / "ledger.backup")
    return open_target(), oldest, within, later


def test_a_restored_store_behind_a_published_checkpoint_verifies_up_to_its_size_only(
    behind: tuple[CustodyLedger, Checkpoint, Checkpoint, Checkpoint],
) -> None:
    restored, oldest, within, later = behind

    assert verify_against(restored, oldest, within) == set()
    assert verify_against(restored, later) == {"truncated_log"}


def test_while_held_a_write_is_refused_and_the_ledger_is_unchanged(
    behind: tuple[CustodyLedger, Checkpoint, Checkpoint, Checkpoint], target: Settings
) -> None:
    restored = behind[0]
    rows = stored_rows(target)

    with pytest.raises(RestoredStoreHeld) as refused:
        add_staff(restored)

    assert refused.value.rule == "restored_store_held"
    assert "custody restore acknowledge" in refused.value.message
    assert stored_rows(target) == rows


def test_while_held_no_new_checkpoint_is_signed(
    behind: tuple[CustodyLedger, Checkpoint, Checkpoint, Checkpoint], target: Settings
) -> None:
    restored, _, within, _ = behind

    with pytest.raises(RestoredStoreHeld):
        checkpoint(restored)

    assert [cp.size for cp in restored_checkpoints(restored)][-1] == within.size


def restored_checkpoints(ledger: CustodyLedger) -> list[Checkpoint]:
    from ledger.verifier import stored_checkpoints

    return stored_checkpoints(ledger.store)


def release(ledger: CustodyLedger, cp: Checkpoint | str) -> int:
    note = cp if isinstance(cp, str) else cp.note
    keys = sorted(home_trust_anchor(ledger.settings.home) or set())
    origin = f"custody-ledger/{ledger.meta.ledger_id()}"
    return release_with_checkpoint(ledger.store, note, origin=origin, ledger_keys=keys, by="admin", now=FROZEN)


def test_a_published_checkpoint_beyond_the_restored_log_does_not_release_the_hold(
    behind: tuple[CustodyLedger, Checkpoint, Checkpoint, Checkpoint],
) -> None:
    restored, _, _, later = behind

    with pytest.raises(ForkRefused) as refused:
        release(restored, later)

    assert (refused.value.rule, refused.value.field) == ("restored_store_behind", "--latest-checkpoint")
    assert [row.held for row in restores(restored.store)] == [True]
    with pytest.raises(RestoredStoreHeld):
        add_staff(restored)


def test_a_checkpoint_older_than_one_the_backup_holds_is_not_taken_as_the_latest(
    behind: tuple[CustodyLedger, Checkpoint, Checkpoint, Checkpoint],
) -> None:
    restored, oldest, _, _ = behind

    with pytest.raises(ForkRefused) as refused:
        release(restored, oldest)

    assert refused.value.rule == "checkpoint_not_latest"
    assert [row.held for row in restores(restored.store)] == [True]


def test_a_checkpoint_not_signed_by_the_ledger_does_not_release_the_hold(
    behind: tuple[CustodyLedger, Checkpoint, Checkpoint, Checkpoint],
) -> None:
    restored, _, within, _ = behind
    forged = sign_note(checkpoint_body(within.origin, within.size, within.root), within.origin, KeyPair.generate())

    with pytest.raises(ForkRefused) as refused:
        release(restored, forged)

    assert refused.value.rule == "bad_checkpoint_signature"
    assert [row.held for row in restores(restored.store)] == [True]


def test_the_latest_checkpoint_within_the_restored_log_releases_the_hold_and_writes_resume(
    behind: tuple[CustodyLedger, Checkpoint, Checkpoint, Checkpoint], target: Settings
) -> None:
    restored, _, within, _ = behind

    assert release(restored, within) == 1

    [row] = restores(restored.store)
    assert (row.held, row.release_kind, row.released_by, row.release_checkpoint) == (
        False,
        "checkpoint",
        "admin",
        within.note,
    )
    before = len(stored_rows(target))
    add_staff(restored)
    assert len(stored_rows(target)) == before + STAFF_EVENTS_PER_PERSON
    assert checkpoint(restored).size == before + STAFF_EVENTS_PER_PERSON + 1  # and the ledger's heads commitment
    assert verify_against(restored, within) == set()


def test_accepting_the_fork_needs_a_reason(behind: tuple[CustodyLedger, Checkpoint, Checkpoint, Checkpoint]) -> None:
    restored = behind[0]

    with pytest.raises(Exception) as refused:
        accept_fork(restored.store, by="admin", reason="  ok ", now=FROZEN)

    assert (getattr(refused.value, "rule", None), getattr(refused.value, "field", None)) == (
        "reason_required",
        "--reason",
    )
    assert [row.held for row in restores(restored.store)] == [True]


def test_an_accepted_fork_releases_the_hold_and_is_recorded_with_who_when_why_and_the_restored_size(
    behind: tuple[CustodyLedger, Checkpoint, Checkpoint, Checkpoint], target: Settings
) -> None:
    restored = behind[0]
    size = len(stored_rows(target))

    assert accept_fork(restored.store, by="admin", reason="primary site lost; no later checkpoint", now=FROZEN) == 1

    [row] = restores(restored.store)
    assert (row.held, row.release_kind, row.released_by, row.released_at, row.release_reason, row.restored_size) == (
        False,
        "accept_fork",
        "admin",
        "2026-03-01T09:30:00.000000Z",
        "primary site lost; no later checkpoint",
        size,
    )
    add_staff(restored)
    assert len(stored_rows(target)) == size + STAFF_EVENTS_PER_PERSON
