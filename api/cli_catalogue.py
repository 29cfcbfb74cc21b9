"""`custody catalogue show | diff FILE | apply FILE --reason …`: the signed product catalogue on the command line.

``show`` prints the catalogue in force and who changed what, when and why; ``diff`` compares
a catalogue file with it, setting by setting (exit 1 when they differ, like diff(1)), so the
change is reviewed before it is signed; ``apply`` has a Qualified Person sign the file as the
catalogue from now on (domain/catalogue_events.py). Until the file CUSTODY_CATALOGUE_FILE
names is signed, the ledger records nothing (ledger/catalogue_source.py).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from api.cli_commands import open_ledger
from api.passwords import read_password
from domain.catalogue import Catalogue
from domain.catalogue_diff import differences
from domain.catalogue_events import SiteCatalogue, canonical_catalogue, catalogue_digest
from ledger.catalogue_changes import sign_catalogue
from ledger.catalogue_source import read_catalogue_file
from ledger.settings import Settings
from projections.catalogue_view import catalogue_view

EXIT_DIFFERENT = 1


def add_commands(sub: Any) -> None:
    """Register `custody catalogue` and its three actions on the `custody` parser."""
    catalogue = sub.add_parser("catalogue", help="the signed product catalogue: show it, diff a file, sign a change")
    actions = catalogue.add_subparsers(dest="catalogue_command", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="the catalogue in force and its history of signed changes")
    show.add_argument("--json", action="store_true", help="one JSON object: entries, mapping, sha256, history")
    show.add_argument("--mapping", action="store_true", help="print only the signed mapping (a catalogue file)")
    show.set_defaults(handler=show_command)
    diff = actions.add_parser("diff", help="compare a catalogue file with the signed catalogue (exit 1 if different)")
    diff.add_argument("file", metavar="FILE", type=Path)
    diff.add_argument("--json", action="store_true")
    diff.set_defaults(handler=diff_command)
    apply = actions.add_parser("apply", help="sign a catalogue file as the site's catalogue (a Qualified Person)")
    apply.add_argument("file", metavar="FILE", type=Path)
    apply.add_argument("--reason", required=True, help="why the catalogue changes (kept in the signed history)")
    apply.add_argument("--user", required=True, help="the Qualified Person who signs")
    apply.add_argument("--meaning", default="approved", help="meaning of the signature (default approved)")
    apply.add_argument("--password-stdin", action="store_true", help="read the signer's password from stdin")
    apply.add_argument("--json", action="store_true", help="print the stored envelope as JSON")
    apply.set_defaults(handler=apply_command)


def _signed_line(signed: SiteCatalogue) -> str:
    if not signed.changes:
        return "signed catalogue: none yet, the labels' defaults are in force"
    last = signed.changes[-1]
    return (
        f"signed catalogue: version {last.version}, sha256 {last.sha256}, by {last.actor.name} "
        f"({last.actor.user_id}, {last.actor.role}) at {last.recorded_at}: {last.reason}"
    )


def show_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody catalogue show`: the figures in force, then each signed change and what it changed."""
    with open_ledger(settings) as ledger:
        signed = ledger.catalogues.aggregate()
    view = catalogue_view(signed)
    if args.mapping:
        print(json.dumps(view["mapping"], ensure_ascii=False, indent=2, sort_keys=True))
        return 0
    if args.json:
        print(json.dumps(view, ensure_ascii=False))
        return 0
    print(_signed_line(signed))
    for entry in view["entries"]:
        settings_text = ", ".join(f"{key}={value}" for key, value in entry.items() if key != "code")
        print(f"{entry['code']}: {settings_text}")
    print(f"{len(view['history'])} signed change(s)")
    for change in view["history"]:
        who = change["signed_by"]
        print(f"version {change['version']} {change['recorded_at']} {who['name']} ({who['role']}): {change['reason']}")
        for difference in change["changes"] or []:
            print(f"    {difference['setting']}: {difference['before']} → {difference['after']}")
    return 0


def diff_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody catalogue diff FILE`: each setting the file would change; exit 0 when it is the signed catalogue."""
    mapping = read_catalogue_file(args.file, field="FILE")
    proposed = Catalogue.from_mapping(canonical_catalogue(mapping))
    with open_ledger(settings) as ledger:
        signed = ledger.catalogues.aggregate()
    changes = differences(signed.catalogue, proposed)
    digest = catalogue_digest(mapping)
    same = digest == signed.digest
    if args.json:
        print(json.dumps({
            "file": str(args.file), "file_sha256": digest, "signed_sha256": signed.digest,
            "signed_version": signed.version, "same": same, "changes": [c.to_dict() for c in changes],
        }, ensure_ascii=False))  # fmt: skip
        return 0 if same else EXIT_DIFFERENT
    print(_signed_line(signed))
    print(f"file {args.file}: sha256 {digest}")
    if same:
        print("the file is the signed catalogue")
        return 0
    print(f"{len(changes)} setting(s) would change" if changes else "no figure changes, but the mapping differs")
    for change in changes:
        print(change.line())
    return EXIT_DIFFERENT


def apply_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody catalogue apply FILE --reason … --user QP`: sign the file as the catalogue from now on."""
    mapping = read_catalogue_file(args.file, field="FILE")
    password = read_password(f"password for {args.user}: ", env_var="CUSTODY_PASSWORD", from_stdin=args.password_stdin)
    with open_ledger(settings) as ledger:
        before = ledger.catalogues.aggregate().catalogue
        envelopes = sign_catalogue(
            ledger, mapping, args.reason, user=args.user, password=password, meaning=args.meaning
        )
        configured = ledger.catalogues.file_digest()
    if args.json:
        print(json.dumps({"events": [envelope.to_json() for envelope in envelopes]}, ensure_ascii=False))
        return 0
    signed = envelopes[0]
    changes = differences(before, Catalogue.from_mapping(canonical_catalogue(mapping)))
    print(f"catalogue version {signed.version} signed by {args.user}: sha256 {catalogue_digest(mapping)}")
    for change in changes:
        print(change.line())
    if configured is not None and configured != catalogue_digest(mapping):
        print(
            f"note: CUSTODY_CATALOGUE_FILE ({settings.catalogue_file}) is not the file just signed: the ledger "
            "records nothing until they agree"
        )
    return 0
