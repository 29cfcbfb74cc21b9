"""A printed name identifies one active person: the same name, however spelt, is refused while its holder signs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import RuleViolation
from domain.events import Meaning
from domain.printed_names import PrintedName, fold_printed_name, printed_name_id_for
from domain.staff import StaffMember, decide_staff, staff_id_for
from tests.unit.domain_fixtures import ADMIN, NURSE, T0, FakeLedger, make_ctx


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Claire Martin", "claire martin"),
        ("Claire Martin", "  CLAIRE   MARTIN "),
        ("Hugo Lefèvre", "Hugo Lefevre"),
        ("Hélène Robert", "HELENE ROBERT"),
        ("Zoë Noël", "zoe\tnoel"),
    ],
)
def test_names_that_differ_only_by_case_accents_or_spacing_fold_alike(one: str, other: str) -> None:
    assert fold_printed_name(one) == fold_printed_name(other)
    assert printed_name_id_for(one) == printed_name_id_for(other)


def test_different_names_fold_apart() -> None:
    assert fold_printed_name("Claire Martin") != fold_printed_name("Claire Martín-Roy")
    assert fold_printed_name("Anne Durand") != fold_printed_name("Dr Anne Durand")  # a title is part of the name


def register(ledger: FakeLedger, username: str, name: str, role: str = "nurse") -> None:
    payload = {"username": username, "name": name, "role": role}
    ctx = make_ctx(ADMIN, T0, Meaning.APPROVED)
    ledger.store(decide_staff("StaffMemberRegistered", staff_id_for(username), payload, ctx, ledger.load), ADMIN)


def give_key(ledger: FakeLedger, username: str, key_id: str) -> None:
    ctx = make_ctx(ADMIN, T0, Meaning.APPROVED)
    payload = {"key_id": key_id, "public_key": "AAAA"}
    ledger.store(decide_staff("SigningKeyRegistered", staff_id_for(username), payload, ctx, ledger.load), ADMIN)


def revoke(ledger: FakeLedger, username: str, key_id: str) -> None:
    ctx = make_ctx(ADMIN, T0 + timedelta(days=1), Meaning.APPROVED)
    payload = {"key_id": key_id, "reason": "left the unit"}
    ledger.store(decide_staff("SigningKeyRevoked", staff_id_for(username), payload, ctx, ledger.load), ADMIN)


@pytest.fixture
def ledger() -> FakeLedger:
    """Claire Martin (nurse.martin) registered, with a key."""
    fake = FakeLedger(staff=())
    register(fake, NURSE.user_id, NURSE.name)
    give_key(fake, NURSE.user_id, "k1")
    return fake


def test_a_registration_claims_its_printed_name_in_the_same_decision(ledger: FakeLedger) -> None:
    claimed = ledger.load(printed_name_id_for("claire martin"))
    assert isinstance(claimed, PrintedName) and claimed.holders == [NURSE.user_id]
    assert ledger.types(printed_name_id_for(NURSE.name)) == ["PrintedNameClaimed"]


@pytest.mark.parametrize("spelling", ["Claire Martin", "CLAIRE  martin", "Clàire Martin"])
def test_the_same_name_for_another_person_is_refused_naming_who_holds_it(ledger: FakeLedger, spelling: str) -> None:
    before = {key: len(history) for key, history in ledger.histories.items()}
    with pytest.raises(RuleViolation) as caught:
        register(ledger, "nurse.martin2", spelling)
    assert (caught.value.rule, caught.value.field) == ("printed_name_not_unique", "payload.name")
    assert "already the printed name of nurse.martin (Claire Martin), an active staff member" in caught.value.message
    assert {key: len(history) for key, history in ledger.histories.items()} == before


def test_a_person_registered_but_not_yet_given_a_key_still_holds_the_name() -> None:
    fake = FakeLedger(staff=())
    register(fake, "nurse.a", "Léa Bernard")
    with pytest.raises(RuleViolation) as caught:
        register(fake, "nurse.b", "Lea Bernard")
    assert caught.value.rule == "printed_name_not_unique"


def test_once_the_holders_last_key_is_revoked_the_name_is_free_again(ledger: FakeLedger) -> None:
    revoke(ledger, NURSE.user_id, "k1")
    register(ledger, "nurse.martin2", "Claire Martin")
    claimed = ledger.load(printed_name_id_for("Claire Martin"))
    assert isinstance(claimed, PrintedName) and claimed.holders == [NURSE.user_id, "nurse.martin2"]
    member = ledger.load(staff_id_for(NURSE.user_id))
    assert isinstance(member, StaffMember) and not member.active


def test_a_rotated_key_keeps_the_person_active_and_the_name_held(ledger: FakeLedger) -> None:
    give_key(ledger, NURSE.user_id, "k2")
    revoke(ledger, NURSE.user_id, "k1")
    with pytest.raises(RuleViolation):
        register(ledger, "nurse.martin2", "Claire Martin")


def test_another_name_is_accepted(ledger: FakeLedger) -> None:
    register(ledger, "nurse.martin2", "Claire Martin-Roy")
    assert isinstance(ledger.load(staff_id_for("nurse.martin2")), StaffMember)


def test_the_refusal_does_not_depend_on_the_role_of_either_person(ledger: FakeLedger) -> None:
    with pytest.raises(RuleViolation) as caught:
        register(ledger, "dr.martin", "Claire Martin", role="physician")
    assert caught.value.rule == "printed_name_not_unique"
