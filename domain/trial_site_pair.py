"""The named pair's specialties: the disease specialist treats the site's indications, the other gives cell therapy.

Checked when the pair is attested (refused, naming what is missing) and again whenever
readiness is computed, from the staff record as it stands that day: a specialty
recorded later makes the attestation count, a physician whose record does not show one
leaves the prerequisite missing with the reason (domain/indication_specialties.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.aggregate import Loader
from domain.errors import RuleViolation
from domain.indication_specialties import (
    CELL_THERAPY_SPECIALTIES,
    describe_uncovered,
    is_cell_therapy_specialist,
    uncovered,
)
from domain.staff import StaffMember, staff_id_for
from domain.trial_prerequisite import Prerequisite

PAIR = frozenset({Prerequisite.DISEASE_SPECIALIST, Prerequisite.CELL_THERAPY_SPECIALIST})
RULES = {
    Prerequisite.DISEASE_SPECIALIST: "specialty_not_for_indication",
    Prerequisite.CELL_THERAPY_SPECIALIST: "not_a_cell_therapy_specialist",
}
"""The refusal's rule for each half of the pair."""


@dataclass(frozen=True)
class SpecialtyCheck:
    """Does the named physician's specialty fit the role they are named for? With the reason in words."""

    user_id: str
    name: str
    specialties: tuple[str, ...]
    holds: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for the readiness views."""
        return {
            "user_id": self.user_id,
            "name": self.name,
            "specialties": list(self.specialties),
            "holds": self.holds,
            "detail": self.detail,
        }


def specialties_of(load: Loader, user_id: str) -> tuple[str, tuple[str, ...]]:
    """The person's printed name and recorded specialties (none when the record holds none)."""
    member = load(staff_id_for(user_id)) if user_id.strip() else None
    if not isinstance(member, StaffMember):
        return "", ()
    return member.name, tuple(sorted(member.specialties))


def specialty_check(prerequisite: str, user_id: str, indications: list[str], load: Loader) -> SpecialtyCheck:
    """The check for one half of the pair, against the trial site's indications."""
    name, specialties = specialties_of(load, user_id)
    who = f"{user_id} ({name})" if name else user_id
    held = ", ".join(specialties) if specialties else "no specialty"
    if prerequisite == Prerequisite.DISEASE_SPECIALIST:
        gaps = uncovered(indications, specialties)
        if gaps:
            detail = f"{who} is recorded with {held}; {describe_uncovered(gaps)}"
            return SpecialtyCheck(user_id, name, specialties, False, detail)
        return SpecialtyCheck(user_id, name, specialties, True, f"{who}: {held}, treats {', '.join(indications)}")
    if not is_cell_therapy_specialist(specialties):
        needs = " or ".join(sorted(CELL_THERAPY_SPECIALTIES))
        detail = f"{who} is recorded with {held}; a cell-therapy specialist is in {needs}"
        return SpecialtyCheck(user_id, name, specialties, False, detail)
    return SpecialtyCheck(user_id, name, specialties, True, f"{who}: {held}, gives cell therapy")


def check_pair_specialty(prerequisite: Prerequisite, user_id: str, indications: list[str], load: Loader) -> None:
    """Refuse a named physician whose recorded specialty does not fit the half of the pair they are named for."""
    check = specialty_check(prerequisite, user_id, indications, load)
    if not check.holds:
        raise RuleViolation(f"payload.user_id {check.detail}", field="payload.user_id", rule=RULES[prerequisite])
