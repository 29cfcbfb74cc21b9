"""`custody registry-export` and `custody export --format descar-t|ebmt` on the demonstration ledger, both backends.

The demo treats two patients: PSN-SLE-0001 (lupus, CAR-T, three prior lines, CRS grade 1,
a day 7 visit not yet evaluated, alive) and PSN-SSC-0002 (systemic sclerosis, an MSC dose,
two prior lines); both agreed to transmission to both registries. DESCAR-T takes CAR-T
only; EBMT takes both.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Custody

DESCAR_T_HEADER = (
    "record;id_patient;coi;maladie;nb_lignes_anterieures;traitements_anterieurs;date_rcp;date_decision;"
    "date_consentement;produit;date_apherese;nb_apheres;lot;site_fabrication;date_liberation;"
    "liberation_exceptionnelle;date_debut_lymphodepletion;date_fin_lymphodepletion;lymphodepletion;date_injection;"
    "cellules_viables;src_grade_max;src_date;icans_grade_max;icans_date;essai;numero_eu_ct;visite;date_visite;"
    "jours_depuis_injection;reponse;statut_vital;cause_deces"
)


def test_descar_t_gets_the_car_t_patient_and_visit_on_standard_output(demo_ledger: Custody) -> None:
    lines = demo_ledger.run("registry-export", "--format", "descar-t").stdout.splitlines()
    assert lines[0] == DESCAR_T_HEADER
    rows = [line.split(";") for line in lines[1:]]
    assert [row[:2] for row in rows] == [["traitement", "PSN-SLE-0001"], ["suivi", "PSN-SLE-0001"]]
    treatment, visit = (dict(zip(DESCAR_T_HEADER.split(";"), row, strict=True)) for row in rows)
    assert (treatment["maladie"], treatment["nb_lignes_anterieures"], treatment["src_grade_max"]) == (
        "lupus érythémateux systémique", "3", "1"
    )  # fmt: skip
    assert treatment["traitements_anterieurs"] == "mycophenolate mofetil + rituximab + belimumab"
    assert treatment["lymphodepletion"] == "fludarabine + cyclophosphamide"
    # (the days since infusion are checked under a fixed clock elsewhere: the demo's hour is the wall clock's)
    assert (visit["visite"], visit["reponse"], visit["statut_vital"]) == ("day 7", "non évaluée", "vivant")


def test_ebmt_gets_both_patients_in_a_file_and_one_product_exports_alone(demo_ledger: Custody, tmp_path: Path) -> None:
    out = tmp_path / "ebmt.csv"
    written = demo_ledger.run("registry-export", "--format", "ebmt", "-o", str(out))
    assert f"wrote {out}: 3 EBMT row(s), 0 withheld" in written.stdout
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[:4] for line in lines[1:]] == [
        ["CT", "PSN-SLE-0001", lines[1].split(",")[2], "SLE"],
        ["FU", "PSN-SLE-0001", lines[1].split(",")[2], ""],
        ["CT", "PSN-SSC-0002", lines[3].split(",")[2], "SSc"],
    ]
    msc_coi = lines[3].split(",")[2]
    assert lines[3].split(",")[5:7] == ["2", "MSC"]

    single = tmp_path / "one.csv"
    demo_ledger.run("export", msc_coi, "--format", "ebmt", "-o", str(single))
    assert single.read_text(encoding="utf-8").splitlines()[1:] == [lines[3]]
    refused = demo_ledger.run("export", msc_coi, "--format", "descart", "-o", str(tmp_path / "no.csv"), expect=2)
    assert "DESCAR-T collects car_t products, not msc" in refused.stderr
    assert "rule: not_in_registry_scope" in refused.stderr
    assert not (tmp_path / "no.csv").exists()


def test_since_after_the_last_visit_writes_the_header_only_and_a_bad_day_is_refused(demo_ledger: Custody) -> None:
    later = demo_ledger.run_json("registry-export", "--format", "ebmt", "--since", "2099-01-01")
    assert (later["registry"], later["rows"], later["withheld"]) == ("ebmt", [], [])
    bad = demo_ledger.run("registry-export", "--format", "ebmt", "--since", "01/03/2026", expect=2)
    assert "field: since; rule: invalid_date" in bad.stderr
    unknown = demo_ledger.run("registry-export", "--format", "cibmtr", expect=2)
    assert "invalid choice: 'cibmtr'" in unknown.stderr
