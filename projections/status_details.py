"""What a product's status adds at query time: bags, pathway setting, consent, QC against its panel, corrections.

These facts are read when one product's status is asked for, from its own signed
history and its patient's pathway, rather than kept in the status table: a status
row is a function of the product's history alone, whereas a consent withdrawal is
recorded on the pathway and must show on the product the moment it is signed.
Replaying one product and one pathway is a handful of rows. The QC results are
read against the panel of the catalogue in force (projections/qc_details.py) and
every corrected fact is shown with its original values, each correction and the
values in force (projections/corrections.py).

A history this version cannot replay (a hostile or older event) must not stop the
status from being read: the detail it would have given is then reported as
``None`` ("cannot be told"), never guessed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.catalogue import Catalogue
from domain.events import EventRecord
from domain.pathway import PatientPathway, pathway_id_for
from domain.product import TherapyProduct
from domain.product_bags import bag_fates
from ledger.store import EventStore
from projections.corrections import chains_of_records
from projections.logged import records_of
from projections.qc_details import qc_panel

UNREPLAYABLE = (LookupError, TypeError, ValueError, AttributeError)
"""What replaying a stored payload of an unexpected shape raises (an undecodable row is a ValueError)."""

CONSENT_WITHDRAWN = "consent_withdrawn"
CONSENT_WITHDRAWN_REASON = "the patient withdrew consent: no step may consume or commit the product"


def _records(store: EventStore, aggregate_id: UUID, as_of: datetime | None) -> list[EventRecord]:
    records = records_of(store.stored_history(aggregate_id))
    return records if as_of is None else [record for record in records if record.recorded_at <= as_of]


def product_details(
    store: EventStore, product_id: UUID, as_of: datetime | None, catalogue: Catalogue
) -> dict[str, Any]:
    """Each bag and its fate, the site setting the product was enrolled under (None when there is none), its QC
    results against the release panel (None before manufacture) and its corrected facts."""
    try:
        records = _records(store, product_id, as_of)
        product = TherapyProduct.replay(product_id, records)
        fates = bag_fates(product)
        qc = qc_panel(product, records, catalogue)
        corrections = chains_of_records(records)
    except UNREPLAYABLE:
        return {"bags": None, "pathway_managed_elsewhere": None, "qc": None, "corrections": None}
    return {
        "bags": [{"bag_id": bag, "fate": fate} for bag, fate in fates.items()],
        "pathway_managed_elsewhere": product.pathway_managed_elsewhere,
        "qc": qc,
        "corrections": corrections,
    }


def consent_withdrawn(store: EventStore, pseudonym: str | None, as_of: datetime | None) -> bool | None:
    """Whether the patient's pathway records a withdrawal of consent (False without a pathway; None unreadable)."""
    if not pseudonym:
        return False
    try:
        records = _records(store, pathway_id_for(pseudonym), as_of)
        if not records:
            return False
        return PatientPathway.replay(pathway_id_for(pseudonym), records).consent_withdrawn
    except UNREPLAYABLE:
        return None


def with_details(
    store: EventStore, status: dict[str, Any], as_of: datetime | None, catalogue: Catalogue
) -> dict[str, Any]:
    """The status with ``bags``, ``pathway_managed_elsewhere``, ``consent_withdrawn`` (also shown as a hold),
    ``qc`` and ``corrections``."""
    details = product_details(store, UUID(status["product_id"]), as_of, catalogue)
    withdrawn = consent_withdrawn(store, status["patient_pseudonym"], as_of)
    holds = list(status["holds"])
    if withdrawn:
        holds.append({"kind": CONSENT_WITHDRAWN, "reason": CONSENT_WITHDRAWN_REASON})
    return {**status, **details, "consent_withdrawn": withdrawn, "holds": holds}
