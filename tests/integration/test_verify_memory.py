"""Verification holds O(aggregates) state, never one object per event: asserted on its structures, not timed.

Every container reachable from a finished ``LogVerification`` (its chains, heads, Merkle
frontier, follower window, key positions…) is measured. A log three times longer over the
same aggregates must leave every one of them no larger, and none may approach the number
of events.
"""

from __future__ import annotations

from collections.abc import Sized
from typing import Any

from ledger.merkle_log import checkpoint
from ledger.service import CustodyLedger
from ledger.verifier import LogVerification, VerifyOptions
from tests.integration.annotated_log import AnnotatedLog

NOT_STATE = {"store", "options", "keys", "report"}  # what the verification is given, and what it returns


def container_sizes(root: Any) -> dict[str, int]:
    """Every sized container reachable from the verification's own attributes, by its path."""
    sizes: dict[str, int] = {}
    seen: set[int] = set()

    def walk(path: str, value: Any) -> None:
        if id(value) in seen or isinstance(value, str | bytes | int | float | bool) or value is None:
            return
        seen.add(id(value))
        if isinstance(value, Sized):
            sizes[path] = len(value)
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{path}[{key!r}]", item)
        elif isinstance(value, list | tuple | set | frozenset):
            for index, item in enumerate(value):
                walk(f"{path}[{index}]", item)
        elif type(value).__module__.startswith("ledger."):
            for name, item in vars(value).items():
                if name != "store" and (path or name not in NOT_STATE):
                    walk(f"{path}.{name}", item)

    walk("", root)
    return sizes


def verified(ledger: CustodyLedger) -> LogVerification:
    options = VerifyOptions(trusted={ledger.meta.ledger_key_pair().public_key}, ledger_id=ledger.meta.ledger_id())
    verification = LogVerification(ledger.store, options)
    report = verification.run()
    assert report.intact, report.failures[:3]
    return verification


def test_the_state_kept_is_per_aggregate_not_per_event(ledger: CustodyLedger) -> None:
    log = AnnotatedLog(ledger, aggregates=3)
    log.rounds(20)
    checkpoint(ledger)
    short = verified(ledger)
    log.rounds(40)
    checkpoint(ledger)
    long = verified(ledger)
    assert long.report.events >= short.report.events + 120
    assert long.report.aggregates == short.report.aggregates  # the same aggregates, much longer chains
    short_sizes, long_sizes = container_sizes(short), container_sizes(long)
    assert {".chains.latest", ".heads.heads", ".frontier.frontier"} <= set(long_sizes)
    assert long_sizes[".chains.latest"] == long_sizes[".heads.heads"] == long.report.aggregates
    # Checkpoints keep a size and a root each (the runs saw one and two of them); everything else is the same size.
    grown = {path for path, size in long_sizes.items() if size > short_sizes.get(path, 0)}
    assert grown <= {".checkpoints", ".frontier.wanted", ".frontier.roots", ".frontier.frontier"} | {
        path for path in long_sizes if path.startswith(".checkpoints[")
    }
    # The frontier holds one hash per bit of the tree size.
    assert long_sizes[".frontier.frontier"] == bin(long.frontier.size).count("1")
    state = {path: size for path, size in long_sizes.items() if not path.startswith(".checkpoints")}
    assert max(state.values()) <= long.report.aggregates < long.report.events // 10, state
