"""The demo's refusals of what is judged, not declared; of four eyes; and of corrections.

Each is attempted on a real demo product in the state where it would otherwise be
accepted, and is refused with its rule, storing nothing (api/demo_custody.py
``attempt_refused``): a bag volume typed as 5,000 mL, a release by the QP who recorded the
lot's QC, a release while a major deviation is open, a warmed LN2 dry shipper declared
in range, a viability of 60 % declared within the ≥ 80 % criterion, and a courier
correcting a QP's QC result (README, "Judged, not declared"). The deviation is real: it
stays on the SLE product's record, assessed for the release then closed, so the
journey's later steps are the ones they were.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from api import demo_journeys as j
from api.demo_custody import attempt_refused
from domain.identifiers import Coi
from domain.product import TherapyProduct

FREEZER_DEVIATION = (
    "batch record review: the controlled-rate freezer's profile left the validated cooling curve for 3 minutes "
    "during cryopreservation"
)
"""The SLE lot's deviation, found by the QP before release."""


def _product(rec: j.Recorder, product: UUID) -> TherapyProduct:
    loaded = rec.ledger.load(product)
    assert isinstance(loaded, TherapyProduct), product
    return loaded


def volume_typed_wrong(rec: j.Recorder, product: UUID, din: str, start: datetime) -> str:
    """The nurse types the apheresis bag's volume as 5,000 mL: no bag holds that; the real 245 mL follows."""
    return attempt_refused(
        rec, "implausible_value", "nurse", "ApheresisCollected", product, start + timedelta(hours=4), "performed",
        **j.apheresis(din, start, volume_ml=5000),
    )  # fmt: skip


def release_held(rec: j.Recorder, product: UUID, coi: Coi, qc_at: datetime) -> list[str]:
    """Before the QP releases a lot whose QC is within specification, two releases are refused.

    The QP who recorded the QC results ("qc") may not release them (four eyes); then the
    releasing QP finds a major deviation in the batch record, which holds the release
    until the QP's documented impact assessment allows it (domain/deviation_gate.py).
    """
    certificate = f"CoR-{coi.sequence}"
    shown = [
        attempt_refused(
            rec, "release_by_qc_recorder", "qc", "ProductReleased", product, qc_at + timedelta(hours=2), "released",
            certificate_id=certificate,
        )
    ]  # fmt: skip
    rec(
        "qp", "DeviationRecorded", product, qc_at + timedelta(hours=3), "recorded",
        description=FREEZER_DEVIATION, severity="major", step="cryopreservation",
    )  # fmt: skip
    deviation = _product(rec, product).version
    shown.append(
        attempt_refused(
            rec, "open_deviation_blocks_step", "qp", "ProductReleased", product, qc_at + timedelta(hours=4),
            "released", certificate_id=certificate,
        )
    )  # fmt: skip
    rec(
        "qp", "DeviationImpactAssessed", product, qc_at + timedelta(hours=20), "reviewed",
        deviation_version=deviation, steps=["release"], assessment_ref=f"IA-{coi.sequence}",
        assessment="the excursion lies within the manufacturer's validated freezing range; post-thaw viability "
        "of the retained sample conforms",
    )  # fmt: skip
    return shown


def close_deviations(rec: j.Recorder, product: UUID, when: datetime) -> None:
    """The QP closes the lot's open deviations once the investigation found the cause, before the lot is shipped."""
    for version in sorted(_product(rec, product).open_deviations):
        rec(
            "qp", "DeviationClosed", product, when, "approved", deviation_version=version,
            resolution="freezer probe found drifting; recalibrated and the freezer requalified (CAPA-2026-031)",
        )  # fmt: skip


def warm_shipper_declared_ok(rec: j.Recorder, shipment: UUID, units: list[tuple[UUID, Coi]], when: datetime) -> str:
    """The pharmacist declares a warmed LN2 dry shipper in range: the ledger judges the logger's figures."""
    receipt = {**j.pharmacy_receipt(units, temperature_ok=False), "temperature_ok": True}
    return attempt_refused(
        rec, "temperature_verdict_contradicts_figures", "pharmacist", "ShipmentReceived", shipment, when,
        "received", **receipt,
    )  # fmt: skip


RETEST_VIABILITY = {
    "name": "viability", "result": "60 %", "value": 60, "unit": "%", "specification": ">= 80 %", "in_spec": True,
}  # fmt: skip
"""A retest of the out-of-specification lot's viability, declared within its ≥ 80 % criterion."""


def record_judged_refusals(rec: j.Recorder, now: datetime, out_of_spec: UUID) -> list[str]:
    """On the lot whose QC failed: a contradicted verdict, and a courier correcting the QP's QC result."""
    qc_version = next(v for v, (kind, _) in _product(rec, out_of_spec).facts.items() if kind == "QcResultsRecorded")
    return [
        attempt_refused(
            rec, "qc_verdict_contradicts_results", "qc", "QcResultsRecorded", out_of_spec, now, "reviewed",
            tests=[RETEST_VIABILITY],
        ),
        attempt_refused(
            rec, "corrector_role_not_allowed", "courier", "EventCorrected", out_of_spec, now, "authored",
            corrects_version=qc_version, reason="viability misread on the QC sheet",
            corrections={"tests": [{**RETEST_VIABILITY, "result": "81 %", "value": 81}]},
        ),
    ]  # fmt: skip
