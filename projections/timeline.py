"""Patient timeline: every event of every product of one patient (pseudonym), in the order things happened.

Rows are keyed by log position and carry who signed, in which role and with
which meaning (21 CFR Part 11 §11.50), and the payload as recorded. Events carry
the pseudonym only, never identity, so nothing here can reveal a patient; the
pseudonym of each product is learnt from its enrolment. The patient's care pathway
(RCP decisions, the pair's signatures, consent, lymphodepletion) is in the same
timeline, under the pathway's id and an empty COI.
"""

from __future__ import annotations

from collections.abc import Sequence

from projections.logged import LoggedEvent, instant, payload_json
from projections.projector import ProjectionFollower
from projections.view import Row, Table, View

TIMELINE_PRODUCTS = Table("projection_timeline_products", ("product_id",), ("product_id", "patient_pseudonym", "coi"))
TIMELINE = Table(
    "projection_timeline",
    ("log_position",),
    (
        "log_position", "patient_pseudonym", "product_id", "coi", "version", "event_type", "clinical",
        "occurred_at", "recorded_at", "actor_user_id", "actor_name", "actor_role", "meaning", "payload",
    ),
)  # fmt: skip
CLINICAL_EVENTS = frozenset(
    {
        "FollowUpRecorded", "AdverseEventRecorded", "RcpDecisionRecorded", "TreatmentDecisionProposed",
        "TreatmentDecisionCosigned", "ConsentSigned", "ConsentWithdrawn", "LymphodepletionRecorded",
    }
)  # fmt: skip
PATIENT_KINDS = frozenset({"product", "pathway"})


def timeline_row(event: LoggedEvent, patient: Row) -> Row:
    """One line of a patient's timeline."""
    record = event.record
    return {
        "log_position": event.position,
        "patient_pseudonym": patient["patient_pseudonym"],
        "product_id": str(record.aggregate_id),
        "coi": patient["coi"],
        "version": record.version,
        "event_type": record.type,
        "clinical": int(record.type in CLINICAL_EVENTS),
        "occurred_at": instant(record.occurred_at),
        "recorded_at": instant(record.recorded_at),
        "actor_user_id": record.actor.user_id,
        "actor_name": record.actor.name,
        "actor_role": record.actor.role,
        "meaning": record.meaning,
        "payload": payload_json(dict(record.payload)),
    }


class TimelineFollower(ProjectionFollower):
    """Keeps ``projection_timeline`` (and the product → pseudonym map it needs) current."""

    name = "timeline"
    tables = (TIMELINE, TIMELINE_PRODUCTS)
    lookups = (TIMELINE_PRODUCTS,)

    def project(self, events: Sequence[LoggedEvent], view: View) -> None:
        """Append one row per product or pathway event, under the patient."""
        for event in events:
            if event.kind not in PATIENT_KINDS:
                continue
            product_id = str(event.aggregate_id)
            if event.type in ("ProductEnrolled", "PatientEnrolled"):
                payload = event.record.payload
                patient = {
                    "product_id": product_id,
                    "patient_pseudonym": payload["patient_pseudonym"],
                    "coi": payload.get("coi", ""),
                }
                view.put(TIMELINE_PRODUCTS, patient)
            found = view.get(TIMELINE_PRODUCTS, (product_id,))
            if found is not None:
                view.put(TIMELINE, timeline_row(event, found))
