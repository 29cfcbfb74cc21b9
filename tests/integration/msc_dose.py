"""An MSC bank dose enrolled with its Single European Code, through ``CustodyLedger.record`` as the demo does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from api import demo_journeys as j
from api.demo import MSC_BATCH_QC
from domain.identifiers import Coi, product_id_for
from tests.integration.journeys import Recorder, ready


@dataclass(frozen=True)
class MscDose:
    """The dose's product id and COI, its batch, the batch donor's DIN, and the dose's SEC as printed and as stored."""

    product: UUID
    coi: Coi
    batch: UUID
    donor_din: str

    @property
    def sec_printed(self) -> str:
        """The SEC as the label prints it: the donation number is the donor's ISBT 128 DIN."""
        return f"SEC FR000123 {self.donor_din} E0000123 002 20271231"

    @property
    def sec_stored(self) -> str:
        """The same 40 characters, compact, as the ledger stores them."""
        return f"FR000123{self.donor_din}E000012300220271231"


def msc_dose_with_sec(rec: Recorder, start: datetime, pseudonym: str = "PSN-MSC-0001") -> MscDose:
    """A registered, tested and released bank batch, and its dose 2 enrolled with the SEC typed as printed."""
    ready(rec, start, pseudonym, therapy="msc", code="MSC-BANK", diagnosis="systemic_sclerosis")
    batch = uuid.uuid4()
    donor_din = f"A9999{start.year % 100:02d}{uuid.uuid4().int % 1_000_000:06d}"
    rec("qp", "BatchRegistered", batch, start, "recorded", lot="MSC-LOT-SEC", donor_din=donor_din,
        product_code="MSC-BANK", doses=3, site=j.MANUFACTURER)  # fmt: skip
    rec("qp", "BatchQcRecorded", batch, start + timedelta(hours=1), "reviewed", tests=MSC_BATCH_QC)
    rec("qp", "BatchReleased", batch, start + timedelta(hours=2), "released", certificate_id="CoR-MSC-SEC")
    coi = j.new_coi(rec.ledger.settings.facility, start.year % 100)
    product = product_id_for(coi)
    dose = MscDose(product, coi, batch, donor_din)
    rec("physician", "ProductEnrolled", product, start + timedelta(hours=3), "approved", coi=coi.value,
        product_kind="msc", product_code="MSC-BANK", patient_pseudonym=pseudonym, indication="systemic_sclerosis",
        treating_physician="physician", collection_site=j.MANUFACTURER, batch_id=str(batch), dose_number=2,
        sec=dose.sec_printed)  # fmt: skip
    return dose
