"""The demonstration trial's sites: two ready and active, one still preparing, and what that site is refused.

The apheresis unit and the cell-therapy unit of the demo hospital take part in
CART-AUTOIMMUNE-01 (registered by api/demo_pathway.py): each prerequisite is attested by
the person who can vouch for it (domain/trial_site_attesters.py: the PUI's head pharmacist,
the director of clinical research, the sponsor's research associate, the investigator)
and the sites are activated, so the demo's products (and every test journey built on
the same helpers) are enrolled, collected and infused at active sites. A second hospital
has prepared everything but the GMO confined-use authorisation and one nurse's protocol
training: the sponsor's activation is refused, and so is an enrolment there, naming both.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from api import demo_journeys as j
from domain.errors import RuleViolation
from domain.identifiers import product_id_for
from domain.site import site_id_for
from domain.staff import StaffMember, staff_id_for
from domain.trial import Trial, trial_id_for
from domain.trial_site import trial_site_id_for
from ledger.ledger_meta import LEDGER_USER
from ledger.setup import register_staff

UNREADY_SITE = "CH-F9998 Hopital Nord cell-therapy unit"
TRIAL_SITES = {j.APHERESIS_SITE: ["collection"], j.UNIT: ["infusion"]}
PAIR = {"disease_specialist": "internist", "cell_therapy_specialist": "physician"}
PAIR_SPECIALTY = {"internist": "internal_medicine", "physician": "haematology"}
"""The pair's specialties: an internist treats every indication of the demo trial, a haematologist gives CAR-T."""
INDICATIONS = ["systemic_lupus_erythematosus", "systemic_sclerosis", "vasculitis", "inflammatory_myopathy"]
SIGNATORIES = {
    "pui.head": ("Dr Bruno Vasseur", "pharmacist"),
    "research.director": ("Isabelle Roussel", "admin"),
    "sponsor.cra": ("Thomas Girard", "sponsor"),
}
"""The people who vouch for the trial sites' evidence besides the investigator ("physician"), each registered once."""
SPONSOR_CRA = "sponsor.cra"
ATTESTED_BY = {
    "disease_specialist": "research.director",
    "cell_therapy_specialist": "research.director",
    "pui_agreement": "pui.head",
    "gmo_authorisation": "research.director",
    "contract_signed": "research.director",
    "initiation_visit": SPONSOR_CRA,
    "staff_training": "research.director",
    "rcp_named": "physician",
    "ln2_qualified": "pui.head",
}
"""Who signs each attestation in the demo: a role domain/trial_site_attesters.py allows for it."""
EVIDENCE = {
    "disease_specialist": ("NOMINATION-INT-2025", "Investigator's CV and GCP certificate"),
    "cell_therapy_specialist": ("NOMINATION-CT-2025", "Investigator's CV and GCP certificate"),
    "pui_agreement": ("PUI-ACCORD-CART-01", "Head of the hospital pharmacy (PUI)"),
    "gmo_authorisation": ("AGREMENT-OGM-2024-117", "Ministère de la recherche (HCB opinion)"),
    "contract_signed": ("CONV-CART-AI-01-F9999", "Direction de la recherche clinique"),
    "initiation_visit": ("SIV-REPORT-0007", "Sponsor's clinical research associate"),
    "rcp_named": ("RCP-AUTO-IMMUNE-CT", "RCP auto-immunité et thérapie cellulaire"),
    "ln2_qualified": ("QUAL-LN2-TANK-1", "Biomedical engineering, IQ/OQ/PQ report"),
}


def _sign(rec: j.Recorder, user: str | None, event_type: str, target: Any, when: datetime, **payload: Any) -> None:
    """The ledger signs the registry side (as the demo's registrations); a named user signs as themself."""
    if user is None:
        rec.ledger.record(event_type, target, payload, user=LEDGER_USER, meaning="approved", occurred_at=when)
    else:
        rec(user, event_type, target, when, "approved", **payload)


def _signatories(rec: j.Recorder, protocol: str, when: datetime) -> None:
    """Register the demo's signatories not yet on the ledger, list the sponsor's associate on the trial, and record
    the pair's specialties (domain/trial_site_pair.py) unless their records hold them already."""
    for username, (name, role) in SIGNATORIES.items():
        password = f"{username}-demo-pass"
        if rec.ledger.load(staff_id_for(username)) is None:
            register_staff(rec.ledger, username, name, role, password, registrar=LEDGER_USER)
        rec.passwords.setdefault(username, password)
    trial = rec.ledger.load(trial_id_for(protocol))
    if isinstance(trial, Trial) and SPONSOR_CRA not in trial.sponsor_users:
        _sign(rec, None, "SponsorUserAuthorised", trial.id, when, user_id=SPONSOR_CRA)
    for username, specialty in PAIR_SPECIALTY.items():
        member = rec.ledger.load(staff_id_for(username))
        if isinstance(member, StaffMember) and specialty not in member.specialties:
            rec.ledger.record("StaffSpecialtyRecorded", member.id, {"specialties": [specialty],
                              "evidence": "Ordre des médecins (RPPS) register extract"}, user=LEDGER_USER,
                              meaning="approved")  # fmt: skip


def prepare(
    rec: j.Recorder, protocol: str, site: str, activities: list[str], when: datetime, until: str,
    *, team: list[str], trained: list[str], skip: tuple[str, ...] = (),
) -> Any:  # fmt: skip
    """Open the site for the trial and attest each prerequisite but ``skip``; designate ``team``, train ``trained``."""
    target = trial_site_id_for(protocol, site)
    _signatories(rec, protocol, when)
    _sign(rec, None, "TrialSiteOpened", target, when, protocol=protocol, site_code=site, product_kind="car_t",
          indications=INDICATIONS, activities=activities)  # fmt: skip
    since = when.date().isoformat()
    for prerequisite, (reference, by) in EVIDENCE.items():
        if prerequisite in skip:
            continue
        extra: dict[str, Any] = {"user_id": PAIR[prerequisite]} if prerequisite in PAIR else {}
        if prerequisite == "gmo_authorisation":
            extra = {"gmo_class": 2, "valid_until": until}
        _sign(rec, ATTESTED_BY[prerequisite], "TrialPrerequisiteAttested", target, when, prerequisite=prerequisite,
              reference=reference, attested_by=by, valid_from=since, **extra)  # fmt: skip
    for user in team:
        _sign(rec, None, "TrialStaffDesignated", target, when, user_id=user)
    for user in trained:
        _sign(rec, ATTESTED_BY["staff_training"], "TrialPrerequisiteAttested", target, when,
              prerequisite="staff_training", reference=f"TRAINING-{protocol}-{user}",
              attested_by="Investigator site file, training log", valid_from=since, valid_until=until,
              user_id=user)  # fmt: skip
    return target


def activate_demo_trial_sites(rec: j.Recorder, protocol: str, when: datetime, until: str) -> None:
    """The demo hospital's apheresis and cell-therapy units, ready and activated for the trial (once per ledger)."""
    registered = [user for user in ("nurse", "physician") if rec.ledger.load(staff_id_for(user)) is not None]
    for site, activities in TRIAL_SITES.items():
        target = trial_site_id_for(protocol, site)
        if rec.ledger.load(target) is not None:
            continue
        prepare(rec, protocol, site, activities, when, until, team=registered, trained=registered)
        _sign(rec, None, "TrialSiteActivated", target, when, note="activated on the sponsor's behalf")


def record_unready_site(rec: j.Recorder, protocol: str, now: datetime, pseudonym: str) -> list[str]:
    """A second hospital without its GMO authorisation and one nurse's training: activation and enrolment refused."""
    since = now - timedelta(days=90)
    site = site_id_for(UNREADY_SITE)
    if rec.ledger.load(site) is not None:
        return []
    _sign(rec, None, "SiteRegistered", site, since, code=UNREADY_SITE, name="Hôpital Nord (demo)", facility="F9998")
    _sign(rec, None, "AccreditationGranted", site, since, accreditor="sfgm_tc", reference="SFGM-TC-F9998",
          scope=["collection", "infusion"], valid_from=since.date().isoformat(),
          valid_until=(now + timedelta(days=500)).date().isoformat())  # fmt: skip
    until = (now + timedelta(days=365)).date().isoformat()
    target = prepare(rec, protocol, UNREADY_SITE, ["collection", "infusion"], since, until,
                     team=["nurse", "physician"], trained=["physician"], skip=("gmo_authorisation",))  # fmt: skip
    refused = []
    try:
        _sign(rec, "sponsor", "TrialSiteActivated", target, now - timedelta(days=2))
    except RuleViolation as refusal:
        assert refusal.rule == "trial_site_not_ready", refusal.rule
        refused.append(f"TrialSiteActivated refused [{refusal.rule}]: {refusal.message}")
    else:  # the demo is wrong if a site missing prerequisites were activated
        raise AssertionError("a trial site missing its GMO authorisation was activated")
    coi = j.new_coi(rec.ledger.settings.facility, now.year % 100)
    try:
        rec("physician", "ProductEnrolled", product_id_for(coi), now - timedelta(days=1), "approved",
            coi=coi.value, product_kind="car_t", product_code="ACADEMIC-CD19", patient_pseudonym=pseudonym,
            indication="vasculitis", treating_physician="physician", collection_site=UNREADY_SITE,
            trial_protocol=protocol)  # fmt: skip
    except RuleViolation as refusal:
        assert refusal.rule == "trial_site_not_activated", refusal.rule
        refused.append(f"ProductEnrolled refused [{refusal.rule}]: {refusal.message}")
    else:
        raise AssertionError("an enrolment at a site not activated for the trial was accepted")
    return refused
