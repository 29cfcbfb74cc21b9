"""Sending each signed checkpoint to the configured witnesses and keeping their cosignatures.

A checkpoint signed only by the ledger proves nothing against the store's owner, who can
delete checkpoints or sign a second tree; a witness's cosignature, kept by a second party
that refuses forks and rollbacks, does. A witness that is down or refuses must not stop
the write that made the checkpoint due: the refusal is logged and the witness gets the
next checkpoint, with the consistency proof from the size it last cosigned. A 409 or 422
means the witness holds another view of this log — a fork or a rollback — and is logged
at error level; ``custody verify`` asks again and reports it as a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger.clock import isoformat
from ledger.merkle_tree import StoredTree
from ledger.settings import witness_entries
from ledger.signed_note import Checkpoint
from ledger.store import EventStore
from ledger.witness_client import Witness, WitnessRefused, submit

if TYPE_CHECKING:
    from ledger.service import CustodyLedger

LOGGER = logging.getLogger("custody.witness")
TIMEOUT_SECONDS = 5.0
FORK_STATUSES = frozenset({409, 422})


@dataclass(frozen=True)
class WitnessOutcome:
    """What one witness answered to one checkpoint: cosigned, or refused with its status and words."""

    witness: str
    cosigned: bool
    status: int = 200
    detail: str = ""

    @property
    def fork(self) -> bool:
        """The witness holds another view of the log (409/422): a fork or a rollback, never a mere outage."""
        return self.status in FORK_STATUSES


def configured_witnesses(text: str) -> list[Witness]:
    """The witnesses of a CUSTODY_WITNESSES value (already validated at start-up)."""
    return [Witness(url, key) for url, key in witness_entries(text)]


def stored_cosignatures(store: EventStore, size: int) -> dict[str, str]:
    """Witness name → cosignature line stored for the checkpoint of ``size``."""
    with store.side_transaction() as cursor:
        cursor.execute(
            "SELECT witness, signature_line FROM checkpoint_cosignatures WHERE tree_size = %s ORDER BY witness",
            (size,),
        )
        return {str(row["witness"]): str(row["signature_line"]) for row in cursor.fetchall()}


def cosigned_note(store: EventStore, made: Checkpoint) -> str:
    """The checkpoint note with every stored cosignature line appended (C2SP: cosignatures are note signatures)."""
    return made.note + "".join(stored_cosignatures(store, made.size).values())


def _last_cosigned_size(store: EventStore, witness: str) -> int:
    with store.side_transaction() as cursor:
        cursor.execute("SELECT MAX(tree_size) AS size FROM checkpoint_cosignatures WHERE witness = %s", (witness,))
        row = cursor.fetchone()
    return int(row["size"]) if row and row["size"] is not None else 0


def witness_checkpoint(ledger: CustodyLedger, made: Checkpoint) -> list[WitnessOutcome]:
    """Ask every configured witness that has not yet cosigned ``made`` to cosign it; store what verifies.

    Never raises for a witness's answer: the checkpoint stays signed whatever the witnesses say.
    """
    witnesses = configured_witnesses(ledger.settings.witnesses)
    if not witnesses:
        return []
    held = stored_cosignatures(ledger.store, made.size)

    def prove(old: int, new: int) -> list[bytes]:
        with ledger.store.side_transaction() as cursor:
            return StoredTree(cursor).consistency(old, new)

    outcomes = []
    for witness in witnesses:
        name = witness.key.name
        if name in held:
            outcomes.append(WitnessOutcome(name, True))
            continue
        try:
            line = submit(witness, made, _last_cosigned_size(ledger.store, name), prove, TIMEOUT_SECONDS)
        except WitnessRefused as refused:
            outcome = WitnessOutcome(name, False, refused.status, str(refused))
            if outcome.fork:
                LOGGER.error(
                    "witness %s refused the checkpoint of %d as a fork or rollback: %s", name, made.size, refused
                )
            else:
                LOGGER.warning(
                    "witness %s did not cosign the checkpoint of %d (retried at the next): %s", name, made.size, refused
                )
            outcomes.append(outcome)
            continue
        with ledger.store.side_transaction() as cursor:
            cursor.execute(
                "INSERT INTO checkpoint_cosignatures (tree_size, witness, signature_line, received_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (tree_size, witness) DO NOTHING",
                (made.size, name, line, isoformat(ledger.clock.now())),
            )
        outcomes.append(WitnessOutcome(name, True))
    return outcomes
