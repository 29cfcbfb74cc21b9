"""The EBMT rows: the European registry's cellular-therapy items, in English, with ISO dates.

EBMT's registry takes every cellular therapy, CAR-T cells and MSC alike, for autoimmune
diseases through its autoimmune diseases working party. The columns are this ledger's
names for what its cellular-therapy forms ask (indication, prior lines, cell source,
dates of collection and infusion, CRS and ICANS, and at each follow-up best response and
survival); docs/registries.md maps each column to its ledger fact. Comma-separated, dates
YYYY-MM-DD, codes as short English abbreviations.
"""

from __future__ import annotations

from projections.registry_rows import Column, RegistryFormat

DISEASES = {
    "systemic_lupus_erythematosus": "SLE",
    "systemic_sclerosis": "SSc",
    "inflammatory_myopathy": "IIM",
    "vasculitis": "vasculitis",
    "other": "other AD",
}
CELL_THERAPIES = {"car_t": "CAR-T", "msc": "MSC"}
RESPONSES = {
    "complete_remission": "CR",
    "partial_response": "PR",
    "no_response": "NR",
    "relapse": "REL",
    "not_evaluated": "NE",
}
SURVIVAL = {"alive": "alive", "dead": "dead"}

_PATIENT = (Column("patient_code", "patient_pseudonym", required=True), Column("coi", "coi", required=True))

EBMT = RegistryFormat(
    registry="ebmt",
    label="EBMT",
    product_kinds=frozenset({"car_t", "msc"}),
    delimiter=",",
    date_format="%Y-%m-%d",
    yes_no=("yes", "no"),
    record_codes={"treatment": "CT", "follow_up": "FU"},
    treatment=(
        *_PATIENT,
        Column("indication", "disease", required=True, codes=DISEASES),
        Column("indication_detail", "disease_detail"),
        Column("prior_lines", "prior_lines", required=True),
        Column("cell_therapy", "product_kind", required=True, codes=CELL_THERAPIES),
        Column("product", "product_code", required=True),
        Column("decision_date", "decision_date"),
        Column("collection_date", "collection_date"),
        Column("lymphodepletion_start", "lymphodepletion_start"),
        Column("infusion_date", "infusion_date", required=True),
        Column("infused_viable_cells", "viable_cells"),
        Column("exceptional_release", "exceptional_release"),
        Column("crs_max_grade", "crs_max_grade"),
        Column("crs_onset", "crs_onset_date"),
        Column("icans_max_grade", "icans_max_grade"),
        Column("icans_onset", "icans_onset_date"),
        Column("trial", "eu_ct_number"),
    ),
    follow_up=(
        *_PATIENT,
        Column("visit", "visit", required=True),
        Column("assessment_date", "visit_date", required=True),
        Column("days_after_infusion", "days_after_infusion"),
        Column("best_response", "disease_response", required=True, codes=RESPONSES),
        Column("survival_status", "survival", required=True, codes=SURVIVAL),
        Column("cause_of_death", "cause_of_death"),
    ),
)
