"""A log of many signed events over few aggregates, appended straight to the store (as `custody bench` does).

Verification does not judge domain rules, so plain annotations signed by a registered nurse
are enough to give it long chains, interleaved in the log, at little cost per event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from ledger.envelope import Envelope, event_body, seal
from ledger.keys import KeyPair
from ledger.service import CustodyLedger
from ledger.setup import register_staff
from tests.conftest import ADMIN_PASSWORD

NURSE_PASSWORD = "annotating-nurse-password"


@dataclass
class AnnotatedLog:
    """Appends rounds of one annotation per aggregate; remembers each aggregate's last hash."""

    ledger: CustodyLedger
    aggregates: int
    pair: KeyPair = field(init=False)
    heads: dict[uuid.UUID, tuple[int, str | None]] = field(init=False)

    def __post_init__(self) -> None:
        register_staff(
            self.ledger, "annotator", "Anne Notator", "nurse", NURSE_PASSWORD,
            registrar="admin", registrar_password=ADMIN_PASSWORD,
        )  # fmt: skip
        self.actor, member = self.ledger.actor("annotator")
        self.pair = self.ledger.signer_for(member, NURSE_PASSWORD)
        self.heads = {uuid.uuid4(): (0, None) for _ in range(self.aggregates)}

    def rounds(self, count: int) -> list[Envelope]:
        """``count`` rounds: each appends the next version of every aggregate, in turn."""
        stored = []
        for _ in range(count):
            for aggregate_id, (version, prev_hash) in self.heads.items():
                body = event_body(
                    ledger_id=self.ledger.meta.ledger_id(),
                    aggregate_id=aggregate_id,
                    aggregate_kind="product",
                    version=version + 1,
                    event_type="AnnotationAdded",
                    payload={"text": f"round note {version + 1}"},
                    occurred_at=self.ledger.clock.now(),
                    recorded_at=self.ledger.clock.now(),
                    actor=self.actor,
                    meaning="recorded",
                    prev_hash=prev_hash,
                    key_id=self.pair.key_id,
                )
                envelope = seal(body, self.pair)
                self.ledger.store.append([envelope])
                self.heads[aggregate_id] = (version + 1, envelope.hash)
                stored.append(envelope)
        return stored
