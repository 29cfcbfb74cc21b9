"""The DESCAR-T rows: the French CAR-T registry's items, in French, dates as the French write them.

DESCAR-T follows every patient given CAR-T cells in France, so an MSC dose is out of its
scope. The columns are this ledger's names for the items the registry collects (disease,
prior lines, decision, collection, conditioning, infusion, CRS and ICANS, and at each
visit response and survival); docs/registries.md says which fact fills each and why a
column is required. Semicolon-separated with DD/MM/YYYY dates, as French spreadsheets
read them.
"""

from __future__ import annotations

from projections.registry_rows import Column, RegistryFormat

DISEASES = {
    "systemic_lupus_erythematosus": "lupus érythémateux systémique",
    "systemic_sclerosis": "sclérodermie systémique",
    "inflammatory_myopathy": "myopathie inflammatoire",
    "vasculitis": "vascularite",
    "other": "autre maladie auto-immune",
}
RESPONSES = {
    "complete_remission": "rémission complète",
    "partial_response": "réponse partielle",
    "no_response": "absence de réponse",
    "relapse": "rechute",
    "not_evaluated": "non évaluée",
}
SURVIVAL = {"alive": "vivant", "dead": "décédé"}

_PATIENT = (Column("id_patient", "patient_pseudonym", required=True), Column("coi", "coi", required=True))

DESCAR_T = RegistryFormat(
    registry="descar_t",
    label="DESCAR-T",
    product_kinds=frozenset({"car_t"}),
    delimiter=";",
    date_format="%d/%m/%Y",
    yes_no=("oui", "non"),
    record_codes={"treatment": "traitement", "follow_up": "suivi"},
    treatment=(
        *_PATIENT,
        Column("maladie", "disease", required=True, codes=DISEASES),
        Column("nb_lignes_anterieures", "prior_lines", required=True),
        Column("traitements_anterieurs", "prior_treatments"),
        Column("date_rcp", "rcp_date"),
        Column("date_decision", "decision_date", required=True),
        Column("date_consentement", "consent_date"),
        Column("produit", "product_code", required=True),
        Column("date_apherese", "collection_date", required=True),
        Column("nb_apheres", "collections"),
        Column("lot", "lot"),
        Column("site_fabrication", "manufacturing_site"),
        Column("date_liberation", "release_date"),
        Column("liberation_exceptionnelle", "exceptional_release"),
        Column("date_debut_lymphodepletion", "lymphodepletion_start", required=True),
        Column("date_fin_lymphodepletion", "lymphodepletion_end"),
        Column("lymphodepletion", "lymphodepletion_agents"),
        Column("date_injection", "infusion_date", required=True),
        Column("cellules_viables", "viable_cells"),
        Column("src_grade_max", "crs_max_grade"),
        Column("src_date", "crs_onset_date"),
        Column("icans_grade_max", "icans_max_grade"),
        Column("icans_date", "icans_onset_date"),
        Column("essai", "trial_protocol"),
        Column("numero_eu_ct", "eu_ct_number"),
    ),
    follow_up=(
        *_PATIENT,
        Column("visite", "visit", required=True),
        Column("date_visite", "visit_date", required=True),
        Column("jours_depuis_injection", "days_after_infusion"),
        Column("reponse", "disease_response", required=True, codes=RESPONSES),
        Column("statut_vital", "survival", required=True, codes=SURVIVAL),
        Column("cause_deces", "cause_of_death"),
    ),
)
