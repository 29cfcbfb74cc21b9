"""Trial site: one centre's readiness to take part in one sponsor's trial, as signed facts.

A sponsor evaluating CAR-T or MSC cells in autoimmune diseases needs to know, before the
first patient, that a French hospital is organised for it: accredited, with a named pair
of physicians, a pharmacy (PUI) that agreed to handle the product, a GMO confined-use
authorisation for a genetically modified product, a signed contract, an initiation visit,
a trained team, a named RCP and qualified LN2 storage. Each is attested here with its
evidence (reference, validity, who vouches for it, who signed); the sponsor, or the
administrator on its behalf, activates the site only when all hold on that day. The
aggregate is keyed by (protocol, site code) so a product's enrolment finds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID, uuid5

from domain.aggregate import Aggregate
from domain.events import EventRecord
from domain.events import Meaning as M
from domain.events import Role as R
from domain.payloads import NON_EMPTY, Bounds, DateText, FreeText, parse_date
from domain.product_events import Indication, ProductKind
from domain.site import Activity
from domain.spec import EventSpec
from domain.trial_prerequisite import Prerequisite
from domain.trial_site_attesters import ATTESTING_ROLES

KIND = "trial_site"
TRIAL_SITE_NAMESPACE = UUID("d6f1e0a4-3b7c-4a58-8e21-9c4b7a2f6e13")


def trial_site_id_for(protocol: str, site_code: str) -> UUID:
    """A trial site's id, derived from the protocol number and the site code products carry."""
    return uuid5(TRIAL_SITE_NAMESPACE, f"{protocol.strip()}\n{site_code.strip()}")


PER_PERSON = frozenset(
    {Prerequisite.DISEASE_SPECIALIST, Prerequisite.CELL_THERAPY_SPECIALIST, Prerequisite.STAFF_TRAINING}
)
"""Prerequisites attested for a named person (``user_id``)."""
EXPIRING = frozenset({Prerequisite.GMO_AUTHORISATION, Prerequisite.STAFF_TRAINING})
"""Prerequisites that lapse: their evidence must say until when."""


class Status(StrEnum):
    """Where the site stands in the trial."""

    OPENED = "opened"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


@dataclass(frozen=True)
class TrialSiteOpened:
    """A site starts preparing for a trial: which product, which indications, which activities it performs."""

    protocol: str
    site_code: str
    product_kind: ProductKind
    indications: Annotated[list[Indication], NON_EMPTY]
    activities: Annotated[list[Activity], NON_EMPTY]


@dataclass(frozen=True)
class TrialPrerequisiteAttested:
    """One prerequisite met, with its evidence; a later one of the same kind (for training: person) replaces it."""

    prerequisite: Prerequisite
    reference: FreeText
    attested_by: FreeText
    valid_from: DateText
    valid_until: DateText | None = None
    user_id: str | None = None
    gmo_class: Annotated[int, Bounds(low=1, high=4)] | None = None


@dataclass(frozen=True)
class TrialStaffDesignated:
    """A person who will sign steps for this trial at this site, and so must be trained on its protocol."""

    user_id: str


@dataclass(frozen=True)
class TrialSiteActivated:
    """The sponsor opens the site to the trial's patients."""

    note: FreeText | None = None


@dataclass(frozen=True)
class TrialSiteSuspended:
    """The site stops taking the trial's steps until activated again."""

    reason: FreeText


@dataclass(frozen=True)
class TrialSiteClosed:
    """The site's part in the trial ends for good."""

    reason: FreeText


@dataclass(frozen=True)
class Attestation:
    """One prerequisite's evidence as the site holds it, with who signed it (user, printed name, role)."""

    prerequisite: str
    reference: str
    attested_by: str
    valid_from: date
    valid_until: date | None
    user_id: str | None
    gmo_class: int | None
    signed_by: str
    signer_name: str
    signer_role: str

    def holds_on(self, day: date) -> bool:
        """True when the day falls inside the validity (both days included)."""
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


class TrialSite(Aggregate):
    """A site's prerequisites, team and status for one trial."""

    kind = KIND

    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(aggregate_id)
        self.protocol = ""
        self.site_code = ""
        self.product_kind = ""
        self.indications: list[str] = []
        self.activities: list[str] = []
        self.attestations: dict[tuple[str, str], Attestation] = {}
        self.team: list[str] = []
        self.status = Status.OPENED
        self.activated_at: datetime | None = None

    def when_TrialSiteOpened(self, record: EventRecord) -> None:
        """The trial, site, product and activities become known."""
        p = record.payload
        self.protocol, self.site_code, self.product_kind = p["protocol"], p["site_code"], p["product_kind"]
        self.indications, self.activities = list(p["indications"]), list(p["activities"])

    def when_TrialPrerequisiteAttested(self, record: EventRecord) -> None:
        """The evidence replaces any earlier one for the same prerequisite (and, for training, the same person)."""
        p = record.payload
        until = p.get("valid_until")
        attestation = Attestation(
            p["prerequisite"], p["reference"], p["attested_by"], parse_date(p["valid_from"]),
            parse_date(until) if until else None, p.get("user_id"), p.get("gmo_class"), record.actor.user_id,
            record.actor.name, record.actor.role,
        )  # fmt: skip
        per_person = attestation.prerequisite == Prerequisite.STAFF_TRAINING.value
        self.attestations[(attestation.prerequisite, (attestation.user_id or "") if per_person else "")] = attestation

    def when_TrialStaffDesignated(self, record: EventRecord) -> None:
        """The person joins the trial's team at this site."""
        self.team.append(record.payload["user_id"])

    def when_TrialSiteActivated(self, record: EventRecord) -> None:
        """The site takes the trial's steps from this moment."""
        self.status, self.activated_at = Status.ACTIVE, record.occurred_at

    def when_TrialSiteSuspended(self, record: EventRecord) -> None:
        """The site takes no more of the trial's steps until activated again."""
        self.status = Status.SUSPENDED

    def when_TrialSiteClosed(self, record: EventRecord) -> None:
        """The site's part ends."""
        self.status = Status.CLOSED


_SIGNERS = frozenset({R.ADMIN, R.SYSTEM, R.SPONSOR})
TRIAL_SITE_SPECS: tuple[EventSpec, ...] = (
    EventSpec(
        "TrialSiteOpened",
        KIND,
        TrialSiteOpened,
        (M.APPROVED, M.RECORDED),
        _SIGNERS,
        "Opens a registered site's preparation for a registered trial: product kind, indications and the activities "
        "(collection, infusion…) the site performs for it.",
        creates=True,
    ),
    EventSpec(
        "TrialPrerequisiteAttested",
        KIND,
        TrialPrerequisiteAttested,
        (M.APPROVED, M.RECORDED),
        ATTESTING_ROLES,
        "Attests one prerequisite of a trial site with its evidence: reference, validity, who vouches for it "
        "(named physicians, PUI agreement, GMO authorisation and class, contract, initiation visit, training, RCP, "
        "LN2 qualification). Each prerequisite is signed by the role that can vouch for it "
        "(domain/trial_site_attesters.py): a pharmacist for the PUI agreement, the sponsor for its initiation "
        "visit, the administrator for the GMO authorisation.",
    ),
    EventSpec(
        "TrialStaffDesignated",
        KIND,
        TrialStaffDesignated,
        (M.APPROVED, M.RECORDED),
        _SIGNERS,
        "Names a registered person who will sign steps for the trial at this site and must be trained on its protocol.",
    ),
    EventSpec(
        "TrialSiteActivated",
        KIND,
        TrialSiteActivated,
        (M.APPROVED,),
        _SIGNERS,
        "The sponsor (or the administrator on its behalf) activates the site for the trial: refused unless every "
        "prerequisite is met that day.",
    ),
    EventSpec(
        "TrialSiteSuspended",
        KIND,
        TrialSiteSuspended,
        (M.APPROVED,),
        _SIGNERS,
        "Suspends an active trial site: its enrolments, collections and infusions for the trial are refused.",
    ),
    EventSpec(
        "TrialSiteClosed",
        KIND,
        TrialSiteClosed,
        (M.APPROVED,),
        _SIGNERS,
        "Closes the site's part in the trial for good.",
    ),
)
