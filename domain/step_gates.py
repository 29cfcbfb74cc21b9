"""Checks every step passes before its own rules: the sites it names, and the patient's consent.

Called once by ``registry.decide`` so no rule module can forget them. After a patient
withdraws consent, every step that consumes the product or commits it further towards
administration is refused: manufacture (it consumes the collected cells), dispatch of a
shipment (it commits the product to a journey), dispense, thaw (irreversible), the
bedside checks and infusion. Steps that keep the product safe or close its story stay
open: receipt of a shipper already on its way, LN2 storage, quarantine, destruction,
return, deviations and annotations — the product must still be accounted for.
"""

from __future__ import annotations

from uuid import UUID

from domain.errors import OutOfOrder
from domain.pathway_gates import find_pathway
from domain.product import TherapyProduct
from domain.site_gates import check_named_sites
from domain.spec import Command

COMMITTING_STEPS = frozenset(
    {
        "ManufacturingStarted",
        "ShipmentDispatched",
        "Dispensed",
        "Thawed",
        "BedsideCheckPerformed",
        "BedsideCheckWitnessed",
        "Infused",
    }
)
"""Steps refused once the patient withdrew consent."""


def check_step(cmd: Command) -> None:
    """The named sites are registered (and accredited where the step needs it); consent still stands."""
    check_named_sites(cmd)
    if cmd.spec.name in COMMITTING_STEPS:
        for product in _products(cmd):
            check_consent_stands(cmd, product)


def check_consent_stands(cmd: Command, product: TherapyProduct) -> None:
    """A product whose patient withdrew consent is neither consumed nor committed further."""
    pathway = find_pathway(cmd.load, product.patient_pseudonym)
    if pathway is not None and pathway.consent_withdrawn:
        raise OutOfOrder(
            f"cannot record {cmd.spec.name}: patient {pathway.pseudonym} withdrew consent; product {product.coi} is "
            "on hold (consent withdrawn) and may only be stored, quarantined, destroyed or returned",
            rule="consent_withdrawn",
        )


def _products(cmd: Command) -> list[TherapyProduct]:
    """The products a step acts on: its own target, or every unit a shipment carries."""
    if isinstance(cmd.current, TherapyProduct):
        return [cmd.current]
    units = getattr(cmd.payload, "units", None) or []
    found = []
    for unit in units:
        try:
            product = cmd.load(UUID(str(unit)))
        except ValueError:
            continue  # the shipment's own rules name a malformed unit id
        if isinstance(product, TherapyProduct):
            found.append(product)
    return found
