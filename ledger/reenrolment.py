"""Re-enrolment: an administrator gives a person who forgot their password a new key and a new enrolment secret.

A person's Ed25519 signing key is sealed under their password (ledger/keystore.py), which nobody else knows
(21 CFR Part 11 §11.300, ledger/password_enrolment.py): a forgotten password cannot be reset while keeping the
key. Re-enrolment replaces the key instead, in one transaction — the key events and the side-table writes
commit together or not at all (ledger/recorders.py):

- a new key pair is registered (SigningKeyRegistered) and every active key of the person revoked
  (SigningKeyRevoked, reason ``re-enrolment: …``), signed by the administrator (domain/staff.py), exactly as a
  key rotation is written (``ledger.setup.replacement_events``);
- the new key is sealed under a one-time enrolment secret, and the sign-in hash becomes the secret's, marked
  to be replaced: the person chooses their own password at first sign-in, as after `custody staff add`;
- a signing lock (ledger/signing_lockout.py) is lifted, with the ``signing_unlocked`` audit row that
  `custody staff unlock-signing` writes, naming the administrator and the reason; an unlocked count restarts
  from zero. The wrong passwords were tried on a key that no longer signs, and whoever re-enrols has the
  authority and gives the proof an unlock asks for (an administrator's signature): nothing is bypassed, and
  nothing silently;
- a ``staff_reenrolled`` audit row says who re-enrolled whom, why, which keys were revoked and which one
  registered — never the secret.

A failure anywhere rolls everything back: the old key and password keep working. Afterwards the old password
opens nothing that signs (its key is revoked) and no longer signs in (the hash is the secret's); the person's
open signing sessions end. Signatures made with the old key before stay valid: the key history in the log
says from when it stopped (`custody verify`).

Four eyes: an administrator never re-enrols themselves (``reenrol_self``) — another administrator does, or,
when none is left, the ledger's own user (``--by ledger``, whose key the master secret opens), as for
unlocking (ledger/signing_unlock.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import InvalidInput, NotFound, RuleViolation
from domain.events import Role
from domain.staff import StaffMember, staff_id_for
from domain.text import checked_text
from ledger.audit_log import append_audit
from ledger.credentials import hasher_for
from ledger.envelope import Envelope
from ledger.keys import KeyPair, seal_key
from ledger.keystore import insert_sealed
from ledger.password_enrolment import hold_enrolment_secret
from ledger.recorders import InTransaction
from ledger.service import CustodyLedger
from ledger.setup import check_password, replacement_events
from ledger.side_cursor import SideCursor
from ledger.signing_lockout import Channel, LockState, lift_lock, reset_failures

REENROLLERS = frozenset({Role.ADMIN.value, Role.SYSTEM.value})
STAFF_REENROLLED = "staff_reenrolled"
"""The audit-log action of a re-enrolment."""
REVOCATION_REASON = "re-enrolment"


@dataclass(frozen=True)
class Reenrolled:
    """What a re-enrolment did: whose keys, by whom, the new key, and the signing lock or count it cleared."""

    username: str
    by: str
    key_id: str
    revoked: tuple[str, ...]
    lifted_lock: LockState | None
    failures_reset: int
    envelopes: tuple[Envelope, ...]
    reenrolled_at: datetime


@dataclass
class _Cleared:
    """What the transaction found of the signing lockout (filled in inside it)."""

    lock: LockState | None = None
    failures: int = 0


def reenrol(
    ledger: CustodyLedger,
    username: str,
    secret: str,
    *,
    by: str,
    password: str | None,
    reason: str,
    channel: Channel,
    session: str | None = None,
    by_field: str = "by",
) -> Reenrolled:
    """Replace ``username``'s keys by one sealed under ``secret``, on ``by``'s signature, in one transaction."""
    text = checked_text(reason or "", "reason", free_text=True).strip()
    actor, registrar = ledger.actor(by)
    if registrar.role not in REENROLLERS:
        raise RuleViolation(
            f"{by} is a {registrar.role}: only an administrator re-enrols a person", field=by_field, rule="admin_only"
        )
    if not text:
        raise InvalidInput("reason is required to re-enrol: say why and how the person was identified",
                           field="reason", rule="required")  # fmt: skip
    if username == by:
        raise RuleViolation(
            f"{by} cannot re-enrol themselves: another administrator must do it (four eyes)",
            field="username",
            rule="reenrol_self",
        )
    history = ledger.history(staff_id_for(username))
    member, head = ledger.replay(history)
    if not isinstance(member, StaffMember) or member.role == Role.SYSTEM:
        raise NotFound(f"no staff member is registered as {username!r}", field="username", rule="staff_not_registered")
    old_keys = tuple(member.active_keys)
    if not old_keys:
        raise RuleViolation(
            f"{username} has no active signing key: revoking a person's last key is how they leave, "
            "and re-enrolment replaces the key of someone who still signs",
            field="username",
            rule="no_active_key",
        )
    check_password(secret, "enrolment_secret")
    signer = ledger.signer_for(registrar, password, session, channel=channel)
    pair = KeyPair.generate()
    now = ledger.clock.now()
    events = replacement_events(member, pair, old_keys, actor, now, reason=f"{REVOCATION_REASON}: {text}")
    sealed = seal_key(pair, secret, ledger.kdf)
    encoded = hasher_for(ledger.kdf).hash(secret)
    cleared = _Cleared()

    def side_writes(envelopes: list[Envelope]) -> list[InTransaction]:
        def write(cursor: SideCursor) -> None:
            insert_sealed(cursor, username, sealed, now)
            hold_enrolment_secret(cursor, username, encoded, now)
            lock_reason = f"{REVOCATION_REASON}: {text}"
            cleared.lock = lift_lock(cursor, now, username, by=by, reason=lock_reason, channel=channel)
            cleared.failures = 0 if cleared.lock is not None else reset_failures(cursor, username)
            detail = {
                "channel": channel,
                "reason": text,
                "revoked_keys": list(old_keys),
                "new_key": pair.key_id,
                "signing_lock_lifted": cleared.lock is not None,
                "signing_failures_reset": cleared.failures,
            }
            append_audit(cursor, now, STAFF_REENROLLED, by, username, detail)

        return [write]

    envelopes = ledger.append_signed(events, actor, signer, {member.id: head}, now, side_writes)
    ledger.sessions.close(username)
    return Reenrolled(username, by, pair.key_id, old_keys, cleared.lock, cleared.failures, tuple(envelopes), now)
