"""Every event type the log can hold: custody steps, the staff record, printed names, the ledger's head commitments.

What a reader of the log may ask for by type (the event stream's and the webhooks' filters) is one of these; the
list is built from the registries that declare them, so a new type is known everywhere at once.
"""

from __future__ import annotations

from domain.log_heads import HEADS_EVENT_TYPES
from domain.printed_names import PRINTED_NAME_EVENT_TYPES
from domain.registry import EVENT_TYPES
from domain.staff import STAFF_EVENT_TYPES

LOGGED_EVENT_TYPES = (
    frozenset(EVENT_TYPES)
    | frozenset(STAFF_EVENT_TYPES)
    | frozenset(PRINTED_NAME_EVENT_TYPES)
    | frozenset(HEADS_EVENT_TYPES)
)
