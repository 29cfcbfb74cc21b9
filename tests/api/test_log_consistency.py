"""GET /log/consistency: the proof `custody proof` prints, for any signed-in person, bad sizes refused by name."""

from __future__ import annotations

import base64
from typing import Any

from ledger.merkle import verify_consistency
from ledger.merkle_log import checkpoint
from ledger.service import CustodyLedger
from ledger.setup import register_staff
from tests.integration.journeys import password_of


def test_an_auditor_proves_the_log_grew_from_the_checkpoint_it_kept(sign_in: Any, ledger: CustodyLedger) -> None:
    kept = checkpoint(ledger)
    register_staff(ledger, "newcomer", "New Comer", "nurse", password_of("newcomer"), registrar="ledger")
    newest = checkpoint(ledger)
    answer = sign_in("auditor").get(f"/log/consistency?from={kept.size}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["from"], body["to"], body["to_checkpoint"]) == (kept.size, newest.size, newest.note)
    proof = [base64.b64decode(node) for node in body["proof"]]
    assert verify_consistency(kept.size, newest.size, kept.root, newest.root, proof)


def test_a_bad_size_is_a_problem_naming_the_field(sign_in: Any, ledger: CustodyLedger) -> None:
    checkpoint(ledger)
    before = ledger.store.size()
    session = sign_in("nurse")
    for query, field, rule in [
        ("from=zero", "from", "invalid_tree_size"),
        ("", "from", "invalid_tree_size"),
        ("from=1&to=999999", "to", "beyond_log"),
    ]:
        answer = session.get(f"/log/consistency?{query}")
        assert answer.status_code == 422, (query, answer.text)
        assert (answer.json()["field"], answer.json()["rule"]) == (field, rule)
    assert ledger.store.size() == before
