"""`custody password change`, and the enrolment secret `custody staff add` hands a new person.

21 CFR Part 11 §11.300: a person's password is theirs alone. An administrator registering
someone gives a one-time enrolment secret — typed by the administrator (CUSTODY_NEW_PASSWORD
or a prompt) or generated and printed once — which signs nothing until its holder replaces
it with `custody password change` (ledger/password_enrolment.py). Passwords are read from
environment variables, standard input or a prompt (api/passwords.py), never from the
command line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from api.cli_commands import open_ledger
from api.passwords import read_password
from domain.errors import InvalidInput
from ledger.clock import isoformat
from ledger.password_change import change_password
from ledger.password_enrolment import new_enrolment_secret
from ledger.settings import Settings

NEW_PASSWORD_VARIABLE = "CUSTODY_NEW_PASSWORD"


def add_commands(sub: Any) -> None:
    """Register `custody password change` on the `custody` parser."""
    password = sub.add_parser("password", help="your own password: change it (or the enrolment secret you were given)")
    actions = password.add_subparsers(dest="password_command", required=True, metavar="ACTION")
    change = actions.add_parser(
        "change",
        help="replace your password; your signing key is re-sealed under the new one (same key id)",
        description="The current password comes from CUSTODY_PASSWORD, the new one from CUSTODY_NEW_PASSWORD; "
        "otherwise both are asked for (the new one twice), or read as two lines of standard input "
        "with --password-stdin. The new one needs at least 12 characters and must not contain your username "
        "or name nor be a common or easily guessed password.",
    )
    change.add_argument("--user", required=True, help="whose password (yours)")
    change.add_argument(
        "--password-stdin", action="store_true", help="read the current then the new password, one line each"
    )
    change.add_argument("--json", action="store_true", help="print the change as one JSON object")
    change.set_defaults(handler=change_command)


def change_command(args: argparse.Namespace, settings: Settings) -> int:
    """Read the current and the new password, change it, and say which keys were re-sealed."""
    old = read_password(
        f"current password (or enrolment secret) of {args.user}: ",
        env_var="CUSTODY_PASSWORD",
        from_stdin=args.password_stdin,
    )
    new = read_password(
        f"new password for {args.user}: ", env_var=NEW_PASSWORD_VARIABLE, from_stdin=args.password_stdin
    )
    typed = not args.password_stdin and not os.environ.get(NEW_PASSWORD_VARIABLE)
    if typed and read_password("new password again: ") != new:
        raise InvalidInput("the two new passwords differ", field="new_password", rule="password_mismatch")
    with open_ledger(settings) as ledger:
        done = change_password(ledger, args.user, old, new, channel="cli")
    if args.json:
        print(
            json.dumps(
                {
                    "username": done.username,
                    "resealed_keys": list(done.resealed),
                    "replaced_enrolment_secret": done.replaced_enrolment_secret,
                    "changed_at": isoformat(done.changed_at),
                }
            )
        )
    else:
        print(f"password of {done.username} changed; signing key(s) re-sealed: {', '.join(done.resealed)}")
    return 0


def enrolment_secret(username: str) -> tuple[str, bool]:
    """The secret for a person being registered, and whether it was generated (then it must be shown once).

    The administrator's own (CUSTODY_NEW_PASSWORD, or typed at the prompt), else a random one.
    """
    if os.environ.get(NEW_PASSWORD_VARIABLE) or sys.stdin.isatty():
        typed = read_password(f"enrolment secret for {username} (empty: generate one): ", env_var=NEW_PASSWORD_VARIABLE)
        if typed:
            return typed, False
    return new_enrolment_secret(), True
