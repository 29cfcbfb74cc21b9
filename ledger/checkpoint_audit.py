"""Checking signed checkpoints against the tree rebuilt from the stored events themselves.

Per-aggregate chains cannot show that the latest events were removed; a checkpoint
can: the tree rebuilt from what is stored now must have at least the checkpoint's
size and, at that size, exactly its root. The leaves are recomputed from the event
rows, never read from the follower's table, so editing that table proves nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ledger.merkle import roots_at
from ledger.signed_note import Checkpoint, verify_note


@dataclass(frozen=True)
class CheckpointProblem:
    """What is wrong with one checkpoint: its tree size, a reason code and a sentence."""

    size: int
    reason: str
    detail: str


def checkpoint_problems(
    checkpoints: Iterable[tuple[str, Checkpoint]],
    leaves: Sequence[bytes],
    origin: str,
    ledger_keys: list[bytes] | Callable[[int], list[bytes]],
) -> list[CheckpointProblem]:
    """Every (label, checkpoint) that is unsigned, foreign, beyond the log, or not a prefix of it.

    ``ledger_keys`` gives, for a tree size, the ledger keys whose validity covers it (a key
    revoked at leaf r signs no tree larger than r); a plain list is taken as valid for any size.
    """
    pending = list(checkpoints)
    roots = roots_at(leaves, [cp.size for _, cp in pending if cp.size <= len(leaves)])
    return checkpoint_problems_at(pending, len(leaves), roots, origin, ledger_keys)


def checkpoint_problems_at(
    checkpoints: Iterable[tuple[str, Checkpoint]],
    size: int,
    roots: Mapping[int, bytes],
    origin: str,
    ledger_keys: list[bytes] | Callable[[int], list[bytes]],
) -> list[CheckpointProblem]:
    """``checkpoint_problems`` for a log of ``size`` leaves known by its ``roots`` at every checkpoint size up to it.

    What the streaming verifier calls: it folds the leaves as they pass and keeps only those roots.
    """
    signers = ledger_keys if callable(ledger_keys) else (lambda _size: list(ledger_keys))
    pending = list(checkpoints)
    problems = []
    for label, cp in pending:
        if cp.origin != origin:
            problems.append(
                CheckpointProblem(cp.size, "foreign_checkpoint", f"{label} is for {cp.origin}, not {origin}")
            )
        elif not verify_note(cp.note, cp.origin, signers(cp.size)):
            problems.append(
                CheckpointProblem(
                    cp.size,
                    "bad_checkpoint_signature",
                    f"{label} is not signed by a ledger key valid at its size (registered before it, not revoked)",
                )
            )
        elif cp.size > size:
            problems.append(
                CheckpointProblem(
                    cp.size,
                    "truncated_log",
                    f"{label} covers {cp.size} events but only {size} are stored: events were deleted",
                )
            )
        elif roots[cp.size] != cp.root:
            problems.append(
                CheckpointProblem(
                    cp.size,
                    "checkpoint_mismatch",
                    f"the first {cp.size} stored events do not hash to the root of {label}: history was rewritten",
                )
            )
    return problems
