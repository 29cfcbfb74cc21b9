"""`custody staff qualify | withdraw-qualification | specialty | show`: training records on the command line.

Thin, like the other commands: each change is a signed event recorded through
ledger/staff_training.py by the administrator named with ``--by`` (password:
CUSTODY_PASSWORD, or asked); ``show`` judges each qualification on the clock's date —
valid, expiring within 60 days, expired, not yet valid or withdrawn — so a unit sees
what to renew before a step is refused.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from api.cli_commands import open_ledger
from api.passwords import read_password
from domain.staff_qualification import Specialty
from domain.staff_qualification_rules import SIGNING_ROLES
from ledger.settings import Settings
from ledger.staff_training import (
    describe_staff,
    record_qualification,
    record_specialties,
    staff_record,
    withdraw_qualification,
)

DEFAULT_EVIDENCE = "training record held by the unit's quality manager"


def add_commands(staff_sub: Any) -> None:
    """Add the training subcommands to `custody staff`."""
    qualify = staff_sub.add_parser(
        "qualify", help="record (or renew) what a person is trained for, and until when (administrators)"
    )
    qualify.add_argument("username")
    scope = qualify.add_mutually_exclusive_group(required=True)
    scope.add_argument("--events", nargs="+", metavar="EVENT_TYPE", help="steps covered (`custody event-types`)")
    scope.add_argument("--role-wide", action="store_true", help="every step the person's role may sign")
    qualify.add_argument("--until", required=True, metavar="YYYY-MM-DD", help="last day of validity (included)")
    qualify.add_argument("--from", dest="valid_from", metavar="YYYY-MM-DD", help="first day valid (default today)")
    qualify.add_argument("--reference", required=True, help="the training record's reference; the same one renews it")
    qualify.add_argument("--evidence", default=DEFAULT_EVIDENCE, help="where the evidence is (certificate, record)")
    qualify.add_argument("--by", default="admin", help="the administrator who signs")
    qualify.set_defaults(handler=qualify_command)

    withdraw = staff_sub.add_parser("withdraw-qualification", help="end a qualification from a day on")
    withdraw.add_argument("username")
    withdraw.add_argument("--reference", required=True)
    withdraw.add_argument("--on", dest="effective_on", metavar="YYYY-MM-DD", help="from this day (default today)")
    withdraw.add_argument("--reason", required=True)
    withdraw.add_argument("--by", default="admin")
    withdraw.set_defaults(handler=withdraw_command)

    specialty = staff_sub.add_parser("specialty", help="record a physician's medical specialties")
    specialty.add_argument("username")
    specialty.add_argument("specialties", nargs="+", choices=[s.value for s in Specialty], metavar="SPECIALTY")
    specialty.add_argument("--evidence", required=True, help="e.g. the RPPS register extract")
    specialty.add_argument("--by", default="admin")
    specialty.set_defaults(handler=specialty_command)

    show = staff_sub.add_parser("show", help="a person's role, specialties and qualifications with their state today")
    show.add_argument("username")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=show_command)


def qualify_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody staff qualify`: one signed StaffQualificationRecorded."""
    password = read_password(f"password for {args.by}: ", env_var="CUSTODY_PASSWORD")
    with open_ledger(settings) as ledger:
        valid_from = args.valid_from or ledger.clock.now().date().isoformat()
        record_qualification(
            ledger, args.username, reference=args.reference, evidence=args.evidence, valid_from=valid_from,
            valid_until=args.until, events=args.events or (), role_wide=args.role_wide, by=args.by,
            password=password,
        )  # fmt: skip
    covers = "every step of the role" if args.role_wide else ", ".join(args.events)
    print(f"qualified {args.username} for {covers} from {valid_from} to {args.until} ({args.reference})")
    return 0


def withdraw_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody staff withdraw-qualification`: one signed StaffQualificationWithdrawn."""
    password = read_password(f"password for {args.by}: ", env_var="CUSTODY_PASSWORD")
    with open_ledger(settings) as ledger:
        effective_on = args.effective_on or ledger.clock.now().date().isoformat()
        withdraw_qualification(
            ledger, args.username, reference=args.reference, effective_on=effective_on, reason=args.reason,
            by=args.by, password=password,
        )  # fmt: skip
    print(f"withdrew qualification {args.reference} of {args.username} from {effective_on}")
    return 0


def specialty_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody staff specialty`: one signed StaffSpecialtyRecorded."""
    password = read_password(f"password for {args.by}: ", env_var="CUSTODY_PASSWORD")
    with open_ledger(settings) as ledger:
        record_specialties(
            ledger, args.username, args.specialties, evidence=args.evidence, by=args.by, password=password
        )
    print(f"recorded {', '.join(args.specialties)} for {args.username}")
    return 0


def show_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody staff show`: the record, each qualification judged on the clock's date."""
    with open_ledger(settings) as ledger:
        described = describe_staff(staff_record(ledger, args.username), ledger.clock.now().date())
    if args.json:
        print(json.dumps(described))
        return 0
    status = "active" if described["active"] else "inactive (no active key)"
    print(f"{described['username']}  {described['name']}  ({described['role']}, {status})")
    print(f"  specialties: {', '.join(described['specialties']) or 'none recorded'}")
    if not described["qualifications"] and described["role"] in SIGNING_ROLES:
        print("  qualifications: none recorded — this person can sign no custody step yet")
    for held in described["qualifications"]:
        covers = "every step of the role" if held["covers"] == "role" else ", ".join(held["covers"])
        ended = f", withdrawn on {held['withdrawn_on']}" if held["withdrawn_on"] else ""
        print(
            f"  {held['reference']}: {held['state']} — {covers}; from {held['valid_from']} to "
            f"{held['valid_until']}{ended}; recorded by {held['recorded_by']}"
        )
    return 0
