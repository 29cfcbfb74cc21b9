"""Who may attest each trial-site prerequisite: the person who can vouch for it, never the ledger itself.

An inspector reading a site's checklist asks, for each line, "who says so?". The answer
must be someone whose job it is to know: the hospital pharmacist for the pharmacy's (PUI)
agreement, the institution's administrator for its GMO authorisation, the sponsor for its
own initiation visit (README.md, "Preparing a site for a trial"). The JACIE or SFGM-TC
accreditation is not attested here: it is read from the site registry, where only an
administrator (or the ledger at initialisation) records ``AccreditationGranted``.

The table is enforced when an attestation is signed (``attester_role_not_allowed``) and
again whenever readiness is computed, so evidence signed by a role that may not vouch
for it never makes a site ready, whenever it was recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.errors import RuleViolation
from domain.events import Role as R
from domain.trial_prerequisite import Prerequisite


@dataclass(frozen=True)
class Attesters:
    """The roles that may attest one prerequisite, and why they are the ones who can vouch for it."""

    roles: frozenset[R]
    why: str

    def names(self) -> str:
        """The roles in words, alphabetically: "admin or physician"."""
        return " or ".join(sorted(role.value for role in self.roles))


ATTESTERS: Mapping[Prerequisite, Attesters] = {
    Prerequisite.DISEASE_SPECIALIST: Attesters(
        frozenset({R.PHYSICIAN, R.ADMIN}),
        "the investigator or the institution names the physicians who answer for the trial's patients",
    ),
    Prerequisite.CELL_THERAPY_SPECIALIST: Attesters(
        frozenset({R.PHYSICIAN, R.ADMIN}),
        "the investigator or the institution names the physicians who answer for the trial's patients",
    ),
    Prerequisite.PUI_AGREEMENT: Attesters(
        frozenset({R.PHARMACIST}),
        "the hospital pharmacy (PUI) receives, stores and dispenses the product: only its pharmacist commits it",
    ),
    Prerequisite.GMO_AUTHORISATION: Attesters(
        frozenset({R.ADMIN}),
        "the confined-use authorisation is granted to the institution, which holds and answers for it",
    ),
    Prerequisite.CONTRACT_SIGNED: Attesters(
        frozenset({R.ADMIN, R.SPONSOR}),
        "the contract binds the institution and the sponsor: either party vouches for its signature",
    ),
    Prerequisite.INITIATION_VISIT: Attesters(
        frozenset({R.SPONSOR}),
        "the site initiation visit is the sponsor's own visit; only the sponsor can say it took place",
    ),
    Prerequisite.STAFF_TRAINING: Attesters(
        frozenset({R.ADMIN, R.PHYSICIAN}),
        "the investigator trains the team on the protocol and the institution keeps the training records",
    ),
    Prerequisite.RCP_NAMED: Attesters(
        frozenset({R.PHYSICIAN}),
        "the multidisciplinary meeting (RCP) is run by physicians; one of them names it",
    ),
    Prerequisite.LN2_QUALIFIED: Attesters(
        frozenset({R.PHARMACIST, R.QP}),
        "the pharmacist who stores the product in LN2, or a Qualified Person, reviews the tank's qualification",
    ),
}
"""Every attested prerequisite and the roles that may sign it; the system role signs none."""

ATTESTING_ROLES = frozenset(role for attesters in ATTESTERS.values() for role in attesters.roles)
"""The roles that may sign a ``TrialPrerequisiteAttested`` at all: those that may vouch for one prerequisite."""


def may_attest(prerequisite: str, role: str) -> bool:
    """True when ``role`` may vouch for ``prerequisite``."""
    return role in {r.value for r in ATTESTERS[Prerequisite(prerequisite)].roles}


def check_attester(prerequisite: Prerequisite, role: str) -> None:
    """Refuse a signer whose role may not vouch for this prerequisite, naming who may and why."""
    if may_attest(prerequisite, role):
        return
    attesters = ATTESTERS[prerequisite]
    raise RuleViolation(
        f"{prerequisite} is attested by {attesters.names()}, not by {role}: {attesters.why}",
        field="user",
        rule="attester_role_not_allowed",
    )
