"""`custody proof --from N`: a consistency proof an auditor checks against the checkpoints it kept."""

from __future__ import annotations

import base64
import sqlite3
from contextlib import closing

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


def _rewrite_the_stored_tree(custody: Custody) -> None:
    """A DBA overwrites every stored leaf and subtree hash: the log no longer extends what was signed."""
    statements = ("UPDATE merkle_leaves SET leaf_hash = {z}", "UPDATE merkle_nodes SET hash = {z}")
    if custody.backend == "sqlite":
        with closing(sqlite3.connect(custody.sqlite_path)) as conn:
            for statement in statements:
                conn.execute(statement.format(z="zeroblob(32)"))
            conn.commit()
        return
    with custody.pg() as conn:
        for statement in statements:
            conn.execute(statement.format(z="decode(repeat('00', 32), 'hex')"))


def test_checkpoint_over_a_rewritten_log_exits_1_naming_the_rule_and_signs_nothing(empty_ledger: Custody) -> None:
    empty_ledger.run("init")
    kept = parse_checkpoint(empty_ledger.run_json("checkpoint")["note"])
    _rewrite_the_stored_tree(empty_ledger)
    empty_ledger.run("keys", "rotate-ledger")  # one more event, so a new checkpoint would be due

    refused = empty_ledger.run("checkpoint", expect=1)
    as_json = empty_ledger.run_json("checkpoint", expect=1)

    assert f"does not extend the checkpoint of {kept.size}" in refused.stderr
    assert "[rule: inconsistent_log]" in refused.stderr
    assert "custody verify" in refused.stderr
    assert as_json["rule"] == "inconsistent_log"
    assert refused.stdout == ""
    proof = empty_ledger.run_json("proof", "--from", str(kept.size), expect=None)
    assert proof.get("to", kept.size) == kept.size  # no newer checkpoint was signed over the rewritten log
