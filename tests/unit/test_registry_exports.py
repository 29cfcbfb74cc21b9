"""DESCAR-T and EBMT rows of a demo-like lupus CAR-T journey, against files written out by hand.

The journey: a patient enrolled on the pathway with three prior lines, selected at RCP, the
pair's decision co-signed, consent (with transmission to both registries), conditioning,
a product collected, made, released and infused, CRS grade 1 then 2 and ICANS grade 1,
and two visits, the second corrected. Every expected line below was written from the
journey, not from the formats under test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest

from domain.errors import CustodyError
from domain.events import Actor, EventRecord
from projections.registry_case import RegistryCase, registry_case
from projections.registry_export import product_rows, registry_format, rows_since

PRODUCT = UUID("6b0f4c1e-0000-4000-8000-000000000077")
PATHWAY = UUID("6b0f4c1e-0000-4000-8000-000000000078")
DOCTOR = Actor("physician", "Dr Paul Physician", "physician")
PSN = "PSN-REG-0001"
COI = "A9999 26 00077F"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def history(aggregate: UUID, steps: list[tuple[str, str, dict[str, Any]]]) -> list[EventRecord]:
    return [
        EventRecord(aggregate, version, kind, payload, at(when), at(when), DOCTOR, "recorded")
        for version, (kind, when, payload) in enumerate(steps, start=1)
    ]


def pathway(consent: dict[str, Any] | None = None, *, withdrawn: bool = False) -> list[EventRecord]:
    prior = [
        {"treatment": "mycophenolate mofetil", "failure_reason": "class IV nephritis"},
        {"treatment": "rituximab", "failure_reason": "relapse"},
        {"treatment": "belimumab", "failure_reason": "no response"},
    ]
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("PatientEnrolled", "2026-01-05T09:00", {"patient_pseudonym": PSN, "diagnosis": "systemic_lupus_erythematosus",
                                                 "prior_treatments": prior, "disease_specialist": {},
                                                 "cell_therapy_specialist": {}}),
        ("RcpDecisionRecorded", "2026-01-15T15:00", {"meeting_at": "2026-01-15T14:00:00+00:00",
                                                     "outcome": "eligible"}),
        ("TreatmentDecisionProposed", "2026-01-16T10:00", {"therapy": "car_t"}),
        ("TreatmentDecisionCosigned", "2026-01-17T10:00", {"proposal_version": 3}),
        ("ConsentSigned", "2026-01-19T10:00", {"form_version": "CART-AI-01 v3.1", "signed_on": "2026-01-18",
                                               "document_ref": "CONSENT-1",
                                               **(consent if consent is not None else
                                                  {"registry_transmission": ["descar_t", "ebmt"]})}),
        ("LymphodepletionRecorded", "2026-03-06T18:00", {
            "agents": [{"name": "fludarabine", "dose": "30 mg/m²"}, {"name": "cyclophosphamide", "dose": "300 mg/m²"}],
            "started_on": "2026-03-04", "ended_on": "2026-03-06"}),
    ]  # fmt: skip
    if withdrawn:
        steps.append(("ConsentWithdrawn", "2026-05-01T10:00", {"withdrawn_on": "2026-05-01"}))
    return history(PATHWAY, steps)


def product(kind: str = "car_t", day_28: dict[str, Any] | None = None) -> list[EventRecord]:
    visit_28 = day_28 if day_28 is not None else {"disease_response": "partial_response", "survival": "alive"}
    return history(
        PRODUCT,
        [
            ("ProductEnrolled", "2026-02-01T09:00", {"coi": COI, "product_kind": kind, "product_code": "ACADEMIC-CD19",
                                                     "patient_pseudonym": PSN,
                                                     "indication": "systemic_lupus_erythematosus",
                                                     "treating_physician": "physician", "collection_site": "CHU",
                                                     "eu_ct_number": "2025-500123-11-00"}),
            ("ApheresisCollected", "2026-02-03T13:00", {"din": "G123426123456", "site": "CHU",
                                                        "started_at": "2026-02-03T08:00:00+00:00",
                                                        "ended_at": "2026-02-03T12:00:00+00:00", "volume_ml": 250.0,
                                                        "preservation": "fresh"}),
            ("ManufacturingStarted", "2026-02-05T08:00", {"lot": "LOT-77", "site": "Hôpital Saint-Louis MTI"}),
            ("ManufacturingCompleted", "2026-02-15T08:00", {"lot": "LOT-77", "bag_ids": ["B1"],
                                                            "dose_description": "1 bag"}),
            ("ProductReleased", "2026-02-25T08:00", {"certificate_id": "CoR-77"}),
            ("Infused", "2026-03-09T09:30", {"started_at": "2026-03-09T09:10:00+00:00",
                                             "ended_at": "2026-03-09T09:25:00+00:00", "volume_ml": 20.0,
                                             "bag_ids": ["B1"], "site": "Haematology ward",
                                             "viable_cells": 100000000.0}),
            ("AdverseEventRecorded", "2026-03-11T20:00", {"category": "crs", "grade": 1, "description": "fever"}),
            ("AdverseEventRecorded", "2026-03-12T08:00", {"category": "crs", "grade": 2, "description": "hypotension"}),
            ("AdverseEventRecorded", "2026-03-13T08:00", {"category": "icans", "grade": 1, "description": "ICE 8"}),
            ("FollowUpRecorded", "2026-03-16T10:00", {"visit": "day 7", "findings": "B-cell aplasia",
                                                      "disease_response": "not_evaluated", "survival": "alive"}),
            ("FollowUpRecorded", "2026-04-06T10:00", {"visit": "day 28", "findings": "proteinuria falling",
                                                      **visit_28}),
            ("EventCorrected", "2026-04-07T10:00", {"corrects_version": 11, "reason": "SLEDAI read again",
                                                    "corrections": {"disease_response": "complete_remission"}}),
        ],
    )  # fmt: skip


def case(records: list[EventRecord] | None = None, path: list[EventRecord] | None = None) -> RegistryCase:
    made = registry_case(
        PRODUCT, records if records is not None else product(), path if path is not None else pathway()
    )
    assert made is not None
    return made


DESCAR_T_CSV = (
    "record;id_patient;coi;maladie;nb_lignes_anterieures;traitements_anterieurs;date_rcp;date_decision;"
    "date_consentement;produit;date_apherese;nb_apheres;lot;site_fabrication;date_liberation;"
    "liberation_exceptionnelle;date_debut_lymphodepletion;date_fin_lymphodepletion;lymphodepletion;date_injection;"
    "cellules_viables;src_grade_max;src_date;icans_grade_max;icans_date;essai;numero_eu_ct;visite;date_visite;"
    "jours_depuis_injection;reponse;statut_vital;cause_deces\r\n"
    "traitement;PSN-REG-0001;A9999 26 00077F;lupus érythémateux systémique;3;"
    "mycophenolate mofetil + rituximab + belimumab;15/01/2026;17/01/2026;18/01/2026;ACADEMIC-CD19;03/02/2026;1;"
    "LOT-77;Hôpital Saint-Louis MTI;25/02/2026;non;04/03/2026;06/03/2026;fludarabine + cyclophosphamide;"
    "09/03/2026;100000000;2;11/03/2026;1;13/03/2026;;2025-500123-11-00;;;;;;\r\n"
    "suivi;PSN-REG-0001;A9999 26 00077F;;;;;;;;;;;;;;;;;;;;;;;;;day 7;16/03/2026;7;non évaluée;vivant;\r\n"
    "suivi;PSN-REG-0001;A9999 26 00077F;;;;;;;;;;;;;;;;;;;;;;;;;day 28;06/04/2026;28;rémission complète;vivant;\r\n"
)

EBMT_CSV = (
    "record,patient_code,coi,indication,indication_detail,prior_lines,cell_therapy,product,decision_date,"
    "collection_date,lymphodepletion_start,infusion_date,infused_viable_cells,exceptional_release,crs_max_grade,"
    "crs_onset,icans_max_grade,icans_onset,trial,visit,assessment_date,days_after_infusion,best_response,"
    "survival_status,cause_of_death\r\n"
    "CT,PSN-REG-0001,A9999 26 00077F,SLE,,3,CAR-T,ACADEMIC-CD19,2026-01-17,2026-02-03,2026-03-04,2026-03-09,"
    "100000000,no,2,2026-03-11,1,2026-03-13,2025-500123-11-00,,,,,,\r\n"
    "FU,PSN-REG-0001,A9999 26 00077F,,,,,,,,,,,,,,,,,day 7,2026-03-16,7,NE,alive,\r\n"
    "FU,PSN-REG-0001,A9999 26 00077F,,,,,,,,,,,,,,,,,day 28,2026-04-06,28,CR,alive,\r\n"
)


def test_the_descar_t_file_of_the_journey() -> None:
    assert product_rows(registry_format("descar-t"), case(), COI).csv() == DESCAR_T_CSV


def test_the_ebmt_file_of_the_journey() -> None:
    assert product_rows(registry_format("EBMT"), case(), COI).csv() == EBMT_CSV


def test_since_keeps_the_visits_from_that_day_and_drops_the_earlier_treatment_row() -> None:
    exported = rows_since(registry_format("ebmt"), [case()], date(2026, 3, 20))
    assert [(row["record"], row["visit"]) for row in exported.rows] == [("FU", "day 28")]
    assert rows_since(registry_format("ebmt"), [case()], date(2026, 4, 7)).rows == []
    assert [row["record"] for row in rows_since(registry_format("ebmt"), [case()], date(2026, 3, 9)).rows] == [
        "CT", "FU", "FU"
    ]  # fmt: skip


def refusal(call: Callable[[], object]) -> CustodyError:
    with pytest.raises(CustodyError) as raised:
        call()
    return raised.value


def test_a_visit_without_survival_refuses_the_export_naming_the_field_the_visit_and_the_rule() -> None:
    lacking = case(product(day_28={"disease_response": "partial_response"}))
    error = refusal(lambda: product_rows(registry_format("ebmt"), lacking, COI))
    assert error.rule == "registry_field_missing"
    assert error.field == "FollowUpRecorded.survival"
    assert "EBMT column survival_status needs FollowUpRecorded.survival of the day 28 visit (version 11" in str(error)
    assert "COI A9999 26 00077F" in str(error)
    assert "day 7" not in str(error)  # the day 7 visit has both
    in_batch = refusal(lambda: rows_since(registry_format("descar-t"), [lacking], None))
    assert in_batch.rule == "registry_field_missing"
    assert "DESCAR-T column statut_vital" in str(in_batch)


def test_a_correction_supplying_the_missing_survival_lets_the_export_through() -> None:
    records = product(day_28={"disease_response": "partial_response"})
    extra = EventRecord(PRODUCT, 13, "EventCorrected", {"corrects_version": 11, "reason": "status was not entered",
                        "corrections": {"survival": "dead", "cause_of_death": "sepsis"}},
                        at("2026-04-08T10:00"), at("2026-04-08T10:00"), DOCTOR, "recorded")  # fmt: skip
    rows = product_rows(registry_format("ebmt"), case([*records, extra]), COI).rows
    assert (rows[-1]["best_response"], rows[-1]["survival_status"], rows[-1]["cause_of_death"]) == (
        "CR", "dead", "sepsis"
    )  # fmt: skip


def test_descar_t_needs_the_conditioning_and_the_decision_ebmt_does_not() -> None:
    unconditioned = case(path=pathway()[:-1])
    error = refusal(lambda: product_rows(registry_format("descart"), unconditioned, COI))
    assert (error.rule, error.field) == ("registry_field_missing", "LymphodepletionRecorded.started_on")
    assert "date_debut_lymphodepletion" in str(error)
    assert product_rows(registry_format("ebmt"), unconditioned, COI).rows[0]["lymphodepletion_start"] == ""


def test_a_patient_whose_pathway_is_kept_elsewhere_has_no_prior_lines_here_and_is_not_exported() -> None:
    elsewhere = case(path=[])
    assert (elsewhere.values["disease"], elsewhere.values["prior_lines"]) == ("systemic_lupus_erythematosus", None)
    error = refusal(lambda: product_rows(registry_format("ebmt"), elsewhere, COI))
    assert error.rule == "registry_consent_missing"


def test_a_patient_who_agreed_to_ebmt_only_is_withheld_from_descar_t_and_named_by_coi_only() -> None:
    only_ebmt = case(path=pathway({"registry_transmission": ["ebmt"]}))
    error = refusal(lambda: product_rows(registry_format("descar-t"), only_ebmt, COI))
    assert (error.rule, error.field) == ("registry_consent_missing", "ConsentSigned.registry_transmission")
    exported = rows_since(registry_format("descar-t"), [only_ebmt], None)
    assert exported.rows == []
    assert [(w.coi, w.reason) for w in exported.withheld] == [
        (COI, "the patient's consent (ConsentSigned.registry_transmission) does not include descar_t")
    ]
    assert len(rows_since(registry_format("ebmt"), [only_ebmt], None).rows) == 3


@pytest.mark.parametrize("consent", [{}, {"registry_transmission": []}], ids=["absent", "empty"])
def test_a_consent_without_the_option_sends_nothing(consent: dict[str, Any]) -> None:
    exported = rows_since(registry_format("ebmt"), [case(path=pathway(consent))], None)
    assert (exported.rows, [w.coi for w in exported.withheld]) == ([], [COI])


def test_a_withdrawn_consent_withholds_the_patient_from_both() -> None:
    withdrawn = case(path=pathway(withdrawn=True))
    for name in ("descar-t", "ebmt"):
        exported = rows_since(registry_format(name), [withdrawn], None)
        assert exported.rows == []
        assert exported.withheld[0].reason == "the patient withdrew consent (ConsentWithdrawn)"


def test_an_msc_dose_is_out_of_descar_t_scope_but_goes_to_ebmt() -> None:
    msc = case(product(kind="msc"))
    error = refusal(lambda: product_rows(registry_format("descar-t"), msc, COI))
    assert error.rule == "not_in_registry_scope"
    assert rows_since(registry_format("descar-t"), [msc], None).rows == []
    assert product_rows(registry_format("ebmt"), msc, COI).rows[0]["cell_therapy"] == "MSC"


def test_a_product_never_infused_has_no_registry_case() -> None:
    assert registry_case(PRODUCT, product()[:5], pathway()) is None
    error = refusal(lambda: product_rows(registry_format("ebmt"), None, COI))
    assert (error.rule, error.field) == ("not_treated", "product")


def test_an_unknown_registry_is_refused_naming_the_choices() -> None:
    error = refusal(lambda: registry_format("cibmtr"))
    assert (error.rule, error.field) == ("unknown_registry", "format")
    assert "descar-t, descart, ebmt" in str(error)


def test_a_later_decision_and_conditioning_for_another_treatment_do_not_count_for_this_infusion() -> None:
    later = history(PATHWAY, [
        ("TreatmentDecisionCosigned", "2026-06-01T10:00", {"proposal_version": 9}),
        ("LymphodepletionRecorded", "2026-06-05T18:00", {"agents": [{"name": "bendamustine", "dose": "90 mg/m²"}],
                                                         "started_on": "2026-06-04", "ended_on": "2026-06-05"}),
    ])  # fmt: skip
    values = case(path=[*pathway(), *later]).values
    assert (values["decision_date"], values["lymphodepletion_start"], values["lymphodepletion_agents"]) == (
        date(2026, 1, 17), date(2026, 3, 4), ["fludarabine", "cyclophosphamide"]
    )  # fmt: skip
