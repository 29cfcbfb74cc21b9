"""Site: a centre in the registry, with the accreditations that say what it may do and until when.

Collection, processing and infusion of cell-therapy products happen only in accredited
centres (JACIE / FACT-JACIE, in France through the SFGM-TC; arrêtés of 2021 and 2024).
A site is found by its stable code — the text that custody events already carry in
their site fields — so an event naming a registered site is checked against its
accreditation on the day of the activity. Registry changes are signed like any step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated
from uuid import UUID, uuid5

from domain.aggregate import Aggregate
from domain.events import EventRecord
from domain.events import Meaning as M
from domain.events import Role as R
from domain.payloads import NON_EMPTY, DateText, FreeText, parse_date
from domain.spec import EventSpec

KIND = "site"
SITE_NAMESPACE = UUID("7c1d2b9e-54a3-4e0e-9b7f-3a2c8e6d1f40")


def site_id_for(code: str) -> UUID:
    """A site's id, derived from its code so an event naming the site finds it."""
    return uuid5(SITE_NAMESPACE, code.strip())


class Accreditor(StrEnum):
    """Who accredits cell-therapy centres, or authorises a pharmacy to store their products."""

    JACIE = "jacie"
    SFGM_TC = "sfgm_tc"
    ARS = "ars"
    """The regional health agency's authorisation of a hospital pharmacy (PUI) to hold cell-therapy products."""


class Activity(StrEnum):
    """What an accreditation covers."""

    COLLECTION = "collection"
    PROCESSING = "processing"
    STORAGE = "storage"
    INFUSION = "infusion"


@dataclass(frozen=True)
class SiteRegistered:
    """A centre enters the registry under its code."""

    code: str
    name: str
    facility: str | None = None


@dataclass(frozen=True)
class AccreditationGranted:
    """An accreditation, its scope and its validity (both days included)."""

    accreditor: Accreditor
    reference: str
    scope: Annotated[list[Activity], NON_EMPTY]
    valid_from: DateText
    valid_until: DateText


@dataclass(frozen=True)
class AccreditationWithdrawn:
    """An accreditation stops covering anything from a day on (suspension, withdrawal)."""

    reference: str
    effective_on: DateText
    reason: FreeText


@dataclass(frozen=True)
class PathwayManagedElsewhereDeclared:
    """The site's patients follow a care pathway recorded outside this ledger (e.g. another hospital's RCP)."""

    reason: FreeText


@dataclass(frozen=True)
class PathwayManagedElsewhereRevoked:
    """The site's products again need a pathway in this ledger."""

    reason: FreeText


@dataclass(frozen=True)
class DutySegregationWaived:
    """A small unit cannot separate two duties: one person may do both, and each use is shown on the product."""

    reason: FreeText


@dataclass(frozen=True)
class DutySegregationRestored:
    """The site separates duties again: the four-eyes rules apply to every step from now on."""

    reason: FreeText


@dataclass(frozen=True)
class Accreditation:
    """One accreditation as the site holds it."""

    accreditor: str
    reference: str
    scope: frozenset[str]
    valid_from: date
    valid_until: date
    withdrawn_on: date | None = None

    def covers(self, activity: Activity, day: date) -> bool:
        """True when the activity is in scope and the day inside the validity, before any withdrawal."""
        ended = self.withdrawn_on is not None and day >= self.withdrawn_on
        return activity.value in self.scope and self.valid_from <= day <= self.valid_until and not ended


class Site(Aggregate):
    """A centre of the registry and its accreditations."""

    kind = KIND

    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(aggregate_id)
        self.code = ""
        self.name = ""
        self.accreditations: dict[str, Accreditation] = {}
        self.pathway_managed_elsewhere: str | None = None
        self.duty_segregation_waived: str | None = None
        self.early_lymphodepletion_allowed = False

    def covers(self, activity: Activity, day: date) -> bool:
        """True when any accreditation covers the activity on that day."""
        return any(accreditation.covers(activity, day) for accreditation in self.accreditations.values())

    def when_SiteRegistered(self, record: EventRecord) -> None:
        """Code and name become known."""
        self.code, self.name = record.payload["code"], record.payload["name"]

    def when_AccreditationGranted(self, record: EventRecord) -> None:
        """A new (or renewed) accreditation replaces one with the same reference."""
        p = record.payload
        self.accreditations[p["reference"]] = Accreditation(
            p["accreditor"],
            p["reference"],
            frozenset(p["scope"]),
            parse_date(p["valid_from"]),
            parse_date(p["valid_until"]),
        )

    def when_PathwayManagedElsewhereDeclared(self, record: EventRecord) -> None:
        """Products enrolled for this site from now on may go without a pathway in this ledger."""
        self.pathway_managed_elsewhere = record.payload["reason"]

    def when_PathwayManagedElsewhereRevoked(self, record: EventRecord) -> None:
        """The setting ends: new enrolments for this site need a pathway again."""
        self.pathway_managed_elsewhere = None

    def when_DutySegregationWaived(self, record: EventRecord) -> None:
        """One person may do both halves of a four-eyes step here, for the reason given."""
        self.duty_segregation_waived = record.payload["reason"]

    def when_DutySegregationRestored(self, record: EventRecord) -> None:
        """The four-eyes rules apply again."""
        self.duty_segregation_waived = None

    def when_EarlyLymphodepletionAllowed(self, record: EventRecord) -> None:
        """Conditioning may be planned here before release (domain/lymphodepletion_planning.py)."""
        self.early_lymphodepletion_allowed = True

    def when_EarlyLymphodepletionRevoked(self, record: EventRecord) -> None:
        """Conditioning is planned only after release again."""
        self.early_lymphodepletion_allowed = False

    def when_AccreditationWithdrawn(self, record: EventRecord) -> None:
        """The accreditation ends on the day given."""
        p = record.payload
        held = self.accreditations.get(p["reference"])
        if held is not None:
            self.accreditations[p["reference"]] = Accreditation(
                held.accreditor, held.reference, held.scope, held.valid_from, held.valid_until,
                parse_date(p["effective_on"]),
            )  # fmt: skip


_REGISTRARS = frozenset({R.ADMIN, R.SYSTEM})
_ADMINISTRATORS = frozenset({R.ADMIN})
SITE_SPECS: tuple[EventSpec, ...] = (
    EventSpec(
        "SiteRegistered",
        KIND,
        SiteRegistered,
        (M.APPROVED, M.RECORDED),
        _REGISTRARS,
        "Registers a centre under the code custody events use to name it.",
        creates=True,
    ),
    EventSpec(
        "AccreditationGranted",
        KIND,
        AccreditationGranted,
        (M.APPROVED, M.RECORDED),
        _REGISTRARS,
        "Records a JACIE or SFGM-TC accreditation, or an ARS authorisation: what it covers (collection, processing, "
        "storage, infusion) and until when.",
    ),
    EventSpec(
        "AccreditationWithdrawn",
        KIND,
        AccreditationWithdrawn,
        (M.APPROVED, M.RECORDED),
        _REGISTRARS,
        "Ends an accreditation from a given day (suspension or withdrawal).",
    ),
    EventSpec(
        "PathwayManagedElsewhereDeclared",
        KIND,
        PathwayManagedElsewhereDeclared,
        (M.APPROVED, M.RECORDED),
        _REGISTRARS,
        "Declares, with a reason, that the site's patients follow a care pathway kept outside this ledger: products "
        "enrolled for the site (their collection site) then need no pathway here, and say so.",
    ),
    EventSpec(
        "PathwayManagedElsewhereRevoked",
        KIND,
        PathwayManagedElsewhereRevoked,
        (M.APPROVED, M.RECORDED),
        _REGISTRARS,
        "Ends that setting: products enrolled for the site from then on need their patient's pathway in this ledger.",
    ),
    EventSpec(
        "DutySegregationWaived",
        KIND,
        DutySegregationWaived,
        (M.APPROVED,),
        _ADMINISTRATORS,
        "An administrator declares, with a reason, that the site cannot separate duties: the same person may record "
        "QC and release, quarantine and lift, destroy and witness; each such step is marked on the product.",
    ),
    EventSpec(
        "DutySegregationRestored",
        KIND,
        DutySegregationRestored,
        (M.APPROVED,),
        _ADMINISTRATORS,
        "Ends that setting: every four-eyes step at the site needs two people again.",
    ),
)
