"""Patient identities: registered under a fresh pseudonym, revealed only to clinical staff who authenticate.

The ledger's events never see who the patient is; this module is the only way
from a pseudonym back to a name, and it asks for the caller's password (the
same one that unseals their signing key) every time.
"""

from __future__ import annotations

import secrets

from domain.errors import InvalidInput, RuleViolation
from domain.staff import StaffMember
from ledger.identity_store import PatientIdentity
from ledger.keys import WrongPassword, unseal_key
from ledger.service import CustodyLedger
from ledger.signing_session import SignatureRefused

READERS = frozenset({"nurse", "physician", "pharmacist"})
ERASERS = frozenset({"admin"})
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_pseudonym() -> str:
    """A random pseudonym with no link to the person (40 bits; collisions are refused by the store)."""
    return "PSN-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


class PatientRegistry:
    """Register, reveal and erase identities, checking who asks."""

    def __init__(self, ledger: CustodyLedger) -> None:
        self.ledger = ledger
        self.store = ledger.identities

    def _authenticate(self, username: str, password: str, allowed: frozenset[str]) -> StaffMember:
        _, member = self.ledger.actor(username)
        if member.role not in allowed:
            raise RuleViolation(
                f"a user with role {member.role!r} may not access patient identity; "
                f"allowed: {', '.join(sorted(allowed))}",
                field="user",
                rule="identity_access_denied",
            )
        sealed = self.ledger.keys.get(member.active_keys[-1]) if member.active_keys else None
        if sealed is None:
            raise SignatureRefused(f"{username} has no active key to authenticate with")
        try:
            unseal_key(sealed, password)
        except WrongPassword:
            raise SignatureRefused(f"wrong password for {username}: nothing was disclosed") from None
        return member

    def register(self, identity: PatientIdentity, *, user: str, password: str) -> str:
        """Seal a new patient's identity and return the pseudonym events will carry."""
        self._authenticate(user, password, READERS)
        for name in ("family_name", "given_name", "birth_date", "hospital_number"):
            if not str(getattr(identity, name)).strip():
                raise InvalidInput(f"identity.{name} is required", field=f"identity.{name}")
        pseudonym = new_pseudonym()
        self.store.put(pseudonym, identity, self.ledger.clock.now())
        return pseudonym

    def reveal(self, pseudonym: str, *, user: str, password: str) -> PatientIdentity:
        """The identity behind a pseudonym, for bedside and pharmacy checks."""
        self._authenticate(user, password, READERS)
        return self.store.get(pseudonym)

    def erase(self, pseudonym: str, *, user: str, password: str) -> bool:
        """Remove an identity (right to erasure); history and signatures are unaffected."""
        self._authenticate(user, password, ERASERS)
        return self.store.erase(pseudonym)
