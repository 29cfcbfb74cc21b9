"""`custody backup` and `custody restore`: an online copy of the store, and a held restore of one.

`custody restore FILE` fills an empty store and holds its writes; `custody restore
acknowledge` releases the hold (with the latest published checkpoint, or an
administrator's recorded acceptance of the fork risk); `custody restore status`
lists the restores. `custody verify` warns about a held or accepted-fork restore.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from api import cli_commands
from api.cli_commands import open_ledger
from api.passwords import read_password
from domain.errors import InvalidInput, RuleViolation
from ledger.backup import backup
from ledger.ledger_meta import NotInitialised
from ledger.merkle_log import origin_of
from ledger.pg_tools import ToolFailed, ToolMissing
from ledger.restore import restore
from ledger.restore_hold import ACKNOWLEDGE_HINT, Restore, accept_fork, check_reason, release_with_checkpoint, restores
from ledger.settings import Settings
from ledger.trust_anchor import home_trust_anchor

EXIT_REFUSED = 2
EXIT_UNAVAILABLE = 3
ACTIONS = ("acknowledge", "status")


def add_commands(sub: Any) -> None:
    """Register `custody backup` and `custody restore`."""
    make = sub.add_parser("backup", help="a consistent online copy of the store in one archive (never master.key)")
    make.add_argument("-o", "--output", metavar="FILE", required=True, help="the archive to write (mode 0600, new)")
    make.add_argument("--json", action="store_true", help="print the manifest as JSON")
    make.set_defaults(handler=backup_command)

    back = sub.add_parser(
        "restore",
        help="restore FILE into an empty store (writes held); `restore acknowledge` / `restore status`",
        description="custody restore FILE: a backup into an empty store, writes held until acknowledged. "
        "custody restore acknowledge --latest-checkpoint NOTE | --accept-fork --reason TEXT: release the hold. "
        "custody restore status: the restores of this store.",
    )
    back.add_argument("target", metavar="FILE|acknowledge|status", help="the backup archive, or an action")
    back.add_argument(
        "--latest-checkpoint", metavar="FILE", help="acknowledge: the latest checkpoint note the ledger published"
    )
    back.add_argument("--accept-fork", action="store_true", help="acknowledge: release without one (administrator)")
    back.add_argument("--reason", help="acknowledge --accept-fork: why the fork risk is accepted (recorded)")
    back.add_argument("--user", default="admin", help="acknowledge: the administrator (password: CUSTODY_PASSWORD)")
    back.add_argument("--password-stdin", action="store_true", help="acknowledge: read the password from stdin")
    back.add_argument("--json", action="store_true")
    back.set_defaults(handler=restore_command)


def _tool_problem(error: Exception, as_json: bool, code: int) -> int:
    if as_json:
        print(
            json.dumps(
                {"error": str(error), "rule": "pg_tool_missing" if code == EXIT_UNAVAILABLE else "pg_tool_failed"}
            )
        )
    else:
        print(f"custody: error: {error}", file=sys.stderr)
    return code


def _progress(events: int) -> None:
    print(f"\rreading the log: {events} events", end="", file=sys.stderr, flush=True)


def backup_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody backup -o FILE`: safe while the server writes; the archive never holds master.key."""
    progress = _progress if sys.stderr.isatty() and not args.json else None
    try:
        manifest = backup(settings, Path(args.output), progress=progress)
    except (ToolMissing, ToolFailed) as error:
        return _tool_problem(error, args.json, EXIT_UNAVAILABLE)
    finally:
        if progress:
            print(file=sys.stderr)
    if args.json:
        print(json.dumps({"output": args.output, **manifest.to_json()}))
        return 0
    print(
        f"wrote {args.output} (mode 0600): {manifest.backend} ledger {manifest.ledger_id}, "
        f"{manifest.log_size} events, root {manifest.merkle_root}, taken at {manifest.created_at}"
    )
    print(
        f"master.key is NOT in the archive: keep {settings.home / 'master.key'} backed up separately "
        "(offline, under two people's control); without it sealed keys and identities cannot be opened"
    )
    return 0


def restore_command(args: argparse.Namespace, settings: Settings) -> int:
    """Dispatch `custody restore FILE | acknowledge | status`."""
    if args.target == "acknowledge":
        return acknowledge_command(args, settings)
    if args.target == "status":
        return status_command(args, settings)
    for option, given in (
        ("--latest-checkpoint", args.latest_checkpoint),
        ("--accept-fork", args.accept_fork),
        ("--reason", args.reason),
    ):
        if given:
            raise InvalidInput(
                f"{option} belongs to `custody restore acknowledge`, not to restoring a file",
                field=option,
                rule="option_not_allowed",
            )
    try:
        report = restore(settings, Path(args.target))
    except ToolMissing as error:
        return _tool_problem(error, args.json, EXIT_UNAVAILABLE)
    except ToolFailed as error:
        return _tool_problem(ToolFailed(f"{error}; nothing was restored (one transaction)"), args.json, EXIT_REFUSED)
    manifest = report.manifest
    if args.json:
        print(
            json.dumps(
                {
                    "restored_size": report.restored_size,
                    "held": True,
                    "hold_id": report.hold_id,
                    "wrote_trust_anchor": report.wrote_trust_anchor,
                    "master_key": report.master_key,
                    "manifest": manifest.to_json(),
                }
            )
        )
        return 0
    print(
        f"restored {manifest.backend} ledger {manifest.ledger_id}: {report.restored_size} events "
        f"(backup taken at {manifest.created_at}), every member's SHA-256 checked"
    )
    if report.master_key == "missing":
        print(f"warning: {settings.home / 'master.key'} is missing: restore it from its own backup before signing")
    elif report.master_key == "wrong":
        print(
            f"warning: {settings.home / 'master.key'} does not unlock this ledger's key: it belongs to another ledger"
        )
    print(f"writes are held: {ACKNOWLEDGE_HINT}")
    return 0


def acknowledge_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody restore acknowledge`: release the hold with a checkpoint, or record an accepted fork."""
    if bool(args.latest_checkpoint) == bool(args.accept_fork):
        raise InvalidInput(
            "give exactly one of --latest-checkpoint FILE and --accept-fork --reason TEXT",
            field="--latest-checkpoint",
            rule="acknowledge_needs_one",
        )
    note = None
    if args.latest_checkpoint:
        try:
            note = Path(args.latest_checkpoint).read_text(encoding="utf-8")
        except OSError as error:
            raise InvalidInput(
                f"--latest-checkpoint {args.latest_checkpoint}: {error.strerror}",
                field="--latest-checkpoint",
                rule="unreadable_file",
            ) from None
    else:
        check_reason(args.reason)
    password = read_password(f"password for {args.user}: ", env_var="CUSTODY_PASSWORD", from_stdin=args.password_stdin)
    with open_ledger(settings) as ledger:
        _actor, member = ledger.actor(args.user)
        if member.role != "admin":
            raise RuleViolation(
                f"{args.user} is a {member.role}: only an administrator releases a restored store",
                field="--user",
                rule="role_not_allowed",
            )
        ledger.signer_for(member, password)  # proves the password: the key it seals opens
        now = ledger.clock.now()
        if note is not None:
            keys = home_trust_anchor(settings.home)
            if not keys:
                raise NotInitialised(f"{settings.home / 'ledger.pub'} is missing: the checkpoint cannot be checked")
            origin = origin_of(ledger.meta.ledger_id())
            released = release_with_checkpoint(
                ledger.store, note, origin=origin, ledger_keys=sorted(keys), by=args.user, now=now
            )
            how = "the latest published checkpoint is within the restored log"
        else:
            released = accept_fork(ledger.store, by=args.user, reason=args.reason, now=now)
            how = "the fork risk was accepted and recorded"
    if args.json:
        print(json.dumps({"released": released, "by": args.user, "kind": "checkpoint" if note else "accept_fork"}))
    else:
        print(f"released {released} restore hold(s): {how}; writes are allowed again")
    return 0


def status_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody restore status`: every restore of this store, held or how it was released."""
    with open_ledger(settings) as ledger:
        rows = restores(ledger.store)
    if args.json:
        print(json.dumps({"held": any(row.held for row in rows), "restores": [row.to_json() for row in rows]}))
        return 0
    if not rows:
        print("this store was never restored from a backup")
    for row in rows:
        print(describe(row))
    return 0


def describe(row: Restore) -> str:
    """One restore in a sentence (also the warning `custody verify` prints)."""
    start = f"restored on {row.restored_at} from a backup of {row.backup_created_at} ({row.restored_size} events)"
    if row.held:
        return f"{start}: writes HELD — {ACKNOWLEDGE_HINT}"
    if row.release_kind == "accept_fork":
        return (
            f"{start}: FORK RISK ACCEPTED by {row.released_by} on {row.released_at}: {row.release_reason} — "
            "checkpoints the ledger published before may disagree with this log beyond its restored size"
        )
    return f"{start}: released by {row.released_by} on {row.released_at} with the latest published checkpoint"


def verify_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody verify`, preceded on stderr by a warning for each held or accepted-fork restore."""
    try:
        with open_ledger(settings) as ledger:
            rows = restores(ledger.store)
    except NotInitialised:
        rows = []  # verification itself says the store is not initialised
    for row in rows:
        if row.held or row.release_kind == "accept_fork":
            print(f"warning: {describe(row)}", file=sys.stderr)
    return cli_commands.verify(args, settings)
