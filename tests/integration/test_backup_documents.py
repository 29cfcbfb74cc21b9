"""Backups carry the documents: a restored ledger verifies intact with its documents readable, on both backends.

The oracle for a document member is written here from the bytes themselves (its name and
digest are the SHA-256 of PDF for a plain document); for a sealed consent form, the size
the sealed form must have is written out by hand (5-byte magic, 12-byte nonce, the
plaintext, 16-byte tag).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.document_ref import DocumentKind
from ledger.backup import backup
from ledger.backup_archive import ArchiveRefused
from ledger.document_check import document_notes
from ledger.documents import DocumentState
from ledger.restore import restore
from ledger.service import CustodyLedger
from ledger.settings import Settings
from tests.integration.document_fixtures import PDF, add, enrolled_pathway, manufactured, qc_tests, reference
from tests.integration.journeys import IDENTITY, Recorder, team, verify

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
PDF_SHA = hashlib.sha256(PDF).hexdigest()
CONSENT = PDF + b"% consent form v3.1\n"
CONSENT_SHA = hashlib.sha256(CONSENT).hexdigest()
PSEUDONYM = "PSN-BAK-0001"


def qc_with_certificate(ledger: CustodyLedger) -> Recorder:
    rec = team(ledger)
    journey, qc_at = manufactured(rec, START)
    add(ledger, PDF, DocumentKind.CERTIFICATE_OF_ANALYSIS)
    rec(
        "qc", "QcResultsRecorded", journey.product, qc_at, "reviewed",
        tests=qc_tests(), document=reference(PDF, "application/pdf"),
    )  # fmt: skip
    return rec


def signed_consent(ledger: CustodyLedger, rec: Recorder) -> tuple[Any, Any]:
    """A consent form sealed with the patient's key and referenced by ConsentSigned; (pathway, event)."""
    pathway = enrolled_pathway(rec, PSEUDONYM, START - timedelta(days=10))
    ledger.identities.put(PSEUDONYM, IDENTITY, ledger.clock.now())
    add(ledger, CONSENT, DocumentKind.CONSENT_FORM, by="physician", patient=PSEUDONYM)
    [event] = rec(
        "physician", "ConsentSigned", pathway, START - timedelta(days=5), "witnessed",
        form_version="v3.1", signed_on=(START - timedelta(days=5)).date().isoformat(), document_ref="CF-1",
        document=reference(CONSENT, "application/pdf"),
    )  # fmt: skip
    return pathway, event


def document_members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as opened:
        found = {}
        for info in opened:
            if info.name.startswith("documents/"):
                handle = opened.extractfile(info)
                assert handle is not None
                found[info.name] = handle.read()
        return found


def test_a_restored_ledger_holds_its_documents_and_verifies_intact(
    ledger: CustodyLedger, backend: str, target: Settings, open_target: Callable[[], CustodyLedger], tmp_path: Path
) -> None:
    qc_with_certificate(ledger)
    archive = tmp_path / "backup.tar.gz"
    manifest = backup(ledger.settings, archive)
    member = f"documents/{PDF_SHA[:2]}/{PDF_SHA}"
    if backend == "sqlite":
        assert document_members(archive) == {member: PDF}
        assert manifest.members[member] == {"sha256": PDF_SHA, "bytes": len(PDF)}
    else:
        assert document_members(archive) == {}  # the bytea column is in the dump
        assert not any(name.startswith("documents/") for name in manifest.members)
    restore(target, archive)
    copy = open_target()
    assert verify(copy).failures == []
    assert copy.documents.content(PDF_SHA)[1] == PDF
    assert document_notes(copy.store) == []


def test_a_consent_form_is_restored_sealed_and_verify_notes_it_until_identity_kek_is_brought(
    ledger: CustodyLedger, backend: str, target: Settings, open_target: Callable[[], CustodyLedger], tmp_path: Path
) -> None:
    rec = qc_with_certificate(ledger)
    pathway, event = signed_consent(ledger, rec)
    archive = tmp_path / "backup.tar.gz"
    backup(ledger.settings, archive)
    if backend == "sqlite":
        sealed = document_members(archive)[f"documents/{CONSENT_SHA[:2]}/{CONSENT_SHA}"]
        assert len(sealed) == 5 + 12 + len(CONSENT) + 16 and CONSENT not in sealed
    restore(target, archive)
    copy = open_target()
    assert not (target.home / "identity.kek").exists()  # no backup carries it
    assert verify(copy).failures == []
    [note] = document_notes(copy.store)
    assert (note.aggregate_id, note.version, note.state) == (str(pathway), event.version, DocumentState.NOT_CHECKABLE)
    assert copy.documents.content(PDF_SHA)[1] == PDF  # the rest is checked and readable all the same
    shutil.copy(ledger.settings.home / "identity.kek", target.home / "identity.kek")
    assert document_notes(copy.store) == []
    assert copy.documents.content(CONSENT_SHA)[1] == CONSENT
    assert verify(copy).failures == []


def rewritten(
    source: Path, destination: Path, member: str, change: Callable[[bytes], bytes], *, manifest: bool
) -> None:
    """Copy the archive with ``member``'s bytes changed and, when ``manifest``, its digest in the manifest to match."""
    with tarfile.open(source) as archive, tarfile.open(destination, "w:gz") as out:
        contents = {}
        infos = []
        for info in archive:
            handle = archive.extractfile(info)
            assert handle is not None
            contents[info.name] = handle.read()
            infos.append(info)
        contents[member] = change(contents[member])
        if manifest:
            document = json.loads(contents["manifest.json"])
            document["members"][member] = {
                "sha256": hashlib.sha256(contents[member]).hexdigest(),
                "bytes": len(contents[member]),
            }
            contents["manifest.json"] = json.dumps(document).encode()
        for info in infos:
            info.size = len(contents[info.name])
            out.addfile(info, io.BytesIO(contents[info.name]))


@pytest.mark.parametrize(
    ("document", "change", "manifest", "rule"),
    [
        ("plain", lambda data: data + b"%", False, "member_digest_mismatch"),
        ("plain", lambda data: data + b"%", True, "document_hash_mismatch"),
        ("sealed", lambda data: data[:-1], True, "document_hash_mismatch"),
        ("sealed", lambda data: b"XDOC1" + data[5:], True, "document_hash_mismatch"),
    ],
)
def test_a_tampered_document_member_is_refused_and_nothing_restored(
    ledger: CustodyLedger,
    backend: str,
    target: Settings,
    tmp_path: Path,
    document: str,
    change: Callable[[bytes], bytes],
    manifest: bool,
    rule: str,
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite only, including in CI: PostgreSQL keeps documents in its dump")
    rec = qc_with_certificate(ledger)
    signed_consent(ledger, rec)
    genuine = tmp_path / "backup.tar.gz"
    backup(ledger.settings, genuine)
    sha = PDF_SHA if document == "plain" else CONSENT_SHA
    member = f"documents/{sha[:2]}/{sha}"
    forged = tmp_path / "forged.tar.gz"
    rewritten(genuine, forged, member, change, manifest=manifest)
    with pytest.raises(ArchiveRefused) as caught:
        restore(target, forged)
    assert (caught.value.rule, caught.value.field) == (rule, member)
    assert not target.sqlite_path.exists()
    assert not (target.home / "documents").exists()
    assert sorted(path.name for path in target.home.iterdir()) == ["master.key"]


@pytest.mark.parametrize(
    "name", ["documents/../../escape", "documents/ab/" + "cd" * 32, "documents/" + PDF_SHA, "extra/file"]
)
def test_a_member_not_named_as_a_document_is_refused(
    ledger: CustodyLedger, backend: str, target: Settings, tmp_path: Path, name: str
) -> None:
    qc_with_certificate(ledger)
    genuine = tmp_path / "backup.tar.gz"
    backup(ledger.settings, genuine)
    forged = tmp_path / "forged.tar.gz"
    with tarfile.open(genuine) as archive, tarfile.open(forged, "w:gz") as out:
        for info in archive:
            handle = archive.extractfile(info)
            assert handle is not None
            data = handle.read()
            if info.name == "manifest.json":
                document = json.loads(data)
                document["members"][name] = {"sha256": hashlib.sha256(b"x").hexdigest(), "bytes": 1}
                data = json.dumps(document).encode()
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
        extra = tarfile.TarInfo(name)
        extra.size = 1
        out.addfile(extra, io.BytesIO(b"x"))
    with pytest.raises(ArchiveRefused) as caught:
        restore(target, forged)
    assert caught.value.rule == "unexpected_member"
    assert not (target.home / "documents").exists()


def test_a_document_file_gone_from_the_source_is_left_out_and_named_missing_after_restore(
    ledger: CustodyLedger, backend: str, target: Settings, open_target: Callable[[], CustodyLedger], tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite layout only, on every run including CI: PostgreSQL has no document files")
    qc_with_certificate(ledger)
    ledger.documents.path_of(PDF_SHA).unlink()
    archive = tmp_path / "backup.tar.gz"
    backup(ledger.settings, archive)
    assert document_members(archive) == {}
    restore(target, archive)
    assert {failure.reason for failure in verify(open_target()).failures} == {"missing_document"}
