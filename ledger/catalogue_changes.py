"""Signing a catalogue change: by a Qualified Person (`custody catalogue apply`), or by the ledger at its birth.

At `custody init` of a new ledger the operator has just put the site's catalogue file in
place (CUSTODY_CATALOGUE_FILE) and expects it to be in force: no QP is registered yet to sign
it, so the ledger signs that first catalogue itself, saying where it came from. That is the
only catalogue the ledger signs (domain/catalogue_rules.py): on a ledger that already exists,
`init` never applies a file, it reports the difference and the command that resolves it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domain.catalogue_events import CATALOGUE_CHANGED_TYPE, CATALOGUE_ID, catalogue_digest
from ledger.catalogue_source import read_catalogue_file
from ledger.envelope import Envelope
from ledger.ledger_meta import LEDGER_USER
from ledger.service import CustodyLedger


def sign_catalogue(
    ledger: CustodyLedger,
    mapping: dict[str, Any],
    reason: str,
    *,
    user: str,
    password: str | None,
    meaning: str = "approved",
) -> list[Envelope]:
    """Record ``mapping`` as the site's catalogue from now on, signed by ``user`` with its digest and reason."""
    payload = {"mapping": mapping, "sha256": catalogue_digest(mapping), "reason": reason}
    return ledger.record(CATALOGUE_CHANGED_TYPE, CATALOGUE_ID, payload, user=user, meaning=meaning, password=password)


def catalogue_at_initialisation(ledger: CustodyLedger, created_ledger: bool) -> str:
    """Sign the configured file on a ledger created just now; otherwise say whether it matches. Returns a line for
    `custody init` (empty when no file is configured)."""
    path = ledger.settings.catalogue_file
    if path is None:
        return ""
    signed = ledger.catalogues.aggregate()
    digest = catalogue_digest(read_catalogue_file(path))
    if digest == signed.digest:
        return f"catalogue file {path} is the signed catalogue (sha256 {digest[:12]}…)"
    if created_ledger and not signed.changes:
        reason = f"the catalogue file {Path(path).name} in place when the ledger was initialised"
        sign_catalogue(ledger, read_catalogue_file(path), reason, user=LEDGER_USER, password=None, meaning="recorded")
        return f"catalogue file {path} signed by the ledger at initialisation (sha256 {digest[:12]}…)"
    return (
        f"catalogue file {path} differs from the signed catalogue: nothing will be recorded until "
        f"`custody catalogue diff {path}` is reviewed and a QP runs `custody catalogue apply {path} --reason …`"
    )
