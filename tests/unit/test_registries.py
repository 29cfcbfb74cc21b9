"""The site and trial registries, and who may read which product (a sponsor: its own trial's only)."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

from domain.errors import InvalidInput, OutOfOrder, RuleViolation, TimeRuleViolation
from domain.events import Actor
from domain.site import Activity, site_id_for
from domain.trial import trial_id_for, visible_to
from tests.unit.domain_fixtures import NURSE, PRODUCT_ID, T0, TRIAL_FIELDS, CarTJourney, FakeLedger
from tests.unit.pathway_fixtures import ADMIN, ready_ledger, register_site
from tests.unit.trial_site_fixtures import activate_trial_sites

SPONSOR = Actor("sponsor.lambert", "Sophie Lambert", "sponsor")
OTHER_SPONSOR = Actor("sponsor.other", "Max Other", "sponsor")
AUDITOR = Actor("auditor", "Eve Blanc", "auditor")
PROTOCOL = TRIAL_FIELDS["trial_protocol"]
TRIAL = {"protocol": PROTOCOL, "sponsor": "Academic sponsor", "title": "CAR-T in refractory lupus"}


def trial_ledger() -> FakeLedger:
    ledger = ready_ledger()
    activate_trial_sites(ledger)  # registers the trial, authorises its sponsor user, activates its sites
    CarTJourney(ledger, trial=True).until("ProductEnrolled")
    return ledger


def test_staff_and_auditors_see_every_product_and_a_listed_sponsor_sees_its_trials_product() -> None:
    ledger = trial_ledger()
    product = ledger.product()
    assert visible_to(NURSE, product, ledger.load) and visible_to(AUDITOR, product, ledger.load)
    assert visible_to(SPONSOR, product, ledger.load)


def test_a_sponsor_user_not_listed_on_the_trial_does_not_see_its_products() -> None:
    ledger = trial_ledger()
    assert not visible_to(OTHER_SPONSOR, ledger.product(), ledger.load)


def test_a_revoked_sponsor_user_no_longer_sees_the_trials_products() -> None:
    ledger = trial_ledger()
    ledger.record("SponsorUserRevoked", trial_id_for(PROTOCOL), {"user_id": SPONSOR.user_id}, ADMIN, T0)
    assert not visible_to(SPONSOR, ledger.product(), ledger.load)


def test_a_sponsor_sees_no_product_outside_a_trial_nor_one_naming_another_sponsor() -> None:
    ledger = ready_ledger()
    CarTJourney(ledger).until("ProductEnrolled")
    product = ledger.product()
    product.trial = {}
    assert not visible_to(SPONSOR, product, ledger.load)
    ledger = trial_ledger()
    product = ledger.product()
    product.trial = {**product.trial, "trial_sponsor": "Another sponsor"}
    assert not visible_to(SPONSOR, product, ledger.load)


def test_an_unknown_role_sees_nothing() -> None:
    ledger = trial_ledger()
    assert not visible_to(Actor("x", "X", "visitor"), ledger.product(), ledger.load)
    assert ledger.product().id == PRODUCT_ID


def test_a_trial_and_a_site_have_ids_derived_from_their_protocol_and_code() -> None:
    ledger = FakeLedger()
    ledger.refuse(
        InvalidInput, field="aggregate_id", rule="aggregate_id_mismatch", message="protocol number",
        event_type="TrialRegistered", aggregate_id=uuid4(), payload=TRIAL, actor=ADMIN, at=T0,
    )  # fmt: skip
    ledger.refuse(
        InvalidInput, field="aggregate_id", rule="aggregate_id_mismatch", message="derived from its code",
        event_type="SiteRegistered", aggregate_id=uuid4(), payload={"code": "X", "name": "X"}, actor=ADMIN, at=T0,
    )  # fmt: skip


def test_only_an_administrator_changes_the_site_registry() -> None:
    ledger = FakeLedger()
    ledger.refuse(
        RuleViolation, field="user", rule="role_not_allowed", message="recorded by: admin, system",
        event_type="SiteRegistered", aggregate_id=site_id_for("X"), payload={"code": "X", "name": "X"}, actor=NURSE,
        at=T0,
    )  # fmt: skip


def test_an_accreditation_ending_before_it_starts_or_withdrawn_twice_is_refused() -> None:
    ledger = FakeLedger()
    site = register_site(ledger, "CHU-APH", ["collection"])
    bad = {
        "accreditor": "sfgm_tc", "reference": "SFGM-1", "scope": ["infusion"], "valid_from": "2026-01-02",
        "valid_until": "2026-01-01",
    }  # fmt: skip
    ledger.refuse(
        TimeRuleViolation, field="payload.valid_until", rule="ends_before_start", message="before payload.valid_from",
        event_type="AccreditationGranted", aggregate_id=site.id, payload=bad, actor=ADMIN, at=T0,
    )  # fmt: skip
    withdrawal = {"reference": "JACIE-7", "effective_on": "2026-01-01", "reason": "audit"}
    ledger.record("AccreditationWithdrawn", site.id, withdrawal, ADMIN, T0)
    ledger.refuse(
        OutOfOrder, field=None, rule="already_withdrawn", message="already withdrawn",
        event_type="AccreditationWithdrawn", aggregate_id=site.id, payload=withdrawal, actor=ADMIN, at=T0,
    )  # fmt: skip
    ledger.refuse(
        InvalidInput, field="payload.reference", rule="unknown_accreditation", message="not an accreditation",
        event_type="AccreditationWithdrawn", aggregate_id=site.id, payload={**withdrawal, "reference": "NOPE"},
        actor=ADMIN, at=T0,
    )  # fmt: skip


def test_an_accreditation_covers_its_scope_inside_its_validity_only() -> None:
    site = register_site(FakeLedger(), "CHU-APH", ["collection"], valid_from=date(2026, 1, 1))
    assert site.covers(Activity.COLLECTION, date(2026, 1, 1))
    assert not site.covers(Activity.COLLECTION, date(2026, 1, 1) - timedelta(days=1))
    assert not site.covers(Activity.INFUSION, date(2026, 6, 1))
