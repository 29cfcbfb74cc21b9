"""`custody export --format fhir`: a FHIR R5 Bundle of a demonstration product, on both backends.

The signed bundle stays the default format; the FHIR one validates resource by resource
with ``fhir.resources`` and carries each stored step's signature.
"""

from __future__ import annotations

import json
from pathlib import Path

from fhir.resources import get_fhir_model_class

from tests.e2e.conftest import Custody


def test_the_fhir_format_writes_a_valid_r5_bundle_and_the_default_stays_the_signed_bundle(
    demo_ledger: Custody, tmp_path: Path
) -> None:
    product = demo_ledger.demo["products"][0]
    fhir = tmp_path / "product.fhir.json"
    written = demo_ledger.run("export", product, "--format", "fhir", "-o", str(fhir))
    bundle = json.loads(fhir.read_text(encoding="utf-8"))
    get_fhir_model_class("Bundle").model_validate(bundle)
    for entry in bundle["entry"]:
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    events = demo_ledger.run_json("show", product)["events"]
    provenances = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Provenance"]
    assert [p["signature"][0]["data"] for p in provenances] == [event["signature"] for event in events]
    assert f"{len(events)} signed steps" in written.stdout

    signed = tmp_path / "bundle.json"
    demo_ledger.run("export", product, "-o", str(signed))
    assert "resourceType" not in json.loads(signed.read_text(encoding="utf-8"))


def test_an_unknown_format_is_refused_by_the_parser(demo_ledger: Custody, tmp_path: Path) -> None:
    result = demo_ledger.run(
        "export", demo_ledger.demo["products"][0], "--format", "hl7v2", "-o", str(tmp_path / "x"), expect=2
    )
    assert "invalid choice: 'hl7v2'" in result.stderr
    assert not (tmp_path / "x").exists()
