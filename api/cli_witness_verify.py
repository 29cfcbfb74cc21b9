"""`--witness KEYFILE` and `--quorum N` for `custody verify` and `custody verify-bundle`.

The store's owner can delete checkpoints or sign a second tree; only cosignatures by
witnesses the verifier names show that a second party saw the same tree. With witnesses
configured (CUSTODY_WITNESSES), `custody verify` also offers them the latest checkpoint
once more and warns about every refusal — loudest for a fork or rollback (409/422).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from domain.errors import InvalidInput
from ledger.service import CustodyLedger
from ledger.signed_note import NoteError
from ledger.verifier import Failure, VerificationReport, stored_checkpoints
from ledger.witness import parse_vkey
from ledger.witness_quorum import QUORUM_RULE, Quorum
from ledger.witness_submit import cosigned_note, witness_checkpoint


def add_quorum_options(parser: Any) -> None:
    """The two options, shared by both verify commands."""
    parser.add_argument(
        "--witness",
        metavar="KEYFILE",
        action="append",
        default=[],
        help="a witness's verifier-key file (witness.vkey) whose cosignature counts (repeatable)",
    )
    parser.add_argument(
        "--quorum", metavar="N", type=int, help="fail unless N given witnesses cosigned the checkpoint (default 1)"
    )


def quorum_option(args: argparse.Namespace) -> Quorum | None:
    """The quorum asked for, or a refusal naming the option; None when no witness is asked for."""
    if not args.witness:
        if args.quorum is not None:
            raise InvalidInput("--quorum needs at least one --witness KEYFILE", field="--quorum", rule="no_witness")
        return None
    keys = []
    for path in args.witness:
        try:
            keys.append(parse_vkey(Path(path).read_text(encoding="ascii")))
        except (OSError, UnicodeDecodeError) as error:
            raise InvalidInput(f"--witness {path}: {error}", field="--witness", rule="unreadable_key") from None
        except NoteError as error:
            raise InvalidInput(f"--witness {path}: {error}", field="--witness", rule="malformed_witness_key") from None
    needed = 1 if args.quorum is None else args.quorum
    if not 1 <= needed <= len(keys):
        raise InvalidInput(
            f"--quorum {needed}: between 1 and the {len(keys)} witness key(s) given",
            field="--quorum",
            rule="quorum_out_of_range",
        )
    return Quorum(tuple(keys), needed)


def check_witnesses(ledger: CustodyLedger, report: VerificationReport, args: argparse.Namespace) -> None:
    """Warn about refusing witnesses; add a ``witness_quorum_not_met`` failure when the quorum is missed."""
    quorum = quorum_option(args)
    history = stored_checkpoints(ledger.store)
    latest = history[-1] if history else None
    if latest is not None:
        for outcome in witness_checkpoint(ledger, latest):
            if outcome.fork:
                print(f"warning: FORK OR ROLLBACK: {outcome.detail}", file=sys.stderr)
            elif not outcome.cosigned:
                print(f"warning: {outcome.detail}", file=sys.stderr)
    if quorum is None:
        return
    if latest is None:
        report.failures.append(Failure(0, "checkpoint", 0, QUORUM_RULE, "the ledger holds no signed checkpoint"))
        return
    problem = quorum.problem(cosigned_note(ledger.store, latest), latest.size)
    if problem is not None:
        report.failures.append(Failure(latest.size, "checkpoint", 0, QUORUM_RULE, problem))
