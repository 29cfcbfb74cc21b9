"""`custody registry-export` and `custody export PRODUCT --format descar-t|ebmt`: rows for the cell-therapy registries.

The file goes to the registry as it is written (its delimiter and dates), so the command
writes only rows and puts what it left out on standard error, by COI and reason: a data
manager sees at once which patients did not agree to transmission. A refusal (a required
fact missing) writes no file at all (docs/registries.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from api.cli_commands import open_ledger, resolve_id
from domain.payloads import parse_date
from ledger.settings import Settings
from projections.registry_export import REGISTRY_NAMES, RegistryExport, export_product, export_since, registry_format


def add_commands(sub: Any) -> None:
    """Register `custody registry-export`."""
    export = sub.add_parser(
        "registry-export",
        help="one row per treated patient and per follow-up visit for DESCAR-T or EBMT (pseudonymised, consented)",
    )
    export.add_argument("--format", required=True, choices=REGISTRY_NAMES, help="the registry (docs/registries.md)")
    export.add_argument("--since", metavar="DATE", help="only infusions and visits on or after DATE (YYYY-MM-DD)")
    export.add_argument("-o", "--output", metavar="FILE", help="write the CSV there (default: standard output)")
    export.add_argument("--json", action="store_true", help="print columns, rows and withheld COIs as JSON instead")
    export.set_defaults(handler=registry_export_command)


def registry_export_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody registry-export --format … [--since DATE]`: the periodic submission."""
    fmt = registry_format(args.format)
    since = parse_date(args.since, field="since") if args.since else None
    with open_ledger(settings) as ledger:
        exported = export_since(ledger, fmt, since)
    return _write(exported, args.output, args.json)


def export_registry_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody export PRODUCT --format descar-t|ebmt -o FILE`: one product's rows."""
    fmt = registry_format(args.format)
    with open_ledger(settings) as ledger:
        exported = export_product(ledger, resolve_id(args.product, "product"), fmt)
    return _write(exported, args.output, False)


def _write(exported: RegistryExport, output: str | None, as_json: bool) -> int:
    if as_json:
        print(json.dumps(exported.to_json(), ensure_ascii=False))
        return 0
    text = exported.csv()
    if output is None:
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8", newline="")
        print(f"wrote {output}: {len(exported.rows)} {exported.fmt.label} row(s), {len(exported.withheld)} withheld")
    for withheld in exported.withheld:
        print(f"withheld COI {withheld.coi}: {withheld.reason}", file=sys.stderr)
    return 0
