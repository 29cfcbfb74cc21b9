"""QC results and graded adverse events as FHIR R5 Observations.

A QC result travels with its acceptance criterion and the ledger's verdict, so a receiver
reads "viability 60 % against ≥ 80 %: low, out of specification" without the catalogue:
the measured value (valueQuantity, UCUM where certain) or reading (valueString), the
criterion as ``referenceRange`` (its bounds, and its words as ``text``), and the verdict
of projections/qc_details.py as an HL7 v3 ObservationInterpretation: N within
specification, L below a minimum, H above a maximum, A otherwise out of specification
(a qualitative reading, or a verdict as declared). A corrected result is ``corrected``,
and the reading first signed stays in the ledger (README "What a unit must never accept": corrections).

Graded adverse events (CRS and ICANS on the ASTCT scales, others 1 to 5,
domain/follow_up.py) are Observations of the patient whose value is the grade.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from domain.events import EventRecord
from domain.release_panel import QcCriterion, test_key
from projections import fhir_terms as t
from projections.qc_details import IN_SPEC, MISSING

INTERPRETATIONS = {
    "N": ("Normal", "within specification"),
    "L": ("Low", "out of specification: below the minimum"),
    "H": ("High", "out of specification: above the maximum"),
    "A": ("Abnormal", "out of specification"),
}
ADVERSE_EVENTS = {
    "crs": "Cytokine release syndrome (CRS)",
    "icans": "Immune effector cell-associated neurotoxicity syndrome (ICANS)",
    "infection": "Infection",
    "cytopenia": "Cytopenia",
    "other": "Other adverse event",
}
ASTCT_GRADED = frozenset({"crs", "icans"})


def interpretation_code(test: Mapping[str, Any], criterion: QcCriterion | None) -> str:
    """N, L, H or A for one test as qc_details judged it."""
    if test["verdict"] == IN_SPEC:
        return "N"
    value = test.get("value")
    if criterion is None or not criterion.numeric or not isinstance(value, int | float) or isinstance(value, bool):
        return "A"
    if criterion.minimum is not None and value < criterion.minimum:
        return "L"
    if criterion.maximum is not None and (
        value > criterion.maximum or (criterion.maximum_exclusive and value >= criterion.maximum)
    ):
        return "H"
    return "A"


def _reference_range(test: Mapping[str, Any], criterion: QcCriterion | None) -> dict[str, Any]:
    shown: dict[str, Any] = {"text": str(test["criterion"])} if test.get("criterion") else {}
    if criterion is not None and criterion.numeric:
        if criterion.minimum is not None:
            shown["low"] = t.quantity(criterion.minimum, criterion.unit)
        if criterion.maximum is not None:
            shown["high"] = t.quantity(criterion.maximum, criterion.unit)
    return shown


def _value(test: Mapping[str, Any]) -> dict[str, Any]:
    value = test.get("value")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"valueQuantity": t.quantity(value, test.get("unit"))}
    return {"valueString": str(test.get("result") or "")}


def qc_observation(
    product_id: UUID,
    test: Mapping[str, Any],
    criterion: QcCriterion | None,
    record: EventRecord,
    product: dict[str, Any],
) -> dict[str, Any] | None:
    """One QC test's result in force (None for a test of the panel with no result yet); ``record`` is the QC
    record it was signed in."""
    if test["verdict"] == MISSING:
        return None
    code = interpretation_code(test, criterion)
    display, words = INTERPRETATIONS[code]
    basis = "computed from the value and the criterion" if test.get("verdict_basis") == "computed" else "as declared"
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": t.resource_id(product_id, f"qc/{test_key(test['name'])}"),
        "status": "corrected" if test.get("corrected_by") else "final",
        "category": [t.concept(t.OBSERVATION_CATEGORY, "laboratory", "Laboratory")],
        "code": {"coding": [t.coding(t.QC_TEST, test_key(test["name"]), str(test["name"]))], "text": test["name"]},
        "subject": t.reference(product),
        "effectiveDateTime": t.when(record.occurred_at),
        "issued": t.when(record.recorded_at),
        "performer": [t.signer(record.actor.user_id, record.actor.name)],
        **_value(test),
        "interpretation": [{"coding": [t.coding(t.INTERPRETATION, code, display)], "text": words}],
        "method": {"text": f"release panel verdict {basis}"},
    }
    reference_range = _reference_range(test, criterion)
    if reference_range:
        observation["referenceRange"] = [reference_range]
    return observation


def adverse_event_observation(
    product_id: UUID, record: EventRecord, patient: dict[str, Any], product: dict[str, Any]
) -> dict[str, Any]:
    """A graded adverse event after infusion: the category, the grade, and the words of whoever recorded it."""
    p = record.payload
    category = str(p["category"])
    scale = "ASTCT consensus grading (1 to 4)" if category in ASTCT_GRADED else "graded 1 to 5"
    return {
        "resourceType": "Observation",
        "id": t.resource_id(product_id, f"adverse-event/{record.version}"),
        "status": "final",
        "code": t.concept(t.ADVERSE_EVENT_CATEGORY, category, ADVERSE_EVENTS.get(category, category)),
        "subject": t.reference(patient),
        "focus": [t.reference(product)],
        "effectiveDateTime": t.when(record.occurred_at),
        "issued": t.when(record.recorded_at),
        "performer": [t.signer(record.actor.user_id, record.actor.name)],
        "valueInteger": int(p["grade"]),
        "method": {"text": scale},
        "note": [{"text": str(p["description"])}],
    }
