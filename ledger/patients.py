"""Patient identities: registered once per hospital number, revealed and erased only by people who authenticate.

The ledger's events never see who the patient is; this module is the only way
from a pseudonym back to a name, and it asks for the caller's password (the
same one that unseals their signing key) every time. Every reveal and every
erasure is written to the audit log (who, when, why), in the same transaction
as the erasure itself.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from domain.bedside_identity import read_birth_date
from domain.erasure import ErasureRequest, RetainedProduct, check_erasure
from domain.errors import InvalidInput, RuleViolation
from domain.staff import StaffMember
from domain.text import checked_text
from ledger.audit_log import append_audit
from ledger.identity_store import PatientIdentity
from ledger.keys import WrongPassword, unseal_key
from ledger.service import CustodyLedger
from ledger.side_cursor import SideCursor
from ledger.signing_session import SignatureRefused, WrongSigningPassword
from ledger.store import parse_envelope

READERS = frozenset({"nurse", "physician", "pharmacist"})
ERASERS = frozenset({"admin", "pharmacist"})
IDENTITY_FIELDS = ("family_name", "given_name", "birth_date", "hospital_number")
DEFAULT_RETENTION_YEARS = 30
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_pseudonym() -> str:
    """A random pseudonym with no link to the person (40 bits; collisions are refused by the store)."""
    return "PSN-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def check_identity(identity: PatientIdentity, now: datetime) -> None:
    """Every field present and clean; the birth date a real calendar date, in the past."""
    for name in IDENTITY_FIELDS:
        value = getattr(identity, name)
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"identity.{name} is required", field=f"identity.{name}", rule="identity_field_required")
        checked_text(value, f"identity.{name}")
    born = read_birth_date(identity.birth_date, field="identity.birth_date")
    if born >= now.date():
        raise InvalidInput(
            f"identity.birth_date {identity.birth_date!r} is not in the past",
            field="identity.birth_date",
            rule="birth_date_not_past",
        )


def _mentions_identity(text: str, identity: PatientIdentity) -> bool:
    folded = text.casefold()
    return any(
        len(v.strip()) > 2 and v.strip().casefold() in folded for v in (identity.family_name, identity.hospital_number)
    )


class PatientRegistry:
    """Register, reveal and erase identities, checking who asks."""

    def __init__(self, ledger: CustodyLedger) -> None:
        self.ledger = ledger
        self.store = ledger.identities

    def _authenticate(self, username: str, password: str, allowed: frozenset[str], field: str = "user") -> StaffMember:
        _, member = self.ledger.actor(username)
        if member.role not in allowed:
            raise RuleViolation(
                f"a user with role {member.role!r} may not access patient identity; "
                f"allowed: {', '.join(sorted(allowed))}",
                field=field,
                rule="identity_access_denied",
            )
        sealed = self.ledger.keys.get(member.active_keys[-1]) if member.active_keys else None
        if sealed is None:
            raise SignatureRefused(f"{username} has no active key to authenticate with")
        # The password unseals the signing key here too: guesses count toward the signing lockout, and a
        # locked person opens no identity (ledger/signing_lockout.py).
        lockout = self.ledger.signing_lockout
        state = lockout.check(username, "cli")
        try:
            unseal_key(sealed, password)
        except WrongPassword:
            failures = lockout.failed(username, "cli")
            raise WrongSigningPassword(
                f"wrong password for {username}: nothing was disclosed ({failures} of {lockout.max_failures} "
                "wrong passwords in a row lock signing)"
            ) from None
        lockout.succeeded(state)
        return member

    def register(self, identity: PatientIdentity, *, user: str, password: str) -> str:
        """Seal a new patient's identity and return its pseudonym; a hospital number already held returns its own."""
        self._authenticate(user, password, READERS)
        now = self.ledger.clock.now()
        check_identity(identity, now)
        existing = self.store.find(identity.hospital_number)
        if existing is not None:
            return existing
        pseudonym = new_pseudonym()
        self.store.put(pseudonym, identity, now)
        return pseudonym

    def reveal(self, pseudonym: str, *, user: str, password: str, reason: str) -> PatientIdentity:
        """The identity behind a pseudonym, for bedside and pharmacy checks; recorded with who, when and why."""
        if not reason.strip():
            raise InvalidInput(
                "reason is required to reveal an identity", field="reason", rule="reveal_reason_required"
            )
        checked_text(reason, "reason", free_text=True)
        self._authenticate(user, password, READERS)
        identity = self.store.get(pseudonym)
        if _mentions_identity(reason, identity):
            raise InvalidInput(
                "reason must not contain the patient's identity: the audit log never holds it",
                field="reason",
                rule="identity_in_audit_text",
            )
        with self.ledger.store.side_transaction() as cursor:
            append_audit(cursor, self.ledger.clock.now(), "identity_revealed", user, pseudonym, {"reason": reason})
        return identity

    def retained_products(self, pseudonym: str) -> tuple[RetainedProduct, ...]:
        """The patient's products, each with its catalogue retention and the time its record last changed."""
        found = []
        for row in self.ledger.store.scan():
            envelope = parse_envelope(row.state)
            if envelope.type != "ProductEnrolled" or envelope.body["payload"].get("patient_pseudonym") != pseudonym:
                continue
            code = str(envelope.body["payload"].get("product_code", ""))
            years = self.ledger.catalogue.get(code).retention_years if code in self.ledger.catalogue else None
            last = self.ledger.history(envelope.aggregate_id)[-1].recorded_at
            found.append(RetainedProduct(code, years or DEFAULT_RETENTION_YEARS, last))
        return tuple(found)

    def erase(
        self,
        pseudonym: str,
        *,
        user: str,
        password: str,
        approver: str,
        approver_password: str,
        reason: str,
        legal_ground: str = "",
    ) -> bool:
        """Crypto-shred an identity once two people agree and retention allows; history and signatures stay valid."""
        requester = self._authenticate(user, password, ERASERS)
        checker = self._authenticate(approver, approver_password, ERASERS, field="approver")
        request = ErasureRequest(user, requester.role, approver, checker.role, reason, legal_ground)
        now = self.ledger.clock.now()
        check_erasure(request, self.retained_products(pseudonym), now)
        identity = self.store.get(pseudonym)
        for name, text in (("reason", reason), ("legal_ground", legal_ground)):
            if _mentions_identity(text, identity):
                raise InvalidInput(
                    f"{name} must not contain the patient's identity: the audit log never holds it",
                    field=name,
                    rule="identity_in_audit_text",
                )
        detail = {"approver": approver, "reason": reason, "legal_ground": legal_ground}

        def audit(cursor: SideCursor) -> None:
            append_audit(cursor, now, "identity_erased", user, pseudonym, detail)

        return self.store.erase(pseudonym, now, audit=audit)
