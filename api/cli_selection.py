"""`custody verify-bundle SELECTION.zip`: an audit-trail selection (ledger/bundle_selection.py), checked offline.

The ZIP the audit trail page downloads holds standard bundles (each verifiable alone by
`custody verify-bundle`) and the listing of the events the filter selected; this checks
them together. Reads only the file named; never opens or creates a store.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

from api.cli_commands import trust_option
from api.cli_witness_verify import quorum_option
from domain.errors import InvalidInput
from ledger.bundle_selection import SELECTION_FILE, verify_selection


def is_selection(path: str) -> bool:
    """A ZIP is a selection; a bundle is JSON text."""
    return zipfile.is_zipfile(path)


def verify_selection_command(args: argparse.Namespace) -> int:
    """Exit 0 when every bundle and the listing verify, 1 with every problem listed."""
    try:
        data = Path(args.bundle).read_bytes()
        with zipfile.ZipFile(args.bundle) as archive:
            listing = json.loads(archive.read(SELECTION_FILE))
            bundles = [name for name in archive.namelist() if name != SELECTION_FILE]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise InvalidInput(f"bundle {args.bundle}: {error}", field="bundle", rule="unreadable_bundle") from None
    trusted = trust_option(args.trust) if args.trust else None
    problems = verify_selection(data, trusted, quorum_option(args))
    events = listing.get("events") if isinstance(listing, dict) else None
    count = len(events) if isinstance(events, list) else 0
    size = listing.get("checkpoint_size") if isinstance(listing, dict) else None
    if args.json:
        summary = {"intact": not problems, "problems": problems, "trust_anchor": trusted is not None}
        print(json.dumps({**summary, "events": count, "bundles": len(bundles), "checkpoint_size": size}))
        return 0 if not problems else 1
    if trusted is None:
        print("warning: no --trust key given: the bundles' own genesis key was accepted", file=sys.stderr)
    print(f"audit-trail selection: {count} events in {len(bundles)} bundles, checkpoint of {size} events")
    for problem in problems:
        print(f"FAIL {problem}")
    print(
        "selection verified: intact" if not problems else f"selection verification failed: {len(problems)} problem(s)"
    )
    return 0 if not problems else 1
