"""`custody proof --from N`: a consistency proof an auditor checks against the checkpoints it kept."""

from __future__ import annotations

import base64

from ledger.merkle import verify_consistency
from ledger.signed_note import parse_checkpoint
from tests.e2e.conftest import Custody


def test_a_proof_links_a_kept_checkpoint_to_the_newest_one(empty_ledger: Custody) -> None:
    empty_ledger.run("init")
    kept = parse_checkpoint(empty_ledger.run_json("checkpoint")["note"])
    empty_ledger.run("keys", "rotate-ledger")
    newest = parse_checkpoint(empty_ledger.run_json("checkpoint")["note"])
    answer = empty_ledger.run_json("proof", "--from", str(kept.size))
    assert (answer["from"], answer["to"]) == (kept.size, newest.size)
    proof = [base64.b64decode(node) for node in answer["proof"]]
    assert verify_consistency(kept.size, newest.size, kept.root, newest.root, proof)
    text = empty_ledger.run("proof", "--from", str(kept.size)).stdout
    assert f"consistency proof from {kept.size} to {newest.size}" in text


def test_a_bad_size_exits_2_naming_the_field(empty_ledger: Custody) -> None:
    empty_ledger.run("init")
    empty_ledger.run("checkpoint")
    refused = empty_ledger.run("proof", "--from", "0", expect=2)
    assert "[field: from; rule: invalid_tree_size]" in refused.stderr
    beyond = empty_ledger.run("proof", "--from", "1", "--to", "999999", expect=2)
    assert "[field: to; rule: beyond_log]" in beyond.stderr
