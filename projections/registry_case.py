"""What a cell-therapy registry asks about one treated patient, gathered from the product's and the pathway's facts.

Both registries (DESCAR-T, EBMT) ask the same things in different words: the disease
and the lines of treatment it resisted, the dates of the decision, the collection, the
conditioning and the infusion, the worst CRS and ICANS and when they began, and at each
follow-up visit the disease's response and whether the patient is alive. This module
gathers those facts once, each with the ledger field it comes from, so a registry's
format (projections/registry_descart.py, registry_ebmt.py) only names and codes them,
and a missing fact can be reported as the very field to record. Values are those in
force: a corrected fact counts as corrected (``TherapyProduct.effective_payload``).
Nothing here reads the sealed identity: the pseudonym is all a registry receives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from domain.events import EventRecord
from domain.payloads import parse_date, parse_time
from domain.product import TherapyProduct

Facts = dict[str, Any]


@dataclass(frozen=True)
class Visit:
    """One follow-up visit's facts, and the ledger field each comes from."""

    values: Facts
    sources: dict[str, str]


@dataclass(frozen=True)
class RegistryCase:
    """One infused product's facts for a registry; ``consented`` lists the registries the patient agreed to."""

    product_id: UUID
    values: Facts
    sources: dict[str, str]
    visits: list[Visit]
    consented: frozenset[str]
    consent_withdrawn: bool
    pathway_recorded: bool = field(default=True)


def registry_case(
    product_id: UUID, records: Sequence[EventRecord], pathway_records: Sequence[EventRecord]
) -> RegistryCase | None:
    """The case of an infused product (None when the product was never infused: no one was treated)."""
    product = TherapyProduct.replay(product_id, records)
    payloads = [(record, product.effective_payload(record.version)) for record in records]
    infusion = _last(payloads, "Infused")
    if infusion is None:
        return None
    infused_on = parse_time(infusion[1]["started_at"]).date()
    values: Facts = {
        "coi": product.coi,
        "patient_pseudonym": product.patient_pseudonym,
        "product_code": product.product_code,
        "product_kind": product.product_kind,
        "trial_protocol": product.trial.get("trial_protocol"),
        "eu_ct_number": product.trial.get("eu_ct_number"),
        "infusion_date": infused_on,
        "infusion_site": infusion[1].get("site"),
        "viable_cells": infusion[1].get("viable_cells"),
    }
    sources = {
        "infusion_date": f"Infused.started_at (version {infusion[0].version})",
        "viable_cells": f"Infused.viable_cells (version {infusion[0].version})",
    }
    _collection(payloads, values, sources)
    _manufacture(payloads, values)
    _adverse_events(payloads, values)
    pathway = _pathway(pathway_records, infused_on, values, sources, product.indication)
    visits = [_visit(record, payload, infused_on, values) for record, payload in payloads if _is_visit(record)]
    return RegistryCase(product_id, values, sources, visits, *pathway, pathway_recorded=bool(pathway_records))


def _last(payloads: Sequence[tuple[EventRecord, Mapping[str, Any]]], *types: str) -> tuple[EventRecord, Facts] | None:
    found = [(record, dict(payload)) for record, payload in payloads if record.type in types]
    return found[-1] if found else None


def _is_visit(record: EventRecord) -> bool:
    return record.type == "FollowUpRecorded"


def _collection(payloads: Sequence[tuple[EventRecord, Mapping[str, Any]]], values: Facts, sources: dict[str, str]
                ) -> None:  # fmt: skip
    """The collection the lot was made from is the last one before manufacturing; a dose from a bank has none."""
    collections = [(record, payload) for record, payload in payloads if record.type == "ApheresisCollected"]
    values["collections"] = len(collections)
    values["collection_date"] = parse_time(collections[-1][1]["started_at"]).date() if collections else None
    sources["collection_date"] = (
        f"ApheresisCollected.started_at (version {collections[-1][0].version})" if collections else
        "ApheresisCollected.started_at (no collection recorded)"
    )  # fmt: skip


def _manufacture(payloads: Sequence[tuple[EventRecord, Mapping[str, Any]]], values: Facts) -> None:
    """The lot given: where and when it was made, and when (and how) it was released."""
    started = _last(payloads, "ManufacturingStarted")
    values["lot"] = started[1]["lot"] if started else None
    values["manufacturing_site"] = started[1]["site"] if started else None
    values["manufacturing_date"] = started[0].occurred_at.date() if started else None
    released = _last(payloads, "ProductReleased", "ExceptionalReleaseApproved")
    values["release_date"] = released[0].occurred_at.date() if released else None
    values["exceptional_release"] = released is not None and released[0].type == "ExceptionalReleaseApproved"


def _adverse_events(payloads: Sequence[tuple[EventRecord, Mapping[str, Any]]], values: Facts) -> None:
    """The worst grade of CRS and of ICANS (0: none recorded) and the day the first was recorded."""
    for category in ("crs", "icans"):
        events = [(r, p) for r, p in payloads if r.type == "AdverseEventRecorded" and p["category"] == category]
        values[f"{category}_max_grade"] = max((int(p["grade"]) for _, p in events), default=0)
        values[f"{category}_onset_date"] = min((r.occurred_at.date() for r, _ in events), default=None)


def _pathway(
    records: Sequence[EventRecord], infused_on: date, values: Facts, sources: dict[str, str], indication: str
) -> tuple[frozenset[str], bool]:
    """The disease, prior lines, decision, consent and conditioning; returns (registries consented to, withdrawn)."""
    by_type: dict[str, list[EventRecord]] = {}
    for record in records:
        by_type.setdefault(record.type, []).append(record)
    _disease(by_type.get("PatientEnrolled", []), values, sources, indication)
    eligible = [r for r in by_type.get("RcpDecisionRecorded", []) if r.payload["outcome"] == "eligible"]
    values["rcp_date"] = parse_time(eligible[-1].payload["meeting_at"]).date() if eligible else None
    sources["rcp_date"] = "RcpDecisionRecorded.meeting_at (outcome eligible)"
    cosigned = [r for r in by_type.get("TreatmentDecisionCosigned", []) if r.occurred_at.date() <= infused_on]
    values["decision_date"] = cosigned[-1].occurred_at.date() if cosigned else None
    sources["decision_date"] = "TreatmentDecisionCosigned (the pair's co-signed decision, on the patient's pathway)"
    consent = by_type.get("ConsentSigned", [])
    values["consent_date"] = parse_date(consent[-1].payload["signed_on"]) if consent else None
    _conditioning(by_type.get("LymphodepletionRecorded", []), infused_on, values, sources)
    agreed = frozenset(str(name) for r in consent for name in (r.payload.get("registry_transmission") or ()))
    return agreed, bool(by_type.get("ConsentWithdrawn"))


def _disease(enrolled: Sequence[EventRecord], values: Facts, sources: dict[str, str], indication: str) -> None:
    """The pathway's diagnosis and prior lines; a patient whose pathway is kept elsewhere has the product's
    indication and no prior lines here."""
    sources["prior_lines"] = "PatientEnrolled.prior_treatments (the patient's pathway is not in this ledger)"
    if not enrolled:
        values["disease"], values["disease_detail"] = indication, None
        values["prior_lines"], values["prior_treatments"] = None, None
        sources["disease"] = "ProductEnrolled.indication"
        return
    p = enrolled[-1].payload
    values["disease"], values["disease_detail"] = p["diagnosis"], p.get("diagnosis_detail")
    values["prior_lines"] = len(p["prior_treatments"])
    values["prior_treatments"] = [str(t["treatment"]) for t in p["prior_treatments"]]
    sources["disease"] = "PatientEnrolled.diagnosis"


def _conditioning(given: Sequence[EventRecord], infused_on: date, values: Facts, sources: dict[str, str]) -> None:
    """The lymphodepletion this infusion followed: the last one ended on or before the infusion day."""
    before = [r.payload for r in given if parse_date(r.payload["ended_on"]) <= infused_on]
    last = before[-1] if before else None
    values["lymphodepletion_start"] = parse_date(last["started_on"]) if last else None
    values["lymphodepletion_end"] = parse_date(last["ended_on"]) if last else None
    values["lymphodepletion_agents"] = [str(a["name"]) for a in last["agents"]] if last else None
    sources["lymphodepletion_start"] = (
        "LymphodepletionRecorded.started_on (on the patient's pathway, ended on or before the infusion)"
    )


def _visit(record: EventRecord, payload: Mapping[str, Any], infused_on: date, case: Facts) -> Visit:
    """A visit's date, its distance from the infusion, the response and survival recorded there."""
    day = record.occurred_at.date()
    name = str(payload["visit"])
    values: Facts = {
        "coi": case["coi"],
        "patient_pseudonym": case["patient_pseudonym"],
        "visit": name,
        "visit_date": day,
        "days_after_infusion": (day - infused_on).days,
        "disease_response": payload.get("disease_response"),
        "survival": payload.get("survival"),
        "cause_of_death": payload.get("cause_of_death"),
    }
    where = f"of the {name} visit (version {record.version}; correct it with EventCorrected)"
    sources = {key: f"FollowUpRecorded.{key} {where}" for key in ("disease_response", "survival", "cause_of_death")}
    return Visit(values, sources)
