"""Every bag accounted for: which bag is thawed, which are infused, and what became of each.

A lot is filled into one or more bags (ManufacturingCompleted). Each thaw names its bag
when there are several, the infusion names bags of the lot that were thawed, and every
thawed bag is infused: a thawed bag cannot go back to LN2, and after the infusion no
step can account for it any more. ``bag_fates`` says what became of each bag, for
`custody status` and the product page.
"""

from __future__ import annotations

from domain.errors import InvalidInput, OutOfOrder
from domain.product import ProductState as S
from domain.product import TherapyProduct

AFTER_DISPENSE = (S.DISPENSED, S.THAWED, S.BEDSIDE_VERIFIED, S.INFUSED, S.NOT_INFUSED)


def _check_known(product: TherapyProduct, bag: str, field: str) -> None:
    """A bag id the lot does not have is a misread label or another patient's bag."""
    if product.bags and bag not in product.bags:
        raise InvalidInput(
            f"{field} {bag} is not a bag of lot {product.lot} ({', '.join(product.bags)})",
            field=field,
            rule="unknown_bag",
        )


def check_thawed_bag(product: TherapyProduct, bag_id: str | None) -> None:
    """The bag to thaw is one of the lot, named when there are several, and not thawed already."""
    field = "payload.bag_id"
    if bag_id is None:
        if len(product.bags) > 1 or (not product.bags and product.state == S.THAWED):
            known = f" ({', '.join(product.bags)})" if product.bags else ""
            raise InvalidInput(
                f"{field} is required: lot {product.lot} has several bags{known}; scan the label of the bag thawed",
                field=field,
                rule="bag_required",
            )
        bag_id = product.bags[0] if product.bags else None
    else:
        _check_known(product, bag_id, field)
    if bag_id is not None and bag_id in product.thawed_bags:
        raise OutOfOrder(f"{field} {bag_id} is already thawed", field=field, rule="bag_already_thawed")


def check_infused_bags(product: TherapyProduct, bag_ids: list[str]) -> None:
    """The infusion names bags of the lot, each once and thawed, and leaves no thawed bag unaccounted for."""
    field = "payload.bag_ids"
    if len(set(bag_ids)) != len(bag_ids):
        raise InvalidInput(f"{field} lists a bag twice", field=field, rule="duplicate_bag")
    for bag in bag_ids:
        _check_known(product, bag, field)
    if not product.thawed_bags:
        return
    not_thawed = [bag for bag in bag_ids if bag not in product.thawed_bags]
    if not_thawed:
        raise OutOfOrder(
            f"{field} {', '.join(not_thawed)} not thawed (thawed: {', '.join(product.thawed_bags)}); "
            "record Thawed for each bag before infusing it",
            field=field,
            rule="bag_not_thawed",
        )
    left = [bag for bag in product.thawed_bags if bag not in bag_ids]
    if left:
        raise OutOfOrder(
            f"{field} does not name thawed bag {', '.join(left)}: a thawed bag cannot go back to LN2; infuse it "
            "too, or record NotInfused and then the destruction of the product",
            field=field,
            rule="thawed_bag_not_infused",
        )


def bag_fates(product: TherapyProduct) -> dict[str, str]:
    """What became of each bag of the lot: infused, thawed, destroyed, returned, stored, dispensed or awaiting."""
    bags = product.bags or product.thawed_bags or product.infused_bags
    return {bag: _fate(product, bag) for bag in dict.fromkeys(bags)}


def _fate(product: TherapyProduct, bag: str) -> str:
    if bag in product.infused_bags:
        return "infused"
    if product.state == S.DESTROYED:
        return "destroyed"
    if product.state == S.RETURNED:
        return "returned"
    if bag in product.thawed_bags:
        return "thawed"
    if product.location is not None and product.location.tank is not None:
        return "stored"
    if product.state in AFTER_DISPENSE:
        return "dispensed"
    return "awaiting"
