"""Donation: one DIN, one collection, for a hundred years — kept as an aggregate of its own.

A product or a bank batch sees only its own history, so neither can tell that its DIN
was already given to another patient's collection or to a donor's bank batch. The DIN
therefore gets an aggregate whose id is derived from the DIN itself: the step that uses a
DIN (ApheresisCollected, BatchRegistered) also records ``DinAssigned`` on it, in the same
transaction. A second use finds the aggregate and is refused; two writers racing for the
same DIN both write version 1 of the same aggregate, and the store lets only one win.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID, uuid5

from domain.aggregate import Aggregate
from domain.errors import RuleViolation
from domain.events import EventRecord, NewEvent
from domain.events import Meaning as M
from domain.events import Role as R
from domain.payloads import DinText, IdText
from domain.spec import Command, EventSpec

KIND = "donation"

DONATION_NAMESPACE = UUID("0b7e4a52-3f1d-4c8e-a6d9-52e1c07f9b3d")
"""Fixed forever: donation aggregate ids are uuid5(DONATION_NAMESPACE, DIN value)."""


def donation_id_for(din: str) -> UUID:
    """The aggregate id of a DIN, so any step naming the DIN finds who already holds it."""
    return uuid5(DONATION_NAMESPACE, din)


class DinUse(StrEnum):
    """What a DIN was given to: a patient's apheresis, or a donor's MSC bank batch."""

    APHERESIS = "apheresis"
    BANK_BATCH = "bank_batch"


@dataclass(frozen=True)
class DinAssigned:
    """The DIN now identifies this collection (derived from the step that used it)."""

    din: DinText
    use: DinUse
    holder_id: IdText


DIN_ASSIGNED = EventSpec(
    "DinAssigned",
    KIND,
    DinAssigned,
    (M.RECORDED,),
    frozenset({R.NURSE, R.PHYSICIAN, R.QP}),
    "The DIN identifies this one collection; recorded by ApheresisCollected or BatchRegistered, and a second "
    "use of the same DIN is refused.",
    creates=True,
    derived_from="ApheresisCollected or BatchRegistered",
)
DONATION_SPECS = (DIN_ASSIGNED,)


class Donation(Aggregate):
    """One DIN and the collection it identifies."""

    kind = KIND

    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(aggregate_id)
        self.din = ""
        self.use = ""
        self.holder_id: UUID | None = None

    def when_DinAssigned(self, record: EventRecord) -> None:
        """The first assignment is the DIN's collection for good."""
        if self.holder_id is None:
            p = record.payload
            self.din, self.use, self.holder_id = p["din"], p["use"], UUID(p["holder_id"])


def assign_din(cmd: Command, din: str, use: DinUse, holder_id: UUID, field: str) -> NewEvent:
    """The ``DinAssigned`` to record with the step, or a refusal naming who already holds the DIN."""
    existing = cmd.load(donation_id_for(din))
    if isinstance(existing, Donation) and existing.holder_id is not None:
        what = "a patient's apheresis" if existing.use == DinUse.APHERESIS else "a donor's MSC bank batch"
        raise RuleViolation(
            f"{field} {din} already identifies {what} ({existing.holder_id}): a DIN identifies one collection; "
            "check the label and scan the DIN of this collection",
            field=field,
            rule="din_already_used",
        )
    return cmd.derive(DIN_ASSIGNED, donation_id_for(din), DinAssigned(din, use, str(holder_id)))
