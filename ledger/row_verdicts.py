"""A verdict for each of a few stored events: is its signature valid, does it link to the event before it?

The audit trail shows one page of events at a time, and checks exactly those rows, with the
verifier's own row checks (ledger/row_check.py: bytes, hash, canonical form, signature by a
key valid at that log position, ledger id, placement) and its chain rule (the event names the
hash of its aggregate's previous version, none for version 1). Each check reads the stored
event and its predecessor from the event table, never from a read model. A row that was not
checked says so: nothing here ever defaults to "valid".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger.ledger_meta import LEDGER_USER
from ledger.row_check import PlainRow, RowRules, check_row, open_row
from ledger.store import EventStore
from ledger.verifier import key_history

VALID, INVALID, NOT_CHECKED = "valid", "invalid", "not_checked"
LINK_OK, LINK_BROKEN = "ok", "broken"


@dataclass(frozen=True)
class RowVerdict:
    """What was found for one event: ``signature`` valid/invalid/not_checked, ``link`` ok/broken/not_checked."""

    signature: str
    link: str
    reasons: tuple[str, ...] = ()


UNCHECKED = RowVerdict(NOT_CHECKED, NOT_CHECKED)


def _stored(store: EventStore, aggregate: UUID, version: int) -> dict[int, Any]:
    """The stored rows of this version and the one before it, by version, straight from the event table."""
    events = store.recorder.select_events(aggregate, gt=max(version - 2, 0), lte=version)
    return {int(event.originator_version): event for event in events}


def row_verdicts(
    store: EventStore, rows: Iterable[tuple[int, str, int]], trusted: set[bytes] | None, ledger_id: str | None
) -> dict[int, RowVerdict]:
    """For each (log position, aggregate id, version): the verdict of its own checks and of its chain link."""
    wanted = list(rows)
    if not wanted:
        return {}
    rules = RowRules(key_history(store, trusted), ledger_id, LEDGER_USER, strict=True)
    verdicts: dict[int, RowVerdict] = {}
    for position, aggregate, version in wanted:
        stored = _stored(store, UUID(aggregate), version)
        event = stored.get(version)
        if event is None:
            verdicts[position] = RowVerdict(INVALID, NOT_CHECKED, ("missing_event",))
            continue
        row = PlainRow(position, str(event.originator_id), version, str(event.topic), event.state)
        checked = check_row(row, rules)
        reasons = [failure.reason for failure in checked.failures]
        signature = INVALID if reasons else VALID
        if checked.hash is None:
            verdicts[position] = RowVerdict(signature, NOT_CHECKED, tuple(reasons))
            continue
        if version == 1:
            link = LINK_OK if checked.prev_hash is None else LINK_BROKEN
        else:
            previous = stored.get(version - 1)
            opened = None
            if previous is not None:
                before = PlainRow(0, str(previous.originator_id), version - 1, str(previous.topic), previous.state)
                opened = open_row(before)[0]
            link = LINK_OK if opened is not None and opened.envelope.hash == checked.prev_hash else LINK_BROKEN
        if link == LINK_BROKEN:
            reasons.append("broken_link")
        verdicts[position] = RowVerdict(signature, link, tuple(reasons))
    return verdicts
