"""LN2 position: one place in a tank (site, tank, rack, box, position) holds one product's bag.

A product's history says where the product is, but not whether another product already
sits there. Each position therefore gets an aggregate whose id is derived from its five
coordinates: storing into it records ``Ln2PositionOccupied`` there in the same transaction,
and moving the product to another position or dispensing it records ``Ln2PositionFreed``.
Two pharmacists storing into the same place at once both write the same next version of
the position, and the store lets only one of them win.

A position also counts as free when the product last stored there is no longer there
(destroyed, returned, or moved by a history recorded before positions were kept), so the
position never depends on every exit path remembering to free it.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid5

from domain.aggregate import Aggregate
from domain.errors import RuleViolation
from domain.events import EventRecord, NewEvent
from domain.events import Meaning as M
from domain.events import Role as R
from domain.payloads import IdText
from domain.product import Location, TherapyProduct
from domain.spec import Command, EventSpec

KIND = "ln2_position"

POSITION_NAMESPACE = UUID("6d3f0c71-9a2e-4b5d-8e14-c7a9b0f25e68")
"""Fixed forever: position aggregate ids are uuid5(POSITION_NAMESPACE, the joined coordinates)."""

_SEPARATOR = "\x1f"  # the ASCII unit separator: no label contains it, so no two coordinates join alike


def position_id_for(site: str, tank: str, rack: str, box: str, position: str) -> UUID:
    """The aggregate id of one LN2 position, so any storage step naming it finds its occupant."""
    return uuid5(POSITION_NAMESPACE, _SEPARATOR.join(part.strip() for part in (site, tank, rack, box, position)))


def position_id_of(location: Location) -> UUID | None:
    """The position a product's location names, or None when it is not in a tank."""
    if location.tank is None or location.rack is None or location.box is None or location.position is None:
        return None
    return position_id_for(location.site, location.tank, location.rack, location.box, location.position)


@dataclass(frozen=True)
class Ln2PositionOccupied:
    """A product was stored here (derived from StoredInLN2)."""

    product_id: IdText
    site: str
    tank: str
    rack: str
    box: str
    position: str


@dataclass(frozen=True)
class Ln2PositionFreed:
    """The product left this position (derived from StoredInLN2 elsewhere, or from Dispensed)."""

    product_id: IdText


_PHARMACY = frozenset({R.PHARMACIST, R.QP})
LN2_POSITION_OCCUPIED = EventSpec(
    "Ln2PositionOccupied",
    KIND,
    Ln2PositionOccupied,
    (M.RECORDED,),
    _PHARMACY,
    "A product now holds this LN2 position (the first occupation opens the position's history); recorded by "
    "StoredInLN2, and storing into an occupied position is refused.",
    creates=True,
    derived_from="StoredInLN2",
)
LN2_POSITION_FREED = EventSpec(
    "Ln2PositionFreed",
    KIND,
    Ln2PositionFreed,
    (M.RECORDED,),
    _PHARMACY,
    "The product left this LN2 position; recorded by StoredInLN2 at another position or by Dispensed.",
    derived_from="StoredInLN2 or Dispensed",
)
LN2_POSITION_SPECS = (LN2_POSITION_OCCUPIED, LN2_POSITION_FREED)


class Ln2Position(Aggregate):
    """One place in a tank and the product stored there, if any."""

    kind = KIND

    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(aggregate_id)
        self.occupant: UUID | None = None

    def when_Ln2PositionOccupied(self, record: EventRecord) -> None:
        """The product stored here is the occupant."""
        self.occupant = UUID(record.payload["product_id"])

    def when_Ln2PositionFreed(self, record: EventRecord) -> None:
        """The position is empty again."""
        if self.occupant == UUID(record.payload["product_id"]):
            self.occupant = None


def occupant_of(cmd: Command, position_id: UUID) -> TherapyProduct | None:
    """The product that still sits at a position, or None when the position is free."""
    position = cmd.load(position_id)
    if not isinstance(position, Ln2Position) or position.occupant is None:
        return None
    occupant = cmd.load(position.occupant)
    if not isinstance(occupant, TherapyProduct) or occupant.is_terminal or occupant.location is None:
        return None
    return occupant if position_id_of(occupant.location) == position_id else None


def occupy(cmd: Command, product: TherapyProduct, place: Location) -> list[NewEvent]:
    """The position events a storage at ``place`` records: free the old place, occupy the new one.

    Refused when another product still sits at ``place``: the inventory never shows two
    bags in one place, and a pharmacist would otherwise look for a bag where another is.
    """
    target = position_id_of(place)
    assert target is not None and place.tank and place.rack and place.box and place.position
    occupant = occupant_of(cmd, target)
    if occupant is not None and occupant.id != product.id:
        raise RuleViolation(
            f"payload.position {place.position} (tank {place.tank}, rack {place.rack}, box {place.box} at "
            f"{place.site}) already holds product {occupant.coi}: choose a free position",
            field="payload.position",
            rule="ln2_position_occupied",
        )
    events = free(cmd, product) if product.location is not None and position_id_of(product.location) != target else []
    occupied = Ln2PositionOccupied(str(product.id), place.site, place.tank, place.rack, place.box, place.position)
    return [*events, cmd.derive(LN2_POSITION_OCCUPIED, target, occupied)]


def free(cmd: Command, product: TherapyProduct) -> list[NewEvent]:
    """The ``Ln2PositionFreed`` a product's leaving its tank position records, if it holds one."""
    if product.location is None:
        return []
    current = position_id_of(product.location)
    if current is None:
        return []
    position = cmd.load(current)
    if not isinstance(position, Ln2Position) or position.occupant != product.id:
        return []
    return [cmd.derive(LN2_POSITION_FREED, current, Ln2PositionFreed(str(product.id)))]
