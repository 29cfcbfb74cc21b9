"""`custody export` then `custody verify-bundle` on a machine with no ledger at all."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from tests.e2e.conftest import Custody


def test_a_bundle_verifies_elsewhere_without_creating_any_store(demo_ledger: Custody, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.json"
    demo_ledger.run("export", demo_ledger.demo["products"][0], "-o", str(bundle))
    elsewhere = Custody(backend="sqlite", home=tmp_path / "inspector")
    result = elsewhere.run_json("verify-bundle", str(bundle), "--trust", str(demo_ledger.home / "ledger.pub"))
    assert {key: result[key] for key in ("intact", "problems", "trust_anchor", "product_id")} == {
        "intact": True,
        "problems": [],
        "trust_anchor": True,
        "product_id": demo_ledger.demo["products"][0],
    }
    assert result["versions"] == list(range(1, len(result["versions"]) + 1)) and result["checkpoint_size"] > 0
    other = elsewhere.run_json(
        "verify-bundle", str(bundle), "--product", str(uuid4()), "--trust", str(demo_ledger.home / "ledger.pub"),
        expect=1,
    )  # fmt: skip
    assert other["intact"] is False and "not " in other["problems"][-1]
    assert not elsewhere.home.exists()


def test_an_edited_bundle_exits_1_naming_the_event(demo_ledger: Custody, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.json"
    demo_ledger.run("export", demo_ledger.demo["products"][0], "-o", str(bundle))
    bundle.write_text(bundle.read_text().replace('\\"volume_ml\\":245', '\\"volume_ml\\":345'))
    elsewhere = Custody(backend="sqlite", home=tmp_path / "inspector")
    result = elsewhere.run("verify-bundle", str(bundle), "--trust", str(demo_ledger.home / "ledger.pub"), expect=1)
    assert "FAIL event 2: its inclusion proof does not lead to the checkpoint's root" in result.stdout


def test_a_bundle_file_that_is_not_json_is_refused_naming_the_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.json"
    bundle.write_text("not a bundle")
    result = Custody(backend="sqlite", home=tmp_path / "inspector").run("verify-bundle", str(bundle), expect=2)
    assert "field: bundle; rule: unreadable_bundle" in result.stderr


def test_verify_against_a_missing_or_malformed_checkpoint_file_is_refused(demo_ledger: Custody, tmp_path: Path) -> None:
    missing = demo_ledger.run("verify", "--against", str(tmp_path / "absent.txt"), expect=2)
    assert "field: --against; rule: unreadable_file" in missing.stderr
    garbled = tmp_path / "garbled.txt"
    garbled.write_text("custody-ledger/x\nnot-a-size\nAAAA\n\n— x y\n")
    malformed = demo_ledger.run("verify", "--against", str(garbled), expect=2)
    assert "field: --against; rule: malformed_checkpoint" in malformed.stderr
