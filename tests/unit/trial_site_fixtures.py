"""Builders for the trial-site unit tests: the lupus trial registered, a site opened, each prerequisite attested.

Times sit before the CAR-T journey of domain_fixtures (which starts at T0): the site is
prepared at ``PREPARED`` and activated at ``ACTIVATED`` so enrolment at T0 finds it ready.
Each prerequisite is signed by a person whose role may vouch for it (``SIGNED_BY``), and
the pair's specialties are on their staff records (internal medicine, haematology).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from domain.events import Actor, Meaning, NewEvent
from domain.staff import StaffMember, decide_staff, staff_id_for
from domain.trial import trial_id_for
from domain.trial_site import TrialSite, trial_site_id_for
from tests.unit.domain_fixtures import (
    COLLECTION_SITE,
    DISEASE_SPECIALIST,
    INFUSION_UNIT,
    LEDGER_ACTOR,
    NURSE,
    PHARMACIST,
    PHYSICIAN,
    QP,
    T0,
    TRIAL_FIELDS,
    FakeLedger,
    make_ctx,
)
from tests.unit.pathway_fixtures import ADMIN

SPONSOR = Actor("sponsor.lambert", "Sophie Lambert", "sponsor")
PROTOCOL = TRIAL_FIELDS["trial_protocol"]
TRIAL = {"protocol": PROTOCOL, "sponsor": "Academic sponsor", "title": "CAR-T in refractory lupus"}
PREPARED = T0 - timedelta(days=30)
ACTIVATED = T0 - timedelta(days=10)
UNTIL = date(2027, 6, 30)
TEAM = (NURSE.user_id,)
ALL_ATTESTED = (
    "disease_specialist", "cell_therapy_specialist", "pui_agreement", "gmo_authorisation", "contract_signed",
    "initiation_visit", "staff_training", "rcp_named", "ln2_qualified",
)  # fmt: skip
"""Every prerequisite attested (a CAR-T trial needs the GMO authorisation), in the readiness view's order."""
SIGNED_BY = {
    "disease_specialist": PHYSICIAN,
    "cell_therapy_specialist": ADMIN,
    "pui_agreement": PHARMACIST,
    "gmo_authorisation": ADMIN,
    "contract_signed": SPONSOR,
    "initiation_visit": SPONSOR,
    "staff_training": PHYSICIAN,
    "rcp_named": PHYSICIAN,
    "ln2_qualified": QP,
}
"""Who signs each prerequisite in these tests: one of the roles allowed for it."""
PAIR_SPECIALTIES = {DISEASE_SPECIALIST.user_id: "internal_medicine", PHYSICIAN.user_id: "haematology"}
"""The pair's specialties: an internist treats lupus, a haematologist gives cell therapy."""


def record_specialty(ledger: FakeLedger, member: Actor, *specialties: str) -> None:
    """The ledger records a physician's specialties on their staff record, as an administrator would."""
    ctx = make_ctx(LEDGER_ACTOR, PREPARED - timedelta(days=2), Meaning.APPROVED)
    payload = {"specialties": list(specialties), "evidence": "RPPS register extract"}
    ledger.store(decide_staff("StaffSpecialtyRecorded", staff_id_for(member.user_id), payload, ctx, ledger.load),
                 LEDGER_ACTOR)  # fmt: skip


def pair_specialties(ledger: FakeLedger) -> None:
    """The pair's specialties recorded, unless their records already hold them."""
    for member in (DISEASE_SPECIALIST, PHYSICIAN):
        record = ledger.load(staff_id_for(member.user_id))
        assert isinstance(record, StaffMember)
        if PAIR_SPECIALTIES[member.user_id] not in record.specialties:
            record_specialty(ledger, member, PAIR_SPECIALTIES[member.user_id])


def register_trial(ledger: FakeLedger) -> UUID:
    """The lupus trial of the journeys, with its sponsor user."""
    trial_id = trial_id_for(PROTOCOL)
    if ledger.load(trial_id) is None:
        ledger.record("TrialRegistered", trial_id, TRIAL, ADMIN, PREPARED - timedelta(days=1))
        ledger.record("SponsorUserAuthorised", trial_id, {"user_id": SPONSOR.user_id}, ADMIN, PREPARED)
    return trial_id


def open_site(
    ledger: FakeLedger,
    site: str = COLLECTION_SITE,
    activities: tuple[str, ...] = ("collection",),
    kind: str = "car_t",
    indications: tuple[str, ...] = ("systemic_lupus_erythematosus",),
) -> UUID:
    """The trial registered and the site opened for it; nothing attested yet."""
    register_trial(ledger)
    target = trial_site_id_for(PROTOCOL, site)
    payload = {
        "protocol": PROTOCOL,
        "site_code": site,
        "product_kind": kind,
        "indications": list(indications),
        "activities": list(activities),
    }
    ledger.record("TrialSiteOpened", target, payload, ADMIN, PREPARED)
    return target


def evidence(prerequisite: str, **changes: Any) -> dict[str, Any]:
    """A well-formed attestation of one prerequisite, valid from before the journey until mid-2027."""
    payload: dict[str, Any] = {
        "prerequisite": prerequisite,
        "reference": f"REF-{prerequisite.upper()}",
        "attested_by": "Direction de la recherche clinique, CHU Lyon",
        "valid_from": (PREPARED - timedelta(days=5)).date().isoformat(),
        "valid_until": UNTIL.isoformat(),
    }
    if prerequisite == "disease_specialist":
        payload["user_id"] = DISEASE_SPECIALIST.user_id
    if prerequisite == "cell_therapy_specialist":
        payload["user_id"] = PHYSICIAN.user_id
    if prerequisite == "gmo_authorisation":
        payload["gmo_class"] = 2
    payload.update(changes)
    return payload


def accepted_before_the_rules(ledger: FakeLedger, target: UUID, payload: dict[str, Any], signer: Actor) -> None:
    """An attestation stored as an older ledger accepted it, whoever signed: history is never rewritten, so
    readiness must judge it by today's rules."""
    at = PREPARED + timedelta(days=1)
    fact = NewEvent(target, "TrialPrerequisiteAttested", payload, at, Meaning.APPROVED, aggregate_kind="trial_site")
    ledger.store([fact], signer)


def attest(ledger: FakeLedger, target: UUID, skip: tuple[str, ...] = (), at: datetime = PREPARED) -> None:
    """Every prerequisite but ``skip`` attested, the team designated and trained."""
    site = ledger.load(target)
    assert isinstance(site, TrialSite)
    pair_specialties(ledger)
    for prerequisite in ALL_ATTESTED:
        if prerequisite in skip or (prerequisite == "gmo_authorisation" and site.product_kind != "car_t"):
            continue
        if prerequisite == "staff_training":
            for user in TEAM:
                ledger.record("TrialStaffDesignated", target, {"user_id": user}, ADMIN, at)
                ledger.record("TrialPrerequisiteAttested", target, evidence(prerequisite, user_id=user),
                              SIGNED_BY[prerequisite], at)  # fmt: skip
            continue
        ledger.record("TrialPrerequisiteAttested", target, evidence(prerequisite), SIGNED_BY[prerequisite], at)


def activate_trial_sites(ledger: FakeLedger) -> None:
    """The journey's collection and infusion sites ready and active for the trial before T0."""
    for site, activity in ((COLLECTION_SITE, "collection"), (INFUSION_UNIT, "infusion")):
        target = open_site(ledger, site, (activity,))
        attest(ledger, target)
        ledger.record("TrialSiteActivated", target, {}, SPONSOR, ACTIVATED)


def trial_site(ledger: FakeLedger, target: UUID) -> TrialSite:
    """Load a trial site, failing the test if it is anything else."""
    found = ledger.load(target)
    assert isinstance(found, TrialSite)
    return found
