"""The audit log of people and identity access: erasures, reveals, failed signatures, locks.

These facts are not custody events (they concern people and personal data, not a
product), yet an inspector must be able to read them, and nobody may edit them: the
``audit_log`` table refuses UPDATE and DELETE by trigger, like the event table. A row
names the actor and a subject (a username or a pseudonym) and never an identity value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.clock import isoformat
from ledger.side_cursor import SideCursor
from ledger.store import EventStore


@dataclass(frozen=True)
class AuditEntry:
    """One audited fact, in log order."""

    position: int
    recorded_at: str
    action: str
    actor: str
    subject: str
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape `custody audit` and GET /audit print."""
        return {
            "position": self.position,
            "recorded_at": self.recorded_at,
            "action": self.action,
            "actor": self.actor,
            "subject": self.subject,
            "detail": self.detail,
        }


def append_audit(
    cursor: SideCursor, at: datetime, action: str, actor: str, subject: str, detail: dict[str, Any]
) -> None:
    """Add one row in the caller's transaction (so the fact and its record commit together)."""
    cursor.execute(
        "INSERT INTO audit_log (recorded_at, action, actor, subject, detail) VALUES (%s, %s, %s, %s, %s)",
        (isoformat(at), action, actor, subject, json.dumps(detail, sort_keys=True)),
    )


def read_audit(
    store: EventStore,
    *,
    action: str | None = None,
    person: str | None = None,
    since: datetime | None = None,
    limit: int = 1000,
    newest_first: bool = False,
) -> list[AuditEntry]:
    """The audit rows in the order they were recorded (or the latest ``limit`` first), optionally of one
    action, of one person (as the actor or the subject) and recorded at or after ``since``."""
    clauses: list[str] = []
    params: list[Any] = []
    if action:
        clauses.append("action = %s")
        params.append(action)
    if person:
        clauses.append("(actor = %s OR subject = %s)")
        params.extend((person, person))
    if since is not None:
        clauses.append("recorded_at >= %s")  # one text form on both backends (ledger.clock.isoformat)
        params.append(isoformat(since))
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = "SELECT position, recorded_at, action, actor, subject, detail FROM audit_log" + where
    with store.side_transaction() as cursor:
        order = " ORDER BY position DESC" if newest_first else " ORDER BY position"
        cursor.execute(sql + order + " LIMIT %s", (*params, limit))
        rows = cursor.fetchall()
    return [
        AuditEntry(
            int(r["position"]),
            str(r["recorded_at"]),
            str(r["action"]),
            str(r["actor"]),
            str(r["subject"]),
            json.loads(str(r["detail"])),
        )
        for r in rows
    ]
