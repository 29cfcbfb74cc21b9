"""A person replaces their password: the signing key re-sealed, the sign-in hash replaced, the fact audited — at once.

21 CFR Part 11 §11.300: passwords are known to their owner alone and can be changed.
The password seals the person's Ed25519 signing key (ledger/keys.py), so changing it
means re-sealing that key under the new one. The key itself does not change: same key
id, same public key, so every signature made before stays verifiable and no key event
is recorded. Three writes make one change, all in one side-table transaction:

- every sealed key of the person that the old password opens is re-sealed under the new
  one (the active key must open: that is the proof of the old password);
- the Argon2id sign-in hash is replaced and the enrolment mark cleared
  (ledger/password_enrolment.py);
- a ``password_changed`` row is appended to the audit log: who, when, which keys were
  re-sealed, whether an enrolment secret was replaced — never a password.

A failure anywhere rolls all three back: the old password keeps signing and signing in.
After the change the person's open signing sessions end, so the next signature asks for
the new password; the old one opens nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import InvalidInput, NotFound
from domain.events import Role
from domain.staff import StaffMember, staff_id_for
from ledger.audit_log import append_audit
from ledger.clock import isoformat
from ledger.credentials import hasher_for
from ledger.keys import SealedKey, WrongPassword, seal_key, unseal_key
from ledger.keystore import reseal
from ledger.password_enrolment import must_change_password
from ledger.password_policy import check_new_password
from ledger.service import CustodyLedger
from ledger.signing_lockout import Channel
from ledger.signing_session import SignatureRefused, WrongSigningPassword

PASSWORD_CHANGED = "password_changed"
"""The audit-log action of a password change."""


@dataclass(frozen=True)
class PasswordChanged:
    """What a change did: whose password, which keys now open with the new one, when."""

    username: str
    resealed: tuple[str, ...]
    replaced_enrolment_secret: bool
    changed_at: datetime


def change_password(
    ledger: CustodyLedger, username: str, old_password: str, new_password: str, *, channel: Channel = "cli"
) -> PasswordChanged:
    """Check the old password and the new one, then re-seal, re-hash and audit in one transaction.

    The old password is tried on the signing key, so a wrong one counts towards the signing
    lockout (ledger/signing_lockout.py) like a wrong signature password: changing the password
    is no way around it, and a locked person cannot change theirs until unlocked.
    """
    member = ledger.load(staff_id_for(username))
    if not isinstance(member, StaffMember) or member.role == Role.SYSTEM:
        raise NotFound(f"no staff member is registered as {username!r}", field="username")
    if not member.active_keys:
        raise SignatureRefused(f"{username} has no active signing key: an administrator must register one first")
    active = ledger.keys.get(member.active_keys[-1])
    if active is None:
        raise NotFound(f"the signing key of {username!r} is not held by this ledger", field="username")
    state = ledger.signing_lockout.check(username, channel)
    try:
        unseal_key(active, old_password)
    except WrongPassword:
        failures = ledger.signing_lockout.failed(username, channel)
        raise WrongSigningPassword(
            f"wrong password for {username}: the password was not changed "
            f"({failures} of {ledger.signing_lockout.max_failures} wrong passwords in a row lock signing)"
        ) from None
    ledger.signing_lockout.succeeded(state)
    if new_password == old_password:
        raise InvalidInput(
            "new_password must differ from the current password", field="new_password", rule="password_unchanged"
        )
    check_new_password(new_password, username=username, name=member.name)
    resealed = _resealed(ledger, username, old_password, new_password)
    replaced_enrolment_secret = must_change_password(ledger.store, username)
    encoded = hasher_for(ledger.kdf).hash(new_password)
    now = ledger.clock.now()
    with ledger.store.side_transaction() as cursor:
        for old, new in resealed:
            reseal(cursor, old, new)
        cursor.execute(
            "INSERT INTO api_credentials (username, password_hash, updated_at, must_change_password)"
            " VALUES (%s, %s, %s, 0)"
            " ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash,"
            " updated_at = excluded.updated_at, must_change_password = 0",
            (username, encoded, isoformat(now)),
        )
        key_ids = [new.key_id for _, new in resealed]
        detail = {"resealed_keys": key_ids, "replaced_enrolment_secret": replaced_enrolment_secret}
        append_audit(cursor, now, PASSWORD_CHANGED, username, username, detail)
    ledger.sessions.close(username)
    return PasswordChanged(username, tuple(key_ids), replaced_enrolment_secret, now)


def _resealed(
    ledger: CustodyLedger, username: str, old_password: str, new_password: str
) -> list[tuple[SealedKey, SealedKey]]:
    """Each of the person's keys the old password opens, with its sealing under the new one.

    Revoked keys are re-sealed too: they sign nothing valid any more, but none of the
    person's keys should still open with a password they have given up.
    """
    pairs = []
    for sealed in ledger.keys.keys_of(username):
        try:
            pair = unseal_key(sealed, old_password)
        except WrongPassword:
            continue
        pairs.append((sealed, seal_key(pair, new_password, ledger.kdf)))
    return pairs
