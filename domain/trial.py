"""Trial: a clinical trial in the registry, and the sponsor's users who may see its products.

A product names its trial at enrolment (sponsor, protocol number, EU CT number).
Sponsors answer for their own trial only, so a sponsor user sees a product only when
the registry lists them for the product's trial: ``visible_to`` is the one place that
decides it, for the HTTP API and any other reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid5

from domain.aggregate import Aggregate, Loader
from domain.events import Actor, EventRecord, Role
from domain.events import Meaning as M
from domain.events import Role as R
from domain.product import TherapyProduct
from domain.spec import EventSpec

KIND = "trial"
TRIAL_NAMESPACE = UUID("a3e4c6d0-1b2f-4e8a-9c5d-7f6e5d4c3b2a")
READERS_OF_EVERY_PRODUCT = frozenset(
    {Role.NURSE, Role.PHYSICIAN, Role.PHARMACIST, Role.QP, Role.COURIER, Role.AUDITOR, Role.ADMIN, Role.SYSTEM}
)
"""The site's own staff, inspectors and administrators; a sponsor is the one role limited to its trial."""


def trial_id_for(protocol: str) -> UUID:
    """A trial's id, derived from its protocol number as products name it."""
    return uuid5(TRIAL_NAMESPACE, protocol.strip())


@dataclass(frozen=True)
class TrialRegistered:
    """A clinical trial the site takes part in."""

    protocol: str
    sponsor: str
    title: str
    eu_ct_number: str | None = None


@dataclass(frozen=True)
class SponsorUserAuthorised:
    """A sponsor's user may see the trial's products."""

    user_id: str


@dataclass(frozen=True)
class SponsorUserRevoked:
    """A sponsor's user no longer sees the trial's products."""

    user_id: str


class Trial(Aggregate):
    """A trial and the sponsor users who may read its products."""

    kind = KIND

    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(aggregate_id)
        self.protocol = ""
        self.sponsor = ""
        self.eu_ct_number: str | None = None
        self.sponsor_users: set[str] = set()

    def when_TrialRegistered(self, record: EventRecord) -> None:
        """Protocol, sponsor and EU CT number become known."""
        p = record.payload
        self.protocol, self.sponsor, self.eu_ct_number = p["protocol"], p["sponsor"], p.get("eu_ct_number")

    def when_SponsorUserAuthorised(self, record: EventRecord) -> None:
        """The user joins the trial's readers."""
        self.sponsor_users.add(record.payload["user_id"])

    def when_SponsorUserRevoked(self, record: EventRecord) -> None:
        """The user leaves the trial's readers."""
        self.sponsor_users.discard(record.payload["user_id"])


def visible_to(actor: Actor, product: TherapyProduct, load: Loader) -> bool:
    """May this person read this product? A sponsor only when listed on the product's registered trial."""
    if actor.role in READERS_OF_EVERY_PRODUCT:
        return True
    if actor.role != Role.SPONSOR:
        return False
    protocol = product.trial.get("trial_protocol")
    if not protocol:
        return False
    trial = load(trial_id_for(protocol))
    if not isinstance(trial, Trial) or actor.user_id not in trial.sponsor_users:
        return False
    named_sponsor = product.trial.get("trial_sponsor")
    return named_sponsor is None or named_sponsor == trial.sponsor


_REGISTRARS = frozenset({R.ADMIN, R.SYSTEM})
TRIAL_SPECS: tuple[EventSpec, ...] = (
    EventSpec(
        "TrialRegistered",
        KIND,
        TrialRegistered,
        (M.APPROVED, M.RECORDED),
        _REGISTRARS,
        "Registers a clinical trial (protocol, sponsor, EU CT number) whose products sponsor users may see.",
        creates=True,
    ),
    EventSpec(
        "SponsorUserAuthorised",
        KIND,
        SponsorUserAuthorised,
        (M.APPROVED,),
        _REGISTRARS,
        "Lets a sponsor's user see this trial's products, and only them.",
    ),
    EventSpec(
        "SponsorUserRevoked",
        KIND,
        SponsorUserRevoked,
        (M.APPROVED,),
        _REGISTRARS,
        "Stops a sponsor's user from seeing this trial's products.",
    ),
)
