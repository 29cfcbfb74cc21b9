"""What each event type is: its aggregate, payload, signature meanings, who may record it, and why.

``EventSpec`` is public data: the registry dispatches on it and the HTTP API builds one
schema and one description per event type from it. ``Command`` is what a decision
function receives: the parsed payload, the context, the loaded target and the loader,
with helpers to turn accepted payloads into ``NewEvent`` s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.aggregate import Aggregate, Loader
from domain.catalogue import Catalogue
from domain.events import Context, Meaning, NewEvent, Role
from domain.pathway_policy import PathwayPolicy
from domain.payloads import payload_to_json

CLINICAL_ROLES = frozenset({Role.NURSE, Role.PHYSICIAN, Role.PHARMACIST, Role.QP, Role.COURIER})
"""Everyone who takes part in the custody chain; auditors, sponsors and admins record nothing."""


@dataclass(frozen=True)
class EventSpec:
    """One event type: a fact in the past tense, on one kind of aggregate."""

    name: str
    kind: str
    payload: type[Any]
    meanings: tuple[Meaning, ...]
    roles: frozenset[Role]
    description: str
    creates: bool = False
    annotation: bool = False
    derived_from: str | None = None
    singleton: bool = False
    """The aggregate has a fixed id: its first event opens it, later ones of the same type continue it."""

    @property
    def default_meaning(self) -> Meaning:
        """The meaning used when the domain derives this event from another one."""
        return self.meanings[0]

    def allows_role(self, role: str) -> bool:
        """True when staff with this role may record the event (the API enforces it)."""
        return role in {r.value for r in self.roles}


@dataclass(frozen=True)
class Command:
    """A request to record one event, as a decision function sees it once the registry checked it."""

    spec: EventSpec
    aggregate_id: UUID
    payload: Any
    ctx: Context
    load: Loader
    current: Aggregate | None
    meaning: Meaning

    @property
    def occurred_at(self) -> datetime:
        """When the step physically happened."""
        return self.ctx.occurred_at

    @property
    def catalogue(self) -> Catalogue:
        """The site's catalogue, or the labels' defaults (domain/catalogue.py) when the ledger passes none."""
        return self.ctx.catalogue if self.ctx.catalogue is not None else Catalogue.default()

    @property
    def policy(self) -> PathwayPolicy:
        """The site's pathway figures, or the workshop's defaults when the ledger passes none."""
        return self.ctx.pathway if self.ctx.pathway is not None else PathwayPolicy()

    def record(self, payload: object | None = None) -> NewEvent:
        """The requested event itself, signed with the meaning the user gave."""
        return NewEvent(
            aggregate_id=self.aggregate_id,
            type=self.spec.name,
            payload=payload_to_json(self.payload if payload is None else payload),
            occurred_at=self.ctx.occurred_at,
            meaning=self.meaning,
            aggregate_kind=self.spec.kind,
        )

    def derive(self, spec: EventSpec, aggregate_id: UUID, payload: object, *, by_ledger: bool = False) -> NewEvent:
        """An event that follows from this one: same time, the spec's default meaning.

        ``by_ledger`` when the ledger itself established the fact (it judged the figures):
        then the ledger signs it, not the person who recorded this step.
        """
        return derived_event(spec, aggregate_id, payload, self.ctx.occurred_at, by_ledger=by_ledger)


def derived_event(
    spec: EventSpec, aggregate_id: UUID, payload: object, occurred_at: datetime, *, by_ledger: bool = False
) -> NewEvent:
    """Build an event the domain records as a consequence of another (or as a safety record)."""
    return NewEvent(
        aggregate_id=aggregate_id,
        type=spec.name,
        payload=payload_to_json(payload),
        occurred_at=occurred_at,
        meaning=spec.default_meaning,
        aggregate_kind=spec.kind,
        by_ledger=by_ledger,
    )


Decider = Callable[[Command], list[NewEvent]]
"""A decision function: checks the rules for one event type and returns the facts to record."""
