"""Where the ledger's catalogue comes from: the latest signed ``CatalogueChanged``, never a file read silently.

CUSTODY_CATALOGUE_FILE is still the operator's working copy of the site's catalogue, but it
only takes effect once signed (`custody catalogue apply FILE --reason …`,
domain/catalogue_events.py). While the configured file differs from the signed catalogue
the ledger records nothing and `custody serve` does not start: a figure edited on disk
must not quietly judge the next thaw or release (EU GMP Annex 11 §10, change control).
The ledger reads the signed catalogue at every step, so a change signed by another process
is in force for the very next step; replaying it is cached by the catalogue's head.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from domain.catalogue import Catalogue
from domain.catalogue_events import CATALOGUE_ID, SiteCatalogue, catalogue_digest
from domain.errors import InvalidInput, RuleViolation
from ledger.settings import Settings
from ledger.store import EventStore

FILE_SETTING = "CUSTODY_CATALOGUE_FILE"


class CatalogueFileNotApplied(RuleViolation):
    """The configured catalogue file is not the catalogue signed in the ledger."""

    rule = "catalogue_file_not_applied"


def read_catalogue_file(path: Path, field: str = FILE_SETTING) -> dict[str, Any]:
    """A catalogue file's JSON object, refused with the file named when it cannot be read or is not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InvalidInput(f"catalogue file {path}: {error}", field=field, rule="catalogue_file_unreadable") from error
    if not isinstance(data, dict):
        raise InvalidInput(
            f"catalogue file {path} must hold a JSON object of product codes, got {type(data).__name__}",
            field=field,
            rule="catalogue_wrong_type",
        )
    return data


def replay_catalogue(store: EventStore) -> SiteCatalogue:
    """The catalogue aggregate from its signed history (empty when nothing was ever signed: the defaults)."""
    return SiteCatalogue.replay(CATALOGUE_ID, (envelope.to_record() for envelope in store.history(CATALOGUE_ID)))


class SignedCatalogues:
    """The catalogue in force for one ledger, and the check that the configured file is the signed one."""

    def __init__(self, store: EventStore, settings: Settings) -> None:
        self.store = store
        self.file = settings.catalogue_file
        self._head: tuple[int, str | None] = (-1, None)
        self._aggregate = SiteCatalogue(CATALOGUE_ID)
        self._catalogue = Catalogue.default()
        self._file_stamp: tuple[int, int] | None = None
        self._file_digest = ""

    def aggregate(self) -> SiteCatalogue:
        """The signed catalogue and its history, replayed again only when a change was signed since."""
        history = self.store.history(CATALOGUE_ID)
        head = (len(history), history[-1].hash if history else None)
        if head != self._head:
            aggregate = SiteCatalogue.replay(CATALOGUE_ID, (envelope.to_record() for envelope in history))
            self._catalogue, self._aggregate, self._head = aggregate.catalogue, aggregate, head
        return self._aggregate

    def in_force(self) -> Catalogue:
        """The catalogue the rules judge the next step by."""
        self.aggregate()
        return self._catalogue

    def file_digest(self) -> str | None:
        """The configured file's digest (None when no file is configured), read again only when the file changed."""
        if self.file is None:
            return None
        try:
            status = os.stat(self.file)
        except OSError as error:
            raise InvalidInput(
                f"catalogue file {self.file}: {error}", field=FILE_SETTING, rule="catalogue_file_unreadable"
            ) from error
        stamp = (status.st_mtime_ns, status.st_size)
        if stamp != self._file_stamp:
            self._file_digest, self._file_stamp = catalogue_digest(read_catalogue_file(self.file)), stamp
        return self._file_digest

    def ensure_file_applied(self) -> None:
        """Refuse to work while the configured file differs from the signed catalogue, saying how to resolve it."""
        digest = self.file_digest()
        if digest is None:
            return
        signed = self.aggregate()
        if digest != signed.digest:
            where = f"version {signed.version}, {signed.digest[:12]}…" if signed.changes else "the defaults"
            raise CatalogueFileNotApplied(
                f"the catalogue file {self.file} (sha256 {digest[:12]}…) is not the signed catalogue ({where}): "
                f"nothing is recorded until it is signed. Review it with `custody catalogue diff {self.file}`, then "
                f"have a Qualified Person sign it with `custody catalogue apply {self.file} --reason …` "
                f"(or restore the file to the signed catalogue, `custody catalogue show --mapping`)",
                field=FILE_SETTING,
            )
