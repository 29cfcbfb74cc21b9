"""Unlocking a person's signing: an administrator's word, with a reason, recorded in the audit log.

The lock itself is ledger/signing_lockout.py. Lifting it is not a custody step (it
changes no product), so it is an audit-log row, not a signed event; but the
administrator proves who they are exactly as for a signature — their password
unseals their own key, under their own lockout — so a locked administrator cannot
unlock anyone. When no administrator can sign any more, the ledger's own user
(``--by ledger``, whose key the master secret in CUSTODY_HOME opens) can: whoever
holds that secret already controls the ledger.
"""

from __future__ import annotations

from domain.errors import InvalidInput, NotFound, RuleViolation
from domain.events import Role
from domain.staff import StaffMember, staff_id_for
from domain.text import checked_text
from ledger.service import CustodyLedger
from ledger.signing_lockout import Channel, LockState

UNLOCKERS = frozenset({Role.ADMIN.value, Role.SYSTEM.value})


def unlock_signing(
    ledger: CustodyLedger,
    username: str,
    *,
    by: str,
    password: str | None,
    reason: str,
    channel: Channel,
    session: str | None = None,
    by_field: str = "by",
) -> LockState:
    """Lift ``username``'s signing lock on ``by``'s authority; the state it had (count, since when)."""
    text = checked_text(reason or "", "reason", free_text=True).strip()
    if not text:
        raise InvalidInput("reason is required to unlock signing: say why it is safe now", field="reason",
                           rule="reason_required")  # fmt: skip
    target = ledger.load(staff_id_for(username))
    if not isinstance(target, StaffMember):
        raise NotFound(f"no staff member is registered as {username!r}", field="username")
    _, member = ledger.actor(by)
    if member.role not in UNLOCKERS:
        raise RuleViolation(
            f"{by} is a {member.role}: only an administrator unlocks signing", field=by_field, rule="role_not_allowed"
        )
    ledger.signer_for(member, password, session, channel=channel)  # proves who unlocks (their own lockout applies)
    return ledger.signing_lockout.unlock(username, by=by, reason=text, channel=channel)
