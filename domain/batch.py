"""BankBatch: an allogeneic MSC bank batch from one donor, split into doses for different patients.

Each dose becomes a TherapyProduct at enrolment (DoseAllocated links them), so a
recall of the batch reaches every patient and unit that received one of its doses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from domain.aggregate import Aggregate
from domain.document_ref import CertificateOfAnalysis, ReleaseCertificate
from domain.errors import InvalidInput, OutOfOrder
from domain.events import EventRecord
from domain.events import Meaning as M
from domain.events import Role as R
from domain.payloads import NON_EMPTY, Bounds, DinText, FreeText, IdText
from domain.product_events import QcTest
from domain.release_panel import test_key
from domain.spec import EventSpec

KIND = "batch"


@dataclass(frozen=True)
class BatchRegistered:
    """A bank batch made from one donor's cells."""

    lot: str
    donor_din: DinText
    product_code: str
    doses: Annotated[int, Bounds(low=1)]
    site: str


@dataclass(frozen=True)
class BatchQcRecorded:
    """The batch's quality-control results."""

    tests: Annotated[list[QcTest], NON_EMPTY]
    document: CertificateOfAnalysis | None = None
    """The certificate of analysis, stored by hash (domain/document_ref.py)."""


@dataclass(frozen=True)
class BatchReleased:
    """The Qualified Person certified the batch."""

    certificate_id: str
    document: ReleaseCertificate | None = None
    """The signed release certificate, stored by hash."""


@dataclass(frozen=True)
class DoseAllocated:
    """One dose of the batch was allocated to a patient's product (derived from ProductEnrolled)."""

    product_id: IdText
    dose_number: Annotated[int, Bounds(low=1)]


@dataclass(frozen=True)
class BatchRecalled:
    """The manufacturer recalled the whole batch."""

    recall_ref: str
    reason: FreeText


_QP = frozenset({R.QP})
BATCH_REGISTERED = EventSpec(
    "BatchRegistered",
    KIND,
    BatchRegistered,
    (M.RECORDED, M.APPROVED),
    _QP,
    "Registers an MSC bank batch from one donor (DIN) and the number of doses it holds.",
    creates=True,
)
BATCH_QC_RECORDED = EventSpec(
    "BatchQcRecorded",
    KIND,
    BatchQcRecorded,
    (M.REVIEWED, M.RECORDED, M.APPROVED),
    _QP,
    "Records the batch's quality-control results, judged against the product's release panel: a measured value "
    "the panel's criterion contradicts refuses the declared verdict.",
)
BATCH_RELEASED = EventSpec(
    "BatchReleased",
    KIND,
    BatchReleased,
    (M.RELEASED,),
    _QP,
    "The Qualified Person releases a batch whose QC is within specification on the whole release panel; its doses "
    "may then be allocated.",
)
DOSE_ALLOCATED = EventSpec(
    "DoseAllocated",
    KIND,
    DoseAllocated,
    (M.RECORDED,),
    frozenset({R.PHYSICIAN, R.PHARMACIST, R.NURSE}),
    "A dose was allocated to a patient's product; recorded by enrolling the MSC product.",
    derived_from="ProductEnrolled",
)
BATCH_RECALLED = EventSpec(
    "BatchRecalled",
    KIND,
    BatchRecalled,
    (M.RECORDED, M.APPROVED),
    _QP,
    "The manufacturer recalled the batch; every product that received a dose is notified.",
)
BATCH_SPECS = (BATCH_REGISTERED, BATCH_QC_RECORDED, BATCH_RELEASED, DOSE_ALLOCATED, BATCH_RECALLED)


class BankBatch(Aggregate):
    """A donor's MSC bank batch and the doses allocated from it."""

    kind = KIND

    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(aggregate_id)
        self.registered = False
        self.lot = ""
        self.donor_din = ""
        self.product_code = ""
        self.doses = 0
        self.site = ""
        self.qc_in_spec: bool | None = None
        self.qc_results: dict[str, bool] = {}
        self.released = False
        self.recalled = False
        self.allocated: dict[int, UUID] = {}

    @property
    def doses_left(self) -> int:
        """How many doses remain to allocate."""
        return self.doses - len(self.allocated)

    def when_BatchRegistered(self, record: EventRecord) -> None:
        """Lot, donor and number of doses become known."""
        p = record.payload
        self.registered = True
        self.lot, self.donor_din, self.product_code = p["lot"], p["donor_din"], p["product_code"]
        self.doses, self.site = p["doses"], p["site"]

    def when_BatchQcRecorded(self, record: EventRecord) -> None:
        """Results accumulate by test, a retest replacing its earlier result; any test out of spec blocks release."""
        for test in record.payload["tests"]:
            self.qc_results[test_key(test["name"])] = bool(test["in_spec"])
        self.qc_in_spec = all(self.qc_results.values())

    def when_BatchReleased(self, record: EventRecord) -> None:
        """Doses may now be allocated."""
        self.released = True

    def when_DoseAllocated(self, record: EventRecord) -> None:
        """The dose is taken, so the recall can reach its patient."""
        self.allocated[record.payload["dose_number"]] = UUID(record.payload["product_id"])

    def when_BatchRecalled(self, record: EventRecord) -> None:
        """No more doses go out; allocated ones are notified."""
        self.recalled = True


def check_dose_available(batch: BankBatch, product_code: str, dose_number: int) -> None:
    """A dose may go to a patient only from a released, unrecalled batch of the same product, once."""
    if batch.product_code != product_code:
        raise InvalidInput(
            f"batch {batch.lot} holds {batch.product_code}, not {product_code}",
            field="payload.product_code",
            rule="batch_product_mismatch",
        )
    if batch.recalled:
        raise OutOfOrder(f"batch {batch.lot} has been recalled: its doses cannot be allocated", rule="batch_recalled")
    if not batch.released:
        raise OutOfOrder(
            f"batch {batch.lot} is not released: record BatchReleased before allocating doses",
            rule="batch_not_released",
        )
    if batch.doses_left <= 0:
        raise OutOfOrder(f"batch {batch.lot} has no doses left (all {batch.doses} allocated)", rule="no_doses_left")
    if dose_number > batch.doses:
        raise InvalidInput(
            f"payload.dose_number {dose_number} is beyond the batch's {batch.doses} doses",
            field="payload.dose_number",
            rule="dose_number_out_of_range",
        )
    if dose_number in batch.allocated:
        raise OutOfOrder(
            f"dose {dose_number} of batch {batch.lot} is already allocated to product {batch.allocated[dose_number]}",
            rule="dose_already_allocated",
        )
