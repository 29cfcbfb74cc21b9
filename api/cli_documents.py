"""`custody document add FILE --kind KIND`: store a file a step will rely on, and print its reference.

The answer — SHA-256, media type (read from the content) and size — is what the step's
payload puts in its ``document`` field; the file itself never enters the signed event
(README, "Documents"). Storing signs nothing, so no password is asked; ``--user`` names
who stored it, which matters while no signed step references the file yet (then only
that person, pharmacists, QPs and auditors may read it back over HTTP).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from api.cli_commands import open_ledger
from domain.document_ref import DocumentKind
from domain.errors import InvalidInput
from ledger.documents import document_kind
from ledger.settings import Settings


def add_commands(sub: Any) -> None:
    """Register `custody document add`."""
    document = sub.add_parser("document", help="documents steps rely on, stored by their SHA-256")
    document_sub = document.add_subparsers(dest="document_command", required=True, metavar="ACTION")
    add = document_sub.add_parser("add", help="store a file (PDF, PNG, JPEG or CSV) and print its reference")
    add.add_argument("file", metavar="FILE")
    add.add_argument("--kind", required=True, choices=[kind.value for kind in DocumentKind], metavar="KIND")
    add.add_argument("--patient", metavar="PSEUDONYM", help="consent_form only: the patient whose key seals it")
    add.add_argument("--user", default="admin", help="the registered person storing it (default admin)")
    add.add_argument("--json", action="store_true", help="print the answer as JSON")
    add.set_defaults(handler=add_command)


def _read(path: str, max_bytes: int) -> bytes:
    """The file's bytes; a file larger than the limit is refused before it is read."""
    try:
        size = Path(path).stat().st_size
        if size > max_bytes:
            raise InvalidInput(
                f"file {path} is {size} bytes, more than the {max_bytes} a document may take "
                "(CUSTODY_MAX_DOCUMENT_BYTES)",
                field="file",
                rule="document_too_large",
            )
        return Path(path).read_bytes()
    except OSError as error:
        raise InvalidInput(f"file {path}: {error.strerror}", field="file", rule="unreadable_file") from None


def add_command(args: argparse.Namespace, settings: Settings) -> int:
    """Store the file once (the same bytes again answer the same reference) and print it."""
    kind = document_kind(args.kind)
    content = _read(args.file, settings.max_document_bytes)
    with open_ledger(settings) as ledger:
        actor, _ = ledger.actor(args.user)
        info, stored_now = ledger.documents.add(
            content,
            kind,
            uploaded_by=actor.user_id,
            now=ledger.clock.now(),
            max_bytes=settings.max_document_bytes,
            patient=args.patient,
        )
    if args.json:
        print(json.dumps({**info.to_json(), "stored_now": stored_now}))
        return 0
    print(f"sha256: {info.sha256}")
    print(f"media_type: {info.media_type}")
    print(f"size_bytes: {info.size_bytes}")
    print(f"kind: {info.kind}" + ("" if stored_now else " (already stored)"))
    print("reference: " + json.dumps(info.to_json()["reference"]))
    return 0
