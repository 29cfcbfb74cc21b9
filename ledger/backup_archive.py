"""The backup archive: one gzip'd tar holding a manifest, the trust anchor, the database copy and, on
SQLite, the document files (``documents/<2 hex>/<sha256>``, the store's own layout; ledger/backup_documents.py).

``manifest.json`` comes first and names every other member with its SHA-256, so a
restore can check each byte before it touches a store. It also records what the
copy holds (ledger id, log size, Merkle root, latest checkpoint) so a restore can
confirm the copy is the one described. The master secret is never a member: a
backup file travels and is stored where ``master.key`` must not be.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from domain.errors import InvalidInput, RuleViolation

FORMAT = "custody-ledger/backup/v1"
MANIFEST = "manifest.json"
TRUST_ANCHOR = "ledger.pub"
DATABASE_MEMBER = {"sqlite": "database/custody.sqlite3", "postgresql": "database/custody.sql"}
DOCUMENTS = "documents"
DOCUMENT_MEMBER = re.compile(r"documents/([0-9a-f]{2})/(\1[0-9a-f]{62})")
"""A document file's member name: the SQLite layout under CUSTODY_HOME (PostgreSQL keeps them in its dump)."""
CHUNK = 1 << 20


class ArchiveRefused(RuleViolation):
    """The archive cannot be restored: unreadable, incomplete, altered, or for another backend."""

    rule = "archive_refused"


@dataclass(frozen=True)
class Manifest:
    """What a backup holds, and the digest of each member."""

    backend: str
    ledger_id: str
    log_size: int
    merkle_root: str
    latest_checkpoint: str | None
    created_at: str
    schema: str | None
    members: dict[str, dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """The manifest document, with its format version first."""
        return {"format": FORMAT, **self.__dict__}

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """Read a manifest, refusing an unknown format or a missing field by name."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, dict) else None
            raise ArchiveRefused(
                f"{MANIFEST} is not a {FORMAT} manifest (format {found!r})", field=MANIFEST, rule="unknown_format"
            )
        try:
            return cls(
                backend=str(data["backend"]),
                ledger_id=str(data["ledger_id"]),
                log_size=int(data["log_size"]),
                merkle_root=str(data["merkle_root"]),
                latest_checkpoint=None if data["latest_checkpoint"] is None else str(data["latest_checkpoint"]),
                created_at=str(data["created_at"]),
                schema=None if data.get("schema") is None else str(data["schema"]),
                members={str(name): dict(entry) for name, entry in dict(data["members"]).items()},
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ArchiveRefused(
                f"{MANIFEST} lacks or garbles a field: {error}", field=MANIFEST, rule="malformed_manifest"
            ) from None


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file, read in chunks (database copies can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def member_entry(path: Path) -> dict[str, Any]:
    """A manifest entry: digest and size."""
    return {"sha256": sha256_file(path), "bytes": path.stat().st_size}


def write_archive(output: Path, manifest: Manifest, files: dict[str, Path], mtime: float) -> None:
    """Write the archive at ``output`` (mode 0600), all or nothing, never over an existing file.

    It is written under a temporary name in the same directory and linked into place,
    so a reader never sees half an archive and an earlier backup is never overwritten.
    """
    if output.exists():
        raise InvalidInput(f"{output} already exists: choose a new file name", field="--output", rule="output_exists")
    partial = output.with_name(f".{output.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            _add_bytes(archive, MANIFEST, json.dumps(manifest.to_json(), indent=1).encode() + b"\n", mtime)
            for name, path in files.items():
                info = archive.gettarinfo(str(path), arcname=name)
                info.mode, info.uid, info.gid, info.uname, info.gname, info.mtime = 0o600, 0, 0, "", "", mtime
                with path.open("rb") as handle:
                    archive.addfile(info, handle)
            raw.flush()
            os.fsync(raw.fileno())
        try:
            os.link(partial, output)
        except FileExistsError:
            raise InvalidInput(
                f"{output} appeared while the backup was written: choose a new file name",
                field="--output",
                rule="output_exists",
            ) from None
    finally:
        partial.unlink(missing_ok=True)


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, mtime
    archive.addfile(info, io.BytesIO(data))


def unpack_checked(path: Path, into: Path, backend: str) -> Manifest:
    """Read the archive's members into ``into``, checking each digest against the manifest and the backend.

    Members are written under names chosen here (never the archive's paths), so an
    archive cannot write outside ``into``. Nothing is restored if anything is amiss.
    """
    try:
        with tarfile.open(path, mode="r:*") as archive:
            manifest = _read_manifest(archive)
            if manifest.backend != backend:
                raise ArchiveRefused(
                    f"this is a {manifest.backend} backup and the configured store is {backend}: a backup restores "
                    "only into the backend it was taken from",
                    field="backend",
                    rule="backend_mismatch",
                )
            expected = {TRUST_ANCHOR, DATABASE_MEMBER[backend]} | _document_members(manifest, backend)
            if set(manifest.members) != expected:
                raise ArchiveRefused(
                    f"the manifest lists {sorted(manifest.members)}, expected {sorted(expected)}",
                    field=MANIFEST,
                    rule="unexpected_member",
                )
            seen = set()
            for info in archive:
                if info.name == MANIFEST:
                    continue
                if info.name not in expected or not info.isfile() or info.name in seen:
                    raise ArchiveRefused(
                        f"the archive holds an unexpected member {info.name!r}",
                        field=info.name,
                        rule="unexpected_member",
                    )
                seen.add(info.name)
                _copy_checked(archive, info, _target(into, info.name), manifest.members[info.name])
    except (OSError, tarfile.TarError, EOFError) as error:
        raise ArchiveRefused(f"{path} is damaged: {error}", field="FILE", rule="unreadable_archive") from None
    missing = expected - seen
    if missing:
        raise ArchiveRefused(
            f"the archive lacks {', '.join(sorted(missing))}", field=sorted(missing)[0], rule="missing_member"
        )
    return manifest


def _document_members(manifest: Manifest, backend: str) -> set[str]:
    """The manifest's document members, each named as the store names a document; only a SQLite backup has any."""
    named = {name for name in manifest.members if name.startswith(DOCUMENTS + "/")}
    for name in sorted(named):
        if backend != "sqlite" or not DOCUMENT_MEMBER.fullmatch(name):
            raise ArchiveRefused(
                f"the manifest lists {name!r}, which is not a document of a {backend} backup "
                "(documents/<first two hex digits>/<sha256>, SQLite only)",
                field=name,
                rule="unexpected_member",
            )
    return named


def _target(into: Path, name: str) -> Path:
    """Where a checked member is unpacked: a name chosen here, never a path read from the archive."""
    found = DOCUMENT_MEMBER.fullmatch(name)
    if found is None:
        return into / Path(name).name
    folder = into / DOCUMENTS / found.group(1)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder / found.group(2)


def unpacked_documents(into: Path) -> dict[str, Path]:
    """The document files ``unpack_checked`` wrote under ``into``, by SHA-256."""
    folder = into / DOCUMENTS
    return {path.name: path for path in sorted(folder.glob("*/*"))} if folder.is_dir() else {}


def _read_manifest(archive: tarfile.TarFile) -> Manifest:
    first = archive.next()
    if first is None or first.name != MANIFEST or not first.isfile():
        raise ArchiveRefused(f"the archive does not start with {MANIFEST}", field=MANIFEST, rule="missing_member")
    handle = archive.extractfile(first)
    assert handle is not None
    try:
        data = json.loads(handle.read())
    except ValueError as error:
        raise ArchiveRefused(f"{MANIFEST} is not JSON: {error}", field=MANIFEST, rule="malformed_manifest") from None
    return Manifest.from_json(data)


def _copy_checked(archive: tarfile.TarFile, info: tarfile.TarInfo, target: Path, entry: dict[str, Any]) -> None:
    source: IO[bytes] | None = archive.extractfile(info)
    assert source is not None
    digest = hashlib.sha256()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != entry.get("sha256"):
        raise ArchiveRefused(
            f"{info.name} does not match the SHA-256 in the manifest: the archive was altered or damaged; "
            "nothing was restored",
            field=info.name,
            rule="member_digest_mismatch",
        )
