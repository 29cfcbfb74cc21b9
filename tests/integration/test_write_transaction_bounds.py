"""A write's transaction on PostgreSQL is bounded and reads this ledger's schema, from its first statement on.

The bound (the store's lock timeout plus a margin) keeps one request from holding the ledger's write lock
for ever; the schema makes the side writes handed over with the events land in this ledger's tables.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domain.events import Actor
from ledger.envelope import event_body, seal
from ledger.service import CustodyLedger
from ledger.setup import initialise
from ledger.side_cursor import SideCursor
from tests.conftest import ADMIN_PASSWORD, make_settings


def test_the_side_writes_of_an_append_run_bounded_in_the_ledgers_schema(postgres_schema: str, tmp_path: Path) -> None:
    settings = make_settings("postgresql", tmp_path / "home", postgres_schema)
    ledger = CustodyLedger(settings)
    try:
        initialise(ledger, ADMIN_PASSWORD)
        seen: list[dict[str, Any]] = []

        def look(cursor: SideCursor) -> None:
            cursor.execute(
                "SELECT current_setting('statement_timeout') AS bound, current_setting('search_path') AS path"
            )
            found = cursor.fetchone()
            assert found is not None
            seen.append(dict(found))

        pair = ledger.meta.ledger_key_pair()
        body = event_body(
            ledger_id=ledger.meta.ledger_id(), aggregate_id=uuid.uuid4(), aggregate_kind="product", version=1,
            event_type="AnnotationAdded", payload={"text": "bounded"}, occurred_at=datetime.now(UTC),
            recorded_at=datetime.now(UTC), actor=Actor("admin", "Admin", "admin"), meaning="recorded",
            prev_hash=None, key_id=pair.key_id,
        )  # fmt: skip
        ledger.store.append([seal(body, pair)], in_transaction=[look])
    finally:
        ledger.close()

    # The lock timeout of the test settings, plus ten seconds, in PostgreSQL's own notation.
    expected_ms = int((settings.lock_timeout_seconds + 10) * 1000)
    bound = seen[0]["bound"]
    assert bound in {f"{expected_ms}ms", f"{expected_ms // 1000}s"}, bound
    assert seen[0]["path"].strip('"') == postgres_schema
