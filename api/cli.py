"""`custody`: the command line for people and scripts.

Exit codes: 0 success; 1 verification found a problem; 2 the input or a rule
refused the command (nothing was stored); 3 the ledger is not initialised or its
store cannot be used — unreachable, full, read-only or locked, named by its rule
(nothing was stored).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
import psycopg_pool
from eventsourcing.persistence import DataError, PersistenceError

from api import (
    cli_alerts,
    cli_backup,
    cli_catalogue,
    cli_commands,
    cli_documents,
    cli_logger,
    cli_password,
    cli_pathway,
    cli_projections,
    cli_registries,
    cli_registry_export,
    cli_schedule,
    cli_serve,
    cli_staff_training,
    cli_trial,
    cli_verifiable,
    cli_webhooks,
    cli_witness,
    cli_witness_verify,
)
from api.passwords import PasswordUnavailable
from domain.errors import CustodyError
from ledger.identity_store import IdentityUnavailable
from ledger.ledger_meta import NotInitialised
from ledger.secrets import MissingSecret
from ledger.settings import Settings, load_settings
from ledger.signing_session import SignatureRefused
from ledger.storage_faults import classify
from ledger.store import ConcurrentChange

EXIT_REFUSED = 2
EXIT_UNAVAILABLE = 3
# Whatever the drivers (or eventsourcing, wrapping them) raise when the database fails a command.
STORAGE_ERRORS = (PersistenceError, psycopg.Error, psycopg_pool.PoolTimeout, sqlite3.Error)


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand with its help text."""
    parser = argparse.ArgumentParser(
        prog="custody",
        description="Signed, event-sourced chain of identity and custody for cell-therapy products.",
        epilog="Configuration: CUSTODY_HOME (keys, default SQLite file; default ./.custody), "
        "CUSTODY_DATABASE_URL (postgresql://…; unset means SQLite). See README.md.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = sub.add_parser("init", help="create the store, run migrations, create the ledger key and an admin")
    init.add_argument("--admin-name", default="Administrator", help="printed name of the first administrator")
    init.add_argument("--password-stdin", action="store_true", help="read the admin password from standard input")
    init.set_defaults(handler=cli_commands.init)

    demo = sub.add_parser("demo", help="record a realistic demonstration data set through the normal commands")
    demo.add_argument("--json", action="store_true", help="print one JSON object: products, patients, users")
    demo.add_argument("--if-empty", action="store_true", help="only record when the ledger holds no product yet")
    demo.set_defaults(handler=cli_commands.demo)

    verify = sub.add_parser("verify", help="replay every event and check hashes, links and signatures")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.add_argument(
        "--trust", metavar="FILE", help="ledger public key file to trust (default CUSTODY_HOME/ledger.pub)"
    )
    verify.add_argument("--strict", action="store_true", help="accepted, no effect: canonical form is always checked")
    verify.add_argument(
        "--against",
        metavar="FILE",
        action="append",
        default=[],
        help="a checkpoint note saved earlier: fail if the log no longer extends it (repeatable)",
    )
    verify.add_argument("--workers", type=int, help="verification threads (default: number of cores)")
    cli_witness_verify.add_quorum_options(verify)
    verify.set_defaults(handler=cli_backup.verify_command)

    show = sub.add_parser("show", help="a product's state and signed history")
    show.add_argument("product", metavar="PRODUCT_ID", help="product UUID or its COI (as printed or scanned)")
    show.add_argument("--json", action="store_true", help="print state and envelopes as JSON")
    show.set_defaults(handler=cli_commands.show)

    record = sub.add_parser("record", help="record one signed step (event) on a product, shipment or batch")
    record.add_argument("type", metavar="EVENT_TYPE", help="e.g. ApheresisCollected (see `custody event-types`)")
    record.add_argument("aggregate", metavar="ID", help="the product (UUID or COI), shipment or batch id")
    record.add_argument("--user", required=True, help="who signs")
    record.add_argument("--meaning", help="meaning of the signature: performed, verified, witnessed, released…")
    record.add_argument("--payload", default="{}", help="JSON object, or @file.json")
    record.add_argument("--occurred-at", help="when it physically happened (ISO 8601 with offset; default now)")
    record.add_argument("--password-stdin", action="store_true", help="read the signer's password from stdin")
    record.add_argument("--json", action="store_true", help="print the stored envelopes as JSON")
    record.set_defaults(handler=cli_commands.record)

    types = sub.add_parser("event-types", help="list the event types, who may record them and their fields")
    types.add_argument("--json", action="store_true")
    types.set_defaults(handler=cli_commands.event_types)

    staff = sub.add_parser("staff", help="register staff, revoke their keys, unlock signing (administrators)")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    add = staff_sub.add_parser(
        "add",
        help="register a person with a new signing key sealed by a one-time enrolment secret "
        "(CUSTODY_NEW_PASSWORD, typed, or generated and printed once); they replace it with `custody password change`",
    )
    add.add_argument("username")
    add.add_argument("--name", required=True, help="printed name, as shown beside each signature")
    add.add_argument("--role", required=True, help="nurse, physician, pharmacist, qp, courier, sponsor, auditor, admin")
    add.add_argument("--by", default="admin", help="the administrator who registers them")
    add.set_defaults(handler=cli_commands.staff_add)
    revoke = staff_sub.add_parser("revoke-key", help="revoke a person's active key")
    revoke.add_argument("username")
    revoke.add_argument("--reason", required=True)
    revoke.add_argument("--by", default="admin")
    revoke.set_defaults(handler=cli_commands.staff_revoke)
    unlock = staff_sub.add_parser(
        "unlock-signing", help="lift the lock set by repeated wrong signing passwords (recorded in the audit log)"
    )
    unlock.add_argument("username")
    unlock.add_argument("--reason", required=True, help="why it is safe to sign again (recorded in the audit log)")
    unlock.add_argument("--by", default="admin", help="the administrator who unlocks (password: CUSTODY_PASSWORD)")
    unlock.add_argument("--json", action="store_true")
    unlock.set_defaults(handler=cli_commands.staff_unlock_signing)
    reenrol = staff_sub.add_parser(
        "reenrol",
        help="for a forgotten password: revoke the person's key, give them a new one under a one-time enrolment "
        "secret (CUSTODY_NEW_PASSWORD, typed, or generated and printed once); lifts a signing lock, audited",
    )
    reenrol.add_argument("username")
    reenrol.add_argument("--reason", required=True, help="why, and how the person was identified (audit log)")
    reenrol.add_argument("--by", default="admin", help="another administrator, who signs (password: CUSTODY_PASSWORD)")
    reenrol.add_argument("--json", action="store_true")
    reenrol.set_defaults(handler=cli_commands.staff_reenrol)
    cli_staff_training.add_commands(staff_sub)

    patient = sub.add_parser("patient", help="patient identities, sealed outside the event log")
    patient_sub = patient.add_subparsers(dest="patient_command", required=True, metavar="ACTION")
    register = patient_sub.add_parser(
        "register", help="read an identity as JSON on stdin, seal it, print the new pseudonym"
    )
    register.add_argument("--user", required=True, help="a nurse, physician or pharmacist")
    register.set_defaults(handler=cli_commands.patient_register)
    reveal = patient_sub.add_parser("show", help="the identity behind a pseudonym (nurse, physician, pharmacist)")
    reveal.add_argument("pseudonym")
    reveal.add_argument("--user", required=True)
    reveal.add_argument("--json", action="store_true")
    reveal.add_argument("--reason", required=True, help="why the identity is needed (recorded in the audit log)")
    reveal.set_defaults(handler=cli_commands.patient_show)
    erase = patient_sub.add_parser(
        "erase", help="crypto-shred an identity (administrator, approved by a pharmacist); events stay valid"
    )
    erase.add_argument("pseudonym")
    erase.add_argument("--user", default="admin")
    erase.add_argument("--approver", required=True, help="a pharmacist (password: CUSTODY_APPROVER_PASSWORD)")
    erase.add_argument("--reason", required=True)
    erase.add_argument("--legal-ground", default="", help="required while the product's retention period runs")
    erase.set_defaults(handler=cli_commands.patient_erase)

    bench = sub.add_parser("bench", help="measure signed vs bare append, verification and replay (JSON)")
    bench.add_argument("--json", action="store_true", help="print one JSON line per backend")
    bench.add_argument("--events", type=int, default=10000, help="events per measurement (default 10000)")
    bench.add_argument("--backend", choices=["sqlite", "postgresql", "both"], help="default: the configured backend")
    bench.add_argument("--no-projections", action="store_true", help="skip the read-model rebuild and query figures")
    bench.add_argument("--api", action="store_true", help="measure the HTTP API (a `custody serve` process) instead")
    bench.add_argument(
        "--scale", type=int, metavar="EVENTS",
        help="build a ledger of about EVENTS events of realistic journeys, then verify, rebuild and checkpoint it "
        "(progress on stderr, figures as JSON; e.g. --scale 1000000)",
    )  # fmt: skip
    bench.add_argument("--api-seconds", type=float, default=5.0, help="--api: status-read phase length (default 5)")
    bench.add_argument("--api-rate", type=float, default=200.0, help="--api: status reads per second (default 200)")
    bench.add_argument("--api-writes", type=int, default=200, help="--api: signed writes per side (default 200)")
    bench.add_argument("--api-clients", type=int, default=4, help="--api: concurrent writing clients (default 4)")
    bench.set_defaults(handler=cli_commands.bench)
    cli_projections.add_commands(sub)
    cli_verifiable.add_commands(sub)
    cli_pathway.add_commands(sub)
    cli_registries.add_commands(sub)
    cli_registry_export.add_commands(sub)
    cli_schedule.add_commands(sub)
    cli_password.add_commands(sub)
    cli_catalogue.add_commands(sub)
    cli_trial.add_commands(sub)
    cli_serve.add_command(sub)
    cli_backup.add_commands(sub)
    cli_witness.add_commands(sub)
    cli_documents.add_commands(sub)
    cli_logger.add_commands(sub)
    cli_alerts.add_commands(sub)
    cli_webhooks.add_commands(sub)
    return parser


def _fail(message: str, code: int, as_json: bool, details: dict[str, Any] | None = None) -> int:
    if as_json:
        print(json.dumps({"error": message, **(details or {})}))
    else:
        print(f"custody: error: {message}", file=sys.stderr)
    return code


def _storage_failure(error: BaseException, as_json: bool) -> int:
    """Exit 3 naming the storage fault (full, read-only, locked, unreachable) and what to do about it."""
    fault = classify(error)
    if fault is None:
        rule, message = "storage_error", f"the database refused the command ({type(error).__name__}: {error})"
    else:
        rule, message = fault.rule, fault.message
    return _fail(f"{message} [rule: {rule}]", EXIT_UNAVAILABLE, as_json, {"rule": rule, "message": message})


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, run, and turn every expected failure into a clear message and exit code."""
    args = build_parser().parse_args(argv)
    as_json = bool(getattr(args, "json", False))
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    try:
        return handler(args, load_settings())
    except CustodyError as error:
        suffix = f" [field: {error.field}; rule: {error.rule}]" if error.field else f" [rule: {error.rule}]"
        return _fail(error.message + suffix, EXIT_REFUSED, as_json, error.to_dict())
    except (SignatureRefused, ConcurrentChange, PasswordUnavailable) as error:
        return _fail(str(error), EXIT_REFUSED, as_json, {"rule": getattr(error, "rule", "refused")})
    except IdentityUnavailable as error:
        return _fail(str(error), EXIT_REFUSED, as_json, {"rule": "identity_unavailable"})
    except (NotInitialised, MissingSecret) as error:
        return _fail(str(error), EXIT_UNAVAILABLE, as_json)
    except (DataError, psycopg.DataError) as error:
        message = f"the database cannot take a value of the command: {error}"
        return _fail(message + " [rule: unstorable_value]", EXIT_REFUSED, as_json, {"rule": "unstorable_value"})
    except STORAGE_ERRORS as error:
        return _storage_failure(error, as_json)
    except KeyboardInterrupt:
        return _fail("interrupted; nothing partial was stored", 130, as_json)


if __name__ == "__main__":
    sys.exit(main())
