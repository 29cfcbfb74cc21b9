"""`custody status | timeline | inventory | audit | metrics | projections`: the read models on the command line.

Thin: parse and check the arguments (every refusal names the field and the rule,
exit 2), call ``projections``, print text or one JSON line. Queries catch their
projection up first. Rebuild and check report progress on standard error when
it is a terminal. Patient identity is never printed: the pseudonym only.
A stored event a read model could not project is a projection fault: rebuild
finishes and lists the faults, check lists them and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from api.cli_commands import open_ledger, resolve_id
from api.render import correction_lines, qc_lines
from api.temperature_svg import write_svg_files
from api.temperature_text import temperature_json, temperature_lines
from api.web.temperature_chart import temperature_charts
from domain.errors import InvalidInput
from ledger.audit_log import read_audit
from ledger.clock import instant_field
from ledger.service import CustodyLedger
from ledger.settings import Settings
from projections import followup_query, queries, runner
from projections.check import check
from projections.faults import recorded_faults
from projections.status_query import status_as_of, status_now

EXIT_DIFFERENT = 1
Handler = Callable[[argparse.Namespace, Settings], int]


def add_commands(sub: Any) -> None:
    """Register the read-model subcommands on the `custody` parser."""
    status = sub.add_parser("status", help="a product's state, custodian, location, holds and running deadlines")
    status.add_argument("product", metavar="PRODUCT_ID", help="product UUID or its COI")
    status.add_argument("--as-of", help="ISO 8601 with offset: replay what the ledger had recorded by then")
    status.add_argument(
        "--json", action="store_true", help="one JSON object (with a `state` field and a `temperature` list)"
    )
    status.add_argument(
        "--chart-dir",
        metavar="DIR",
        help="write each logger file's temperature chart as an SVG file into DIR (created if needed)",
    )
    status.set_defaults(handler=status_command)

    timeline = sub.add_parser("timeline", help="every event of a patient's products, in the order they happened")
    timeline.add_argument("--patient", required=True, metavar="PSEUDONYM", help="the patient's pseudonym")
    timeline.add_argument("--json", action="store_true")
    timeline.set_defaults(handler=timeline_command)

    inventory = sub.add_parser("inventory", help="units on hand per site and LN2 location, with status")
    inventory.add_argument("--site", help="only this site (as named in the events)")
    inventory.add_argument("--json", action="store_true")
    inventory.set_defaults(handler=inventory_command)

    audit = sub.add_parser("audit", help="every signed event by user, role, site and time; near misses, deviations")
    audit.add_argument("--user", help="only events signed by this username")
    audit.add_argument("--since", help="only events recorded at or after this ISO 8601 instant (with offset)")
    audit.add_argument("--role", help="only events signed in this role")
    audit.add_argument("--site", help="only events at this site")
    audit.add_argument(
        "--security",
        action="store_true",
        help="the audit log of people instead: identity reveals and erasures, wrong signing passwords, "
        "signing locks and unlocks (--user: as actor or subject; --since)",
    )
    audit.add_argument("--json", action="store_true")
    audit.set_defaults(handler=audit_command)

    metrics = sub.add_parser("metrics", help="vein-to-vein, collection-to-release, release-to-infusion (days)")
    metrics.add_argument("--json", action="store_true")
    metrics.set_defaults(handler=metrics_command)

    projections = sub.add_parser("projections", help="rebuild, inspect or check the read models")
    actions = projections.add_subparsers(dest="projections_command", required=True, metavar="ACTION")
    rebuild = actions.add_parser("rebuild", help="empty the read models and replay the whole log")
    rebuild.add_argument("names", nargs="*", metavar="NAME", help=f"default: all ({', '.join(runner.NAMES)})")
    rebuild.add_argument("--json", action="store_true")
    rebuild.set_defaults(handler=rebuild_command)
    lag = actions.add_parser("status", help="each read model's position in the log")
    lag.add_argument("--json", action="store_true")
    lag.set_defaults(handler=projections_status_command)
    compare = actions.add_parser(
        "check", help="rebuild in memory and compare with the live tables; exit 1 on a difference or a fault"
    )
    compare.add_argument("--json", action="store_true")
    compare.set_defaults(handler=check_command)


@contextmanager
def projected_ledger(settings: Settings) -> Iterator[CustodyLedger]:
    """An initialised ledger whose read-model tables exist (migrations applied), closed afterwards."""
    with open_ledger(settings) as ledger:
        ledger.meta.ledger_id()
        runner.require_tables(ledger.store)
        yield ledger


def _instant(text: str, field: str) -> datetime:
    """An ISO 8601 instant with its offset, or a refusal naming the option."""
    return instant_field(text, field, label=f"--{field.replace('_', '-')}")


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False))


def _terminal_progress(args: argparse.Namespace, verb: str) -> Callable[[str, int, int], None] | None:
    if args.json or not sys.stderr.isatty():
        return None

    def show(name: str, done: int, total: int) -> None:
        percent = 100 * done / total if total else 100.0
        print(f"\r{verb} {name}: {done}/{total} events ({percent:.0f}%)   ", end="", file=sys.stderr, flush=True)

    return show


def status_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody status`: now from the projection, or --as-of from the event store; then each logger file's
    temperature history (only the summaries recorded by --as-of), optionally written as SVG files."""
    product_id = resolve_id(args.product, "product")
    as_of = None if args.as_of is None else _instant(args.as_of, "as_of")
    with projected_ledger(settings) as ledger:
        if as_of is None:
            status = status_now(ledger.store, product_id, ledger.clock.now(), ledger.catalogue)
        else:
            status = status_as_of(ledger.store, product_id, as_of, ledger.catalogue)
        charts = temperature_charts(ledger, product_id, ZoneInfo(settings.timezone), recorded_by=as_of)
    svg_paths = [None] * len(charts) if args.chart_dir is None else write_svg_files(charts, Path(args.chart_dir))
    if args.json:
        legs = [temperature_json(chart, path) for chart, path in zip(charts, svg_paths, strict=True)]
        _print_json({**status, "temperature": legs})
        return 0
    where = status["location"]
    print(f"product {status['product_id']}  COI {status['coi']}  ({status['product_kind']}, {status['product_code']})")
    print(f"  patient: {status['patient_pseudonym']}" + (f"   as of {status['as_of']}" if status["as_of"] else ""))
    hours = (status["time_in_state_seconds"] or 0) / 3600
    print(f"  state: {status['state']} since {status['state_since']} ({hours:.1f} h)")
    print(f"  next step: {status['next_step'] or 'none (custody ended)'}")
    custodian = status["custodian"]
    print(f"  custodian: {custodian['name']} ({custodian['role']}, {custodian['user_id']})")
    slot = "/".join(str(where[k]) for k in ("tank", "rack", "box", "position") if where[k])
    print(f"  location: {where['site']}" + (f" {slot}" if slot else ""))
    if status["in_transit_to"]:
        print(f"  in transit to {status['in_transit_to']} (shipment {status['shipment_id']})")
    for hold in status["holds"]:
        print(f"  HOLD {hold['kind']}: {hold['reason']}")
    if status["pathway_managed_elsewhere"]:
        print(f"  pathway managed elsewhere: {status['pathway_managed_elsewhere']}")
    for bag in status["bags"] or ():
        print(f"  bag {bag['bag_id']}: {bag['fate']}")
    for deviation in status["open_deviations"]:
        print(f"  open deviation v{deviation['version']}: {deviation['description']}")
    for deadline in status["deadlines"]:
        left = deadline["seconds_left"] / 60
        state = f"OVERDUE by {-left:.0f} min" if deadline["overdue"] else f"{left:.0f} min left"
        print(f"  deadline {deadline['kind']}: {deadline['deadline_at']} ({state})")
    for line in [*qc_lines(status["qc"]), *correction_lines(status["corrections"])]:
        print(line)
    for line in temperature_lines(charts, settings.timezone, svg_paths):
        print(line)
    return 0


def timeline_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody timeline --patient`: every event of the patient's products and pathway (a corrected fact followed by
    its correction chain), then overdue visits."""
    with projected_ledger(settings) as ledger:
        rows = queries.timeline(ledger.store, args.patient)
        overdue = followup_query.overdue_for_patient(ledger.store, args.patient, ledger.clock.now().date())
    if args.json:
        _print_json({"patient_pseudonym": args.patient, "events": rows, "overdue_visits": overdue})
        return 0
    print(f"patient {args.patient}: {len(rows)} events")
    for row in rows:
        print(
            f"  {row['occurred_at'][:19]}Z  {row['coi'] or 'pathway':<17}  {row['event_type']:<28} "
            f"{row['actor_name']} ({row['actor_role']}), {row['meaning']}"
        )
        if row["corrections"] is not None:
            for line in correction_lines([row["corrections"]], indent="      "):
                print(line)
    for visit in overdue:
        print(
            f"  OVERDUE  {visit['coi']}  {visit['visit']} visit, due {visit['due_on']}, "
            f"on time until {visit['latest_on']}"
        )
    return 0


def inventory_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody inventory`: units on hand per site and storage location."""
    with projected_ledger(settings) as ledger:
        rows = queries.inventory(ledger.store, args.site)
    if args.json:
        _print_json({"site": args.site, "units": rows})
        return 0
    print(f"{len(rows)} unit(s) on hand" + (f" at {args.site}" if args.site else ""))
    for row in rows:
        slot = "/".join(str(row[k]) for k in ("tank", "rack", "box", "position") if row[k]) or "(not yet stored)"
        reason = f" — {row['hold_reason']}" if row["hold_reason"] else ""
        print(
            f"  {row['site']}  {slot}  {row['coi']}  {row['product_code']}  {row['patient_pseudonym']}  "
            f"{row['status']}{reason}  expiry {row['expiry'] or 'unknown'}"
        )
    return 0


def audit_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody audit`: the filtered trail, then its near misses and deviations (``--security``: the people log)."""
    since = None if args.since is None else _instant(args.since, "since")
    if args.security:
        return _security_log(args, settings, since)
    with projected_ledger(settings) as ledger:
        trail = queries.audit(ledger.store, user=args.user, since=since, role=args.role, site=args.site)
    if args.json:
        _print_json(trail)
        return 0
    for row in trail["events"]:
        print(
            f"{row['recorded_at'][:19]}Z  {row['user_id']:<12} {row['role']:<10} {row['event_type']:<28} "
            f"{row['meaning']:<9} {row['site'] or '-'}"
        )
    for title, key in (("near misses", "near_misses"), ("deviations", "deviations")):
        print(f"{title}: {len(trail[key])}")
        for row in trail[key]:
            print(f"  {row['occurred_at'][:19]}Z  {row['aggregate_id']}  {row['user_id']}: {row['detail']}")
    print(f"corrected facts: {len(trail['corrections'])}")
    for chain in trail["corrections"]:
        print(f"  {chain['aggregate_id']}")
        for line in correction_lines([chain], indent="    "):
            print(line)
    return 0


def _security_log(args: argparse.Namespace, settings: Settings, since: datetime | None) -> int:
    """`custody audit --security`: the audit-log rows, oldest first; pseudonyms only, never an identity."""
    for option, value in (("--role", args.role), ("--site", args.site)):
        if value is not None:
            raise InvalidInput(
                f"{option} filters signed events; the security log is filtered by --user and --since only",
                field=option,
                rule="option_not_applicable",
            )
    with open_ledger(settings) as ledger:
        rows = [entry.to_dict() for entry in read_audit(ledger.store, person=args.user, since=since)]
    if args.json:
        _print_json({"security_log": rows})
        return 0
    print(f"security log: {len(rows)} row(s)")
    for row in rows:
        detail = "  ".join(f"{key}={value}" for key, value in row["detail"].items())
        print(f"{row['recorded_at'][:19]}Z  {row['action']:<26} {row['actor']:<12} {row['subject']:<14} {detail}")
    return 0


def metrics_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody metrics`: turnaround in days per product kind and site."""
    with projected_ledger(settings) as ledger:
        groups = queries.metrics(ledger.store)
    if args.json:
        _print_json({"groups": groups})
        return 0
    for group in groups:
        print(f"{group['product_kind']} at {group['site']}: {group['products']} product(s)")
        for name in ("vein_to_vein", "collection_to_release", "release_to_infusion"):
            figures = group[name]
            median = "-" if figures["median_days"] is None else f"{figures['median_days']:.1f} d"
            print(f"  {name:<22} median {median:>8}  (n={figures['count']})")
    return 0


def rebuild_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody projections rebuild`: empty and replay the named read models (all by default)."""
    progress = _terminal_progress(args, "rebuilding")
    with projected_ledger(settings) as ledger:
        applied = runner.rebuild(ledger.store, args.names, progress=progress)
        faults = recorded_faults(ledger.store, list(applied))
    if progress:
        print(file=sys.stderr)
    if args.json:
        _print_json({"rebuilt": applied, "faults": faults})
    else:
        for name, count in applied.items():
            print(f"rebuilt {name}: {count} events applied")
        _print_faults(faults)
    return 0


def _print_faults(faults: list[dict[str, Any]]) -> None:
    """One line per projection fault: where the event is and why it was set aside (never its payload)."""
    for fault in faults:
        print(
            f"FAULT {fault['projection']} at log position {fault['log_position']}: {fault['event_type']} of "
            f"{fault['aggregate_id']}: {fault['error_class']}: {fault['message']}"
        )
    if faults:
        print(f"{len(faults)} stored event(s) could not be projected; `custody verify` checks them")


def projections_status_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody projections status`: how far each read model has got."""
    with projected_ledger(settings) as ledger:
        lags = runner.lags(ledger.store)
    rows = [
        {"name": lag.name, "position": lag.position, "log_size": lag.log_size, "behind": lag.behind} for lag in lags
    ]
    if args.json:
        _print_json({"projections": rows})
    else:
        for row in rows:
            print(f"{row['name']:<15} at {row['position']} of {row['log_size']} ({row['behind']} behind)")
    return 0


def check_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody projections check`: exit 0 when the live tables equal a rebuild from the log, 1 otherwise."""
    reporting = _terminal_progress(args, "checking")
    progress = None if reporting is None else (lambda done, total: reporting("all", done, total))
    with projected_ledger(settings) as ledger:
        report = check(ledger.store, progress=progress)
    if reporting:
        print(file=sys.stderr)
    if args.json:
        _print_json(
            {
                "consistent": report.consistent,
                "rows": report.rows_compared,
                "differences": report.differences,
                "faults": report.faults,
            }
        )
    else:
        for difference in report.differences:
            print(f"DIFFERENT {difference}")
        _print_faults(report.faults)
        verdict = "consistent" if report.consistent else f"{len(report.differences)} difference(s)"
        print(f"compared {report.rows_compared} rows with a rebuild from the log: {verdict}")
    return 0 if report.passed else EXIT_DIFFERENT
