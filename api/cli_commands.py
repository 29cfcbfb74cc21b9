"""The handlers behind each `custody` subcommand: translate arguments, call the ledger, print."""

from __future__ import annotations

import argparse
import dataclasses
import json
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from api.cli_witness_verify import check_witnesses
from api.passwords import read_password
from api.render import aggregate_summary, event_line, jsonable
from api.staff_event_types import staff_event_rows
from domain.errors import InvalidInput, NotFound
from domain.identifiers import parse_coi, product_id_for
from domain.registry import EVENT_TYPES
from ledger.clock import instant_field
from ledger.document_check import NOTE_MEANING, document_notes
from ledger.identity_store import PatientIdentity
from ledger.ledger_meta import LEDGER_USER, NotInitialised
from ledger.merkle_log import checkpoint_if_due
from ledger.migrate import apply_migrations
from ledger.patients import PatientRegistry
from ledger.read_replica import ReadReplica
from ledger.reenrolment import reenrol
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import initialise, register_staff, revoke_key
from ledger.signed_note import Checkpoint, NoteError, parse_checkpoint
from ledger.signing_unlock import unlock_signing
from ledger.trust_anchor import home_trust_anchor, read_trust_anchor
from ledger.verifier import VerifyOptions, verify_store

ADMIN_PASSWORD_FILE = "admin-password.txt"
IDENTITY_FIELDS = ("family_name", "given_name", "birth_date", "hospital_number")


@contextmanager
def open_ledger(settings: Settings) -> Iterator[CustodyLedger]:
    """The ledger of the configured store (initialised by `custody init`), closed afterwards; never creates one."""
    if settings.backend == "sqlite" and not settings.sqlite_path.exists():
        raise NotInitialised(f"no ledger at {settings.sqlite_path}: run `custody init` (or set CUSTODY_HOME)")
    ledger = CustodyLedger(settings)
    try:
        yield ledger
    finally:
        ledger.close()


def resolve_id(reference: str, field: str = "id") -> UUID:
    """A UUID as given, or the product id derived from a COI (printed, scanned or eye-readable)."""
    try:
        return UUID(reference)
    except ValueError:
        pass
    try:
        return product_id_for(parse_coi(reference, field=field))
    except InvalidInput as error:
        raise type(error)(
            f"{reference!r} is neither a UUID nor a valid COI: {error.message}", field=field, rule=error.rule
        ) from None


def init(args: argparse.Namespace, settings: Settings) -> int:
    """`custody init`: idempotent set-up of store, migrations, ledger key and first admin."""
    applied_now = apply_migrations(settings)
    with open_ledger(settings) as ledger:
        password, generated = _admin_password(args, settings, ledger)
        report = initialise(ledger, password, args.admin_name)
        report.migrations = applied_now + report.migrations
    where = settings.database_url.split("@")[-1] if settings.database_url else str(settings.sqlite_path)
    print(f"store: {settings.backend} ({where})")
    print(f"migrations applied now: {', '.join(report.migrations) or 'none (up to date)'}")
    print(
        f"ledger {report.ledger_id}, key {report.ledger_key_id} ({'created' if report.created_ledger else 'existing'})"
    )
    print(f"trust anchor for verifiers: {settings.home / 'ledger.pub'}")
    if report.created_admin:
        hint = f" (generated; saved in {settings.home / ADMIN_PASSWORD_FILE}, mode 0600)" if generated else ""
        print(f"administrator 'admin' registered{hint}")
    else:
        print("administrator 'admin' already registered")
    if report.catalogue:
        print(report.catalogue)
    return 0


def _admin_password(args: argparse.Namespace, settings: Settings, ledger: CustodyLedger) -> tuple[str, bool]:
    from domain.staff import staff_id_for

    if ledger.store.size() and ledger.load(staff_id_for("admin")) is not None:
        return "", False
    if args.password_stdin or sys.stdin.isatty():
        return read_password(
            "new admin password: ", env_var="CUSTODY_ADMIN_PASSWORD", from_stdin=args.password_stdin
        ), False
    import os

    if os.environ.get("CUSTODY_ADMIN_PASSWORD"):
        return os.environ["CUSTODY_ADMIN_PASSWORD"], False
    password = secrets.token_urlsafe(18)
    path = settings.home / ADMIN_PASSWORD_FILE
    settings.home.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    return password, True


def _progress(done: int, total: int) -> None:
    percent = 100 * done / total if total else 100.0
    print(f"\rverifying {done}/{total} events ({percent:.0f}%)", end="", file=sys.stderr, flush=True)


def trust_option(path: str) -> set[bytes]:
    """The keys of the file named by --trust, or a refusal naming the option."""
    try:
        return read_trust_anchor(Path(path))
    except (OSError, ValueError) as error:
        raise InvalidInput(f"--trust {path}: {error}", field="--trust", rule="unreadable_key") from None


def _trusted_keys(args: argparse.Namespace, settings: Settings) -> set[bytes] | None:
    return trust_option(args.trust) if args.trust else home_trust_anchor(settings.home)


def _checkpoint_file(path: str) -> Checkpoint:
    try:
        return parse_checkpoint(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidInput(f"--against {path}: {error.strerror}", field="--against", rule="unreadable_file") from None
    except NoteError as error:
        raise InvalidInput(f"--against {path}: {error}", field="--against", rule="malformed_checkpoint") from None


def verify(args: argparse.Namespace, settings: Settings) -> int:
    """`custody verify`: exit 0 when intact, 1 with every failure named otherwise."""
    with open_ledger(settings) as ledger:
        trusted = _trusted_keys(args, settings)
        options = VerifyOptions(
            trusted=trusted,
            ledger_id=ledger.meta.ledger_id(),
            workers=args.workers or settings.verify_workers,
            strict=True,  # canonical form is always checked; --strict is accepted and changes nothing
            against=tuple(_checkpoint_file(path) for path in args.against),
            progress=_progress if sys.stderr.isatty() and not args.json else None,
        )
        # With a streaming replica configured, the audit's full read goes to it, not to the primary taking writes.
        replica = ReadReplica.open(settings, lambda _store: 0)
        store = replica.store if replica is not None else ledger.store
        try:
            report = verify_store(store, options)
            check_witnesses(ledger, report, args)
            notes = document_notes(store)  # sealed documents this host cannot open: reported, never failures
        finally:
            if replica is not None:
                replica.close()
    if options.progress:
        print(file=sys.stderr)
    if args.json:
        noted = [finding.to_json() for finding in notes]
        shredded = [note for note in noted if note["reason"] == "shredded_document"]
        print(
            json.dumps(
                {
                    **report.to_json(),
                    "trust_anchor": trusted is not None,
                    "notes": noted,
                    "shredded_documents": shredded,
                }
            )
        )
    else:
        if trusted is None:
            print(
                "warning: no trust anchor (ledger.pub) given: the genesis key was accepted as found",
                file=sys.stderr,
            )
        for failure in report.failures:
            print(
                f"FAIL position {failure.position} aggregate {failure.aggregate_id} version {failure.version}: "
                f"{failure.reason}: {failure.detail}"
            )
        for finding in notes:
            print(
                f"note position {finding.position} aggregate {finding.aggregate_id} version {finding.version}: "
                f"{finding.state}: {finding.detail} ({NOTE_MEANING[finding.state]})"
            )
        verdict = "intact" if report.intact else f"{len(report.failures)} failure(s)"
        print(
            f"verified {report.events} events in {report.aggregates} aggregates "
            f"and {report.checkpoints} checkpoint(s): {verdict}"
        )
    return 0 if report.intact else 1


def show(args: argparse.Namespace, settings: Settings) -> int:
    """`custody show`: a product's current state and its signed history."""
    with open_ledger(settings) as ledger:
        aggregate_id = resolve_id(args.product, "product")
        history = ledger.history(aggregate_id)
        if not history:
            raise NotFound(f"no product, shipment or batch has the id {args.product}", field="product")
        aggregate = ledger.replay(history)[0]
    assert aggregate is not None
    summary = aggregate_summary(aggregate)
    if args.json:
        print(json.dumps({"id": str(aggregate_id), "state": summary, "events": [e.to_json() for e in history]}))
        return 0
    print(f"{summary['kind']} {aggregate_id}")
    for key in ("coi", "product_kind", "product_code", "state", "patient_pseudonym", "location", "lot"):
        value = summary.get(key)
        if isinstance(value, dict):
            value = " / ".join(f"{name} {part}" for name, part in value.items() if part not in (None, ""))
        if value not in (None, "", {}):
            print(f"  {key}: {value}")
    holds = [name for name in ("quarantined", "suspended", "recalled") if summary.get(name)]
    print(f"  holds: {', '.join(holds) or 'none'}")
    print("history:")
    for envelope in history:
        print("  " + event_line(envelope))
    return 0


def _payload(text: str) -> dict[str, Any]:
    raw = Path(text[1:]).read_text() if text.startswith("@") else text
    try:
        payload = json.loads(raw)
    except ValueError as error:
        raise InvalidInput(f"--payload is not valid JSON: {error}", field="payload") from None
    if not isinstance(payload, dict):
        raise InvalidInput("--payload must be a JSON object", field="payload")
    return payload


def _occurred_at(text: str | None) -> datetime | None:
    return None if text is None else instant_field(text, "occurred_at", label="--occurred-at")


def record(args: argparse.Namespace, settings: Settings) -> int:
    """`custody record`: one signed step, refused as a whole or stored as a whole."""
    payload = _payload(args.payload)
    occurred_at = _occurred_at(args.occurred_at)
    aggregate_id = resolve_id(args.aggregate, "id")
    password = read_password(f"password for {args.user}: ", env_var="CUSTODY_PASSWORD", from_stdin=args.password_stdin)
    with open_ledger(settings) as ledger:
        envelopes = ledger.record(
            args.type,
            aggregate_id,
            payload,
            user=args.user,
            meaning=args.meaning,
            password=password,
            occurred_at=occurred_at,
        )
        checkpoint_if_due(ledger)
    if args.json:
        print(json.dumps([envelope.to_json() for envelope in envelopes]))
    else:
        for envelope in envelopes:
            print("recorded " + event_line(envelope))
    return 0


def event_types(args: argparse.Namespace, settings: Settings) -> int:
    """`custody event-types`: what can be recorded, by whom, with which fields; the staff record's events last."""
    rows: list[dict[str, Any]] = []
    for spec in sorted(EVENT_TYPES.values(), key=lambda s: (s.kind, s.name)):
        fields = [f.name for f in dataclasses.fields(spec.payload)]
        rows.append(
            {
                "type": spec.name,
                "kind": spec.kind,
                "meanings": [m.value for m in spec.meanings],
                "roles": sorted(r.value for r in spec.roles),
                "fields": fields,
                "derived_from": spec.derived_from,
                "description": spec.description,
            }
        )
    rows += staff_event_rows()
    if args.json:
        print(json.dumps(jsonable(rows)))
    else:
        for row in rows:
            derived = f" (recorded with {row['derived_from']})" if row["derived_from"] else ""
            print(f"{row['kind']:<9} {row['type']:<30} {', '.join(row['meanings'])}{derived}")
            print(f"          {row['description']}")
            print(f"          signed by: {', '.join(row['roles'])}")
    return 0


def staff_add(args: argparse.Namespace, settings: Settings) -> int:
    """`custody staff add`: the registrar signs; the new person's key is sealed by a one-time enrolment secret,
    which they must replace with `custody password change` before it signs anything (api/cli_password.py)."""
    from api.cli_password import enrolment_secret

    registrar_password = read_password(f"password for {args.by}: ", env_var="CUSTODY_PASSWORD")
    password, generated = enrolment_secret(args.username)
    with open_ledger(settings) as ledger:
        envelopes = register_staff(
            ledger,
            args.username,
            args.name,
            args.role,
            password,
            registrar=args.by,
            registrar_password=registrar_password,
            must_change_password=True,
        )
    print(f"registered {args.username} ({args.role}) with key {envelopes[-1].body['payload']['key_id']}")
    if generated:
        print(f"enrolment secret for {args.username} (shown once; hand it over in person): {password}")
    print(f"{args.username} must choose a password before signing: custody password change --user {args.username}")
    return 0


def staff_revoke(args: argparse.Namespace, settings: Settings) -> int:
    """`custody staff revoke-key`: later signatures with that key fail verification."""
    password = read_password(f"password for {args.by}: ", env_var="CUSTODY_PASSWORD")
    with open_ledger(settings) as ledger:
        envelopes = revoke_key(ledger, args.username, args.reason, by=args.by, password=password)
    print(f"revoked key {envelopes[0].body['payload']['key_id']} of {args.username}")
    return 0


def staff_unlock_signing(args: argparse.Namespace, settings: Settings) -> int:
    """`custody staff unlock-signing`: an administrator lifts a signing lock, with a reason, in the audit log."""
    by_ledger = args.by == LEDGER_USER  # the ledger's key opens with the master secret, not a password
    password = None if by_ledger else read_password(f"password for {args.by}: ", env_var="CUSTODY_PASSWORD")
    with open_ledger(settings) as ledger:
        before = unlock_signing(
            ledger, args.username, by=args.by, password=password, reason=args.reason, channel="cli", by_field="--by"
        )
    if args.json:
        print(json.dumps({"unlocked": args.username, "by": args.by, "locked_at": before.locked_at,
                          "consecutive_failures": before.failures}))  # fmt: skip
    else:
        print(f"signing of {args.username} unlocked by {args.by} (locked since {before.locked_at} after "
              f"{before.failures} wrong passwords); recorded in the audit log")  # fmt: skip
    return 0


def staff_reenrol(args: argparse.Namespace, settings: Settings) -> int:
    """`custody staff reenrol`: for a forgotten password, a new key under a new one-time enrolment secret, the old
    key revoked, in one transaction (ledger/reenrolment.py); the person then chooses a password of their own."""
    from api.cli_password import enrolment_secret

    by_ledger = args.by == LEDGER_USER  # the ledger's key opens with the master secret, not a password
    password = None if by_ledger else read_password(f"password for {args.by}: ", env_var="CUSTODY_PASSWORD")
    secret, generated = enrolment_secret(args.username)
    with open_ledger(settings) as ledger:
        done = reenrol(ledger, args.username, secret, by=args.by, password=password, reason=args.reason,
                       channel="cli", by_field="--by")  # fmt: skip
    lock = done.lifted_lock
    if args.json:
        lifted = None if lock is None else {"locked_at": lock.locked_at, "consecutive_failures": lock.failures}
        shown = {"enrolment_secret": secret} if generated else {}
        print(json.dumps({"username": done.username, "by": done.by, "new_key": done.key_id,
                          "revoked_keys": list(done.revoked), "signing_lock_lifted": lifted,
                          "signing_failures_reset": done.failures_reset, **shown}))  # fmt: skip
        return 0
    print(f"re-enrolled {done.username} by {done.by}: new key {done.key_id}; revoked {', '.join(done.revoked)}")
    if lock is not None:
        print(f"signing lock of {done.username} lifted (locked since {lock.locked_at} after {lock.failures} "
              "wrong passwords); recorded in the audit log")  # fmt: skip
    if generated:
        print(f"enrolment secret for {done.username} (shown once; hand it over in person): {secret}")
    print(f"{done.username} must choose a password before signing: custody password change --user {done.username}")
    return 0


def demo(args: argparse.Namespace, settings: Settings) -> int:
    """`custody demo`: a realistic data set recorded through the ordinary commands."""
    from api.demo import record_demo

    return record_demo(settings, as_json=args.json, if_empty=args.if_empty)


def bench(args: argparse.Namespace, settings: Settings) -> int:
    """`custody bench`: one JSON line per backend, measured as ratios within the run."""
    if getattr(args, "api", False):
        from api.rest_bench import bench_api_command

        return bench_api_command(args, settings)
    if getattr(args, "scale", None) is not None:
        return bench_scale_command(args, settings)
    from api.web.bench_worklist import bench_worklist
    from ledger.bench import run_bench, scratch_settings
    from projections.bench import bench_projections
    from projections.bench_reads import bench_read_pages

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend or settings.backend]
    for backend in backends:
        with scratch_settings(backend, settings.database_url) as scratch:
            figures = run_bench(scratch, events=args.events)
            if not args.no_projections:
                projected = bench_projections(scratch)
                figures.update({f"projections_{key}": value for key, value in projected.items() if key != "backend"})
                figures["rebuild_per_s"] = projected["rebuild_per_s"]
                figures.update(bench_worklist(scratch))  # the worklist page, demo vs 2,000 and 4,000 more products
                figures.update(bench_read_pages(scratch))  # product list, inventory, status: 1e5 vs 1e3 products
        print(json.dumps(figures) if args.json else "  ".join(f"{k}={v}" for k, v in figures.items()))
    return 0


def bench_scale_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody bench --scale N`: one JSON object per backend (api/bench_scale.py)."""
    from api.bench_scale import bench_scale
    from ledger.bench import scratch_settings

    if args.scale < 1:
        raise InvalidInput(f"--scale must be a positive number of events, not {args.scale}", field="scale",
                           rule="positive_count")  # fmt: skip
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend or settings.backend]
    for backend in backends:
        with scratch_settings(backend, settings.database_url) as scratch:
            figures = bench_scale(scratch, args.scale)
        print(json.dumps(figures) if args.json else "  ".join(f"{k}={v}" for k, v in figures.items()))
    return 0


def patient_register(args: argparse.Namespace, settings: Settings) -> int:
    """`custody patient register`: identity JSON on stdin (never on the command line), pseudonym out."""
    try:
        data = json.loads(sys.stdin.read())
        identity = PatientIdentity(**{name: str(data[name]) for name in IDENTITY_FIELDS})
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidInput(
            f"stdin must be a JSON object with {', '.join(IDENTITY_FIELDS)} ({error})", field="identity"
        ) from None
    password = read_password(f"password for {args.user}: ", env_var="CUSTODY_PASSWORD")
    with open_ledger(settings) as ledger:
        pseudonym = PatientRegistry(ledger).register(identity, user=args.user, password=password)
    print(pseudonym)
    return 0


def patient_show(args: argparse.Namespace, settings: Settings) -> int:
    """`custody patient show`: for bedside and pharmacy identity checks only."""
    password = read_password(f"password for {args.user}: ", env_var="CUSTODY_PASSWORD")
    with open_ledger(settings) as ledger:
        identity = PatientRegistry(ledger).reveal(args.pseudonym, user=args.user, password=password, reason=args.reason)
    if args.json:
        print(json.dumps(dataclasses.asdict(identity)))
    else:
        print(f"{identity.family_name} {identity.given_name}, born {identity.birth_date}, {identity.hospital_number}")
    return 0


def patient_erase(args: argparse.Namespace, settings: Settings) -> int:
    """`custody patient erase`: the identity goes; every hash and signature stays valid."""
    password = read_password(f"password for {args.user}: ", env_var="CUSTODY_PASSWORD")
    approver_password = read_password(f"password for {args.approver}: ", env_var="CUSTODY_APPROVER_PASSWORD")
    with open_ledger(settings) as ledger:
        erased = PatientRegistry(ledger).erase(
            args.pseudonym,
            user=args.user,
            password=password,
            approver=args.approver,
            approver_password=approver_password,
            reason=args.reason,
            legal_ground=args.legal_ground,
        )
    if not erased:
        raise NotFound(f"no identity is held for {args.pseudonym}", field="pseudonym")
    print(f"identity of {args.pseudonym} erased (its key destroyed; recorded in the audit log)")
    return 0
