"""The rules of an MSC bank batch: registration, QC, release, and a recall that reaches every dose."""

from __future__ import annotations

from collections.abc import Mapping

from domain.batch import BankBatch, BatchRegistered, BatchReleased
from domain.donation import DinUse, assign_din
from domain.errors import InvalidInput, OutOfOrder
from domain.events import NewEvent
from domain.product_exception_events import RecallNotified
from domain.product_specs import RECALL_NOTIFIED
from domain.release_panel import QcCriterion, check_whole_panel, judge_results
from domain.spec import Command, Decider


def _batch(cmd: Command) -> BankBatch:
    assert isinstance(cmd.current, BankBatch)
    return cmd.current


def register_batch(cmd: Command) -> list[NewEvent]:
    """A batch is registered once, for an MSC product the catalogue knows, under a DIN no other collection holds."""
    payload: BatchRegistered = cmd.payload
    entry = cmd.catalogue.get(payload.product_code, field="payload.product_code")
    if entry.kind != "msc":
        raise InvalidInput(
            f"payload.product_code {entry.code} is a {entry.kind} product; bank batches hold MSC doses",
            field="payload.product_code",
            rule="product_kind_mismatch",
        )
    return [cmd.record(), assign_din(cmd, payload.donor_din, DinUse.BANK_BATCH, cmd.aggregate_id, "payload.donor_din")]


def _panel(cmd: Command, batch: BankBatch) -> tuple[QcCriterion, ...]:
    """The batch's release panel: its product's in the catalogue in force (by default the MSC panel)."""
    return cmd.catalogue.get(batch.product_code).release_panel


def record_batch_qc(cmd: Command) -> list[NewEvent]:
    """QC results belong before release and are judged as a product's are: measured value against the panel."""
    batch = _batch(cmd)
    if batch.released:
        raise OutOfOrder(f"batch {batch.lot} is already released", rule="already_released")
    judge_results(_panel(cmd, batch), cmd.payload.tests)
    return [cmd.record()]


def release_batch(cmd: Command) -> list[NewEvent]:
    """Only a batch with in-specification QC on its whole panel, not recalled, may be released, once."""
    batch = _batch(cmd)
    payload: BatchReleased = cmd.payload
    if batch.recalled:
        raise OutOfOrder(f"batch {batch.lot} has been recalled and cannot be released", rule="batch_recalled")
    if batch.released:
        raise OutOfOrder(f"batch {batch.lot} is already released", rule="already_released")
    if batch.qc_in_spec is not True:
        found = "no QC results" if batch.qc_in_spec is None else "QC out of specification"
        raise OutOfOrder(
            f"cannot release batch {batch.lot} (certificate {payload.certificate_id}): it has {found}",
            rule="release_requires_in_spec_qc",
        )
    check_whole_panel(_panel(cmd, batch), batch.qc_results, batch.product_code, "BatchQcRecorded")
    return [cmd.record()]


def recall_batch(cmd: Command) -> list[NewEvent]:
    """A batch recall is notified on every product that received a dose, infused or not."""
    batch = _batch(cmd)
    if batch.recalled:
        raise OutOfOrder(f"batch {batch.lot} is already recalled", rule="already_recalled")
    notice = RecallNotified(cmd.payload.recall_ref, cmd.payload.reason, str(batch.id))
    return [cmd.record()] + [
        cmd.derive(RECALL_NOTIFIED, product_id, notice) for _, product_id in sorted(batch.allocated.items())
    ]


DECIDERS: Mapping[str, Decider] = {
    "BatchRegistered": register_batch,
    "BatchQcRecorded": record_batch_qc,
    "BatchReleased": release_batch,
    "BatchRecalled": recall_batch,
}
