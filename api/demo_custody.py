"""The demo's refused custody attempts: one DIN one collection, one bag one LN2 position.

Each attempt is a step a unit must never accept; the demo shows it refused with its rule,
and checks that the refusal stored nothing (the demo is wrong if it were accepted).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from api import demo_journeys as j
from domain.errors import RuleViolation

SLE_DIN = "G123498654321"
"""The DIN of the SLE patient's apheresis (api/demo.py)."""


def _refused(rec: j.Recorder, rule: str, user: str, event_type: str, target: UUID, when: datetime,
             meaning: str, **payload: Any) -> None:  # fmt: skip
    """Record a step that must be refused with ``rule``, storing nothing."""
    size = rec.ledger.store.size()
    try:
        rec(user, event_type, target, when, meaning, **payload)
    except RuleViolation as refusal:
        assert refusal.rule == rule, refusal.rule
    else:
        raise AssertionError(f"{event_type} was accepted; the demo expected the refusal {rule}")
    assert rec.ledger.store.size() == size, "a refusal stored something"


def record_refusals(rec: j.Recorder, now: datetime, stored: UUID) -> None:
    """A bank batch under the SLE patient's DIN, and ``stored`` moved into the position of the MSC dose 2."""
    _refused(
        rec, "din_already_used", "qp", "BatchRegistered", uuid.uuid4(), now - timedelta(hours=2), "recorded",
        lot="MSC-BANK-2026-08", donor_din=SLE_DIN, product_code="MSC-BANK", doses=4, site=j.MANUFACTURER,
    )  # fmt: skip
    _refused(
        rec, "ln2_position_occupied", "pharmacist", "StoredInLN2", stored, now - timedelta(hours=1), "performed",
        site=j.PHARMACY, tank=j.LN2_TANK, rack=j.LN2_RACK, box=j.LN2_BOX, position="C2", temperature_c=-180.0,
    )  # fmt: skip
