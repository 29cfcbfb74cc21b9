"""`custody trial readiness PROTOCOL`: each site's checklist for a trial, what is met, missing or expiring.

Under each prerequisite: its evidence and who signed it (name, role), the roles that may
attest it, and for the named pair whether their specialty fits.

Prerequisites are recorded with `custody record` (TrialSiteOpened, TrialPrerequisiteAttested,
TrialStaffDesignated, TrialSiteActivated…) on the trial site's id this command prints.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from api.cli_commands import open_ledger
from api.trial_readiness import site_readiness, trial_of
from ledger.settings import Settings

MARKS = {"met": "ok", "expiring": "EXPIRING", "missing": "MISSING"}


def add_commands(sub: Any) -> None:
    """Register `custody trial readiness` on the `custody` parser."""
    trial = sub.add_parser("trial", help="a trial's sites: prerequisites, activation, readiness")
    actions = trial.add_subparsers(dest="trial_command", required=True, metavar="ACTION")
    readiness = actions.add_parser("readiness", help="each site's prerequisites today: met, missing or expiring")
    readiness.add_argument("protocol", metavar="PROTOCOL", help="the trial's protocol number")
    readiness.add_argument("--json", action="store_true", help="one JSON object with a `sites` list")
    readiness.set_defaults(handler=readiness_command)


def readiness_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print each site's status and checklist for the trial, today."""
    with open_ledger(settings) as ledger:
        report = site_readiness(ledger, trial_of(ledger, args.protocol), ledger.clock.now().date())
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    print(f"trial {report['protocol']} ({report['sponsor']}) on {report['day']}: {len(report['sites'])} site(s)")
    for site in report["sites"]:
        ready = "ready" if site["ready"] else "NOT READY"
        print(f"  {site['site_code']}: {site['status']}, {ready} (trial site {site['trial_site_id']})")
        for check in site["prerequisites"]:
            print(f"    [{MARKS[check['state']]}] {check['prerequisite']}: {check['detail']}")
            for line in _evidence_lines(check):
                print(f"        {line}")
    return 0


def _evidence_lines(check: dict[str, Any]) -> list[str]:
    """Each attestation with who signed it (name, role), who may, and for the pair the specialty check."""
    lines = []
    for evidence in check["evidence"]:
        signer = "from the site registry"
        if "signed_by" in evidence:
            signer = f"signed by {evidence['signed_by_name']} ({evidence['signed_by_role']})"
        lines.append(f"{evidence['reference']} ({evidence['attested_by']}); {signer}")
    if "may_attest" in check:
        lines.append(f"attested by: {' or '.join(check['may_attest'])}")
    if "specialty" in check:
        held = "fits" if check["specialty"]["holds"] else "DOES NOT FIT"
        lines.append(f"specialty {held}: {check['specialty']['detail']}")
    return lines
