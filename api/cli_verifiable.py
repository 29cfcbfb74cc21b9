"""The transparency log's commands: checkpoint, consistency proofs, key rotation, bundle export and check."""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path
from typing import Any

from api.cli_commands import open_ledger, resolve_id, trust_option
from api.cli_registry_export import export_registry_command
from api.cli_selection import is_selection, verify_selection_command
from api.cli_witness_verify import add_quorum_options, quorum_option
from api.passwords import read_password
from domain.errors import InvalidInput, NotFound, RuleViolation
from ledger.bundle import export_bundle
from ledger.bundle_parse import BundleError, parse_bundle_text
from ledger.bundle_summary import bundle_summary
from ledger.bundle_verify import verify_bundle
from ledger.consistency import consistency_answer
from ledger.merkle_log import InconsistentLog, checkpoint
from ledger.settings import Settings
from ledger.setup import rotate_key, rotate_ledger_key
from ledger.witness import cosigners
from projections.fhir_export import ProductNotFound, export_fhir
from projections.registry_export import REGISTRY_NAMES


def add_commands(sub: Any) -> None:
    """Register the transparency-log subcommands."""
    cp = sub.add_parser(
        "checkpoint", help="sign the log's size and Merkle root with the ledger key (C2SP checkpoint note)"
    )
    cp.add_argument("--json", action="store_true", help="print size, root and the note as JSON")
    cp.add_argument("-o", "--output", metavar="FILE", help="also write the note to FILE (an auditor's copy)")
    cp.set_defaults(handler=checkpoint_command)

    proof = sub.add_parser(
        "proof", help="RFC 9162 consistency proof from an earlier tree size to the latest checkpoint (or --to)"
    )
    proof.add_argument("--from", dest="old", required=True, metavar="N", help="the size of the tree you already trust")
    proof.add_argument("--to", dest="new", metavar="M", help="a later size (default: the latest signed checkpoint)")
    proof.add_argument("--json", action="store_true", help="print sizes, roots, proof and checkpoints as JSON")
    proof.set_defaults(handler=proof_command)

    keys = sub.add_parser("keys", help="signing keys: rotate a person's key (administrators)")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    rotate = keys_sub.add_parser("rotate", help="new key under the same password; the old one is revoked")
    rotate.add_argument("--user", required=True, help="whose key (their password: CUSTODY_USER_PASSWORD or prompt)")
    rotate.add_argument("--by", default="admin", help="the administrator who signs (password: CUSTODY_PASSWORD)")
    rotate.set_defaults(handler=rotate_command)

    rotate_ledger = keys_sub.add_parser(
        "rotate-ledger", help="a new ledger key, registered and the old one revoked; ledger.pub lists both"
    )
    rotate_ledger.set_defaults(handler=rotate_ledger_command)

    export = sub.add_parser("export", help="one product's history as a self-contained, offline-verifiable bundle")
    export.add_argument("product", metavar="PRODUCT_ID", help="product UUID or its COI")
    export.add_argument("-o", "--output", metavar="FILE", required=True, help="where to write the JSON bundle")
    export.add_argument(
        "--format",
        choices=("bundle", "fhir", *REGISTRY_NAMES),
        default="bundle",
        help="bundle: the signed, offline-verifiable bundle (default); fhir: a FHIR R5 Bundle (docs/fhir.md); "
        "descar-t, ebmt: the product's registry rows (docs/registries.md)",
    )
    export.add_argument(
        "--with-documents", action="store_true", help="include the referenced documents' bytes (base64) in the bundle"
    )
    export.set_defaults(handler=export_command)

    check = sub.add_parser(
        "verify-bundle", help="verify an exported bundle with no database and no network (exit 0 or 1)"
    )
    check.add_argument("bundle", metavar="FILE")
    check.add_argument("--trust", metavar="FILE", help="the ledger's public key file (ledger.pub) to trust")
    check.add_argument("--json", action="store_true")
    check.add_argument("--product", metavar="PRODUCT_ID", help="fail unless the bundle is this product's (UUID or COI)")
    add_quorum_options(check)
    check.set_defaults(handler=verify_bundle_command)


def checkpoint_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody checkpoint`: the note an auditor keeps to prove later that history was not rewritten."""
    with open_ledger(settings) as ledger:
        try:
            made = checkpoint(ledger)
        except InconsistentLog as error:
            message = f"{error}; run `custody verify` to locate the change"
            if args.json:
                print(json.dumps({"rule": error.rule, "message": message}))
            else:
                print(f"error: {message} [rule: {error.rule}]", file=sys.stderr)
            return 1
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(made.note)
    if args.json:
        print(json.dumps({"size": made.size, "root": base64.b64encode(made.root).decode(), "note": made.note}))
    else:
        print(made.note, end="")
    return 0


def proof_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody proof --from N`: what an auditor checks against the checkpoint it kept and the newest one."""
    with open_ledger(settings) as ledger:
        answer = consistency_answer(ledger.store, args.old, args.new)
    if args.json:
        print(json.dumps(answer))
        return 0
    print(f"consistency proof from {answer['from']} to {answer['to']} ({len(answer['proof'])} hashes)")
    print(f"root at {answer['from']}: {answer['from_root']}")
    print(f"root at {answer['to']}: {answer['to_root']}")
    for node in answer["proof"]:
        print(node)
    if answer["to_checkpoint"]:
        print(answer["to_checkpoint"], end="")
    return 0


def export_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody export`: the bundle an inspector can verify on their own machine, or the FHIR R5 Bundle."""
    if args.format == "fhir":
        return export_fhir_command(args, settings)
    if args.format in REGISTRY_NAMES:
        return export_registry_command(args, settings)
    with open_ledger(settings) as ledger:
        try:
            bundle = export_bundle(ledger, resolve_id(args.product, "product"), with_documents=args.with_documents)
        except LookupError as error:
            raise NotFound(str(error), field="product") from None
    Path(args.output).write_text(json.dumps(bundle, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    documents = bundle.get("documents", [])
    included = sum(1 for document in documents if "content_base64" in document)
    print(
        f"wrote {args.output}: {len(bundle['events'])} events proven in a checkpoint of the whole log; "
        f"{len(documents)} referenced document(s), {included} included"
    )
    return 0


def export_fhir_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody export --format fhir`: the product's history as a FHIR R5 collection Bundle."""
    with open_ledger(settings) as ledger:
        try:
            bundle = export_fhir(ledger, resolve_id(args.product, "product"))
        except ProductNotFound as error:
            raise NotFound(str(error), field="product") from None
        except (LookupError, TypeError, ValueError, AttributeError):
            raise RuleViolation(
                "this product's stored history cannot be replayed into FHIR; run `custody verify` to locate the event",
                field="product",
                rule="history_not_replayable",
            ) from None
    Path(args.output).write_text(json.dumps(bundle, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    provenances = sum(1 for entry in bundle["entry"] if entry["resource"]["resourceType"] == "Provenance")
    print(f"wrote {args.output}: FHIR R5 Bundle of {len(bundle['entry'])} resources, {provenances} signed steps")
    return 0


def verify_bundle_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody verify-bundle`: reads only the files named; never opens or creates a store."""
    if is_selection(args.bundle):  # the audit trail's selection: standard bundles and their listing, in a ZIP
        return verify_selection_command(args)
    try:
        bundle = parse_bundle_text(Path(args.bundle).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"bundle {args.bundle}: {error}", field="bundle", rule="unreadable_bundle") from None
    except BundleError as error:
        raise InvalidInput(f"bundle {args.bundle}: {error}", field="bundle", rule=error.rule) from None
    trusted = None
    if args.trust:
        trusted = trust_option(args.trust)
    quorum = quorum_option(args)
    problems = verify_bundle(bundle, trusted, quorum)
    summary = bundle_summary(bundle)
    if args.product is not None:
        expected = str(resolve_id(args.product, "--product"))
        if summary["product_id"] != expected:
            problems.append(f"the bundle is for product {summary['product_id']}, not {expected} as expected")
    cosigned_by = cosigners(str(bundle.get("checkpoint")), list(quorum.keys)) if quorum else []
    if args.json:
        print(
            json.dumps(
                {
                    "intact": not problems,
                    "problems": problems,
                    "trust_anchor": trusted is not None,
                    "cosigned_by": cosigned_by,
                    **summary,
                }
            )
        )
    else:
        if trusted is None:
            print("warning: no --trust key given: the bundle's own genesis key was accepted", file=sys.stderr)
        versions = summary["versions"]
        print(
            f"product {summary['product_id']} (COI {summary['coi'] or 'unknown'}): versions "
            f"{versions[0] if versions else '-'}..{versions[-1] if versions else '-'}, "
            f"checkpoint of {summary['checkpoint_size']} events at {summary['checkpoint_time'] or 'unknown time'}"
        )
        if quorum is not None:
            print(f"cosigned by {', '.join(cosigned_by) or 'none of the given witnesses'}")
        for problem in problems:
            print(f"FAIL {problem}")
        print("bundle verified: intact" if not problems else f"bundle verification failed: {len(problems)} problem(s)")
    return 0 if not problems else 1


def rotate_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody keys rotate`: signatures made before stay valid; the old key signs nothing after."""
    by_password = read_password(f"password for {args.by}: ", env_var="CUSTODY_PASSWORD")
    password = read_password(f"password of {args.user}: ", env_var="CUSTODY_USER_PASSWORD")
    with open_ledger(settings) as ledger:
        envelopes = rotate_key(ledger, args.user, password, by=args.by, by_password=by_password)
    new, old = envelopes[0].body["payload"]["key_id"], envelopes[1].body["payload"]["key_id"]
    print(f"{args.user}: key {old} revoked, key {new} registered")
    return 0


def rotate_ledger_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody keys rotate-ledger`: run on the host that holds the master secret."""
    with open_ledger(settings) as ledger:
        envelopes = rotate_ledger_key(ledger)
    new, old = envelopes[0].body["payload"]["key_id"], envelopes[1].body["payload"]["key_id"]
    print(f"ledger key {old} revoked, key {new} registered; {settings.home / 'ledger.pub'} lists every ledger key")
    return 0
