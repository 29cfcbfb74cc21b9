"""What a sponsor may see of the shared registers: only what concerns its own trials' products.

Shipments and bank batches carry products of several trials. A sponsor reads a
shipment or batch only when at least one of its products is of a trial it is
authorised on, and then sees only those products; anything else answers 404,
exactly as something that does not exist. Every other role sees everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from api.rest.context import ApiContext
from api.rest.reads import visible
from api.rest.tokens import Principal
from domain.events import Role


def is_sponsor(principal: Principal) -> bool:
    """Whether the reader is limited to its trials."""
    return principal.role == Role.SPONSOR


def visible_products(ctx: ApiContext, principal: Principal, products: Iterable[UUID]) -> list[UUID]:
    """The products among ``products`` this reader may see, in their order."""
    return [product for product in products if visible(ctx, principal, product)]
