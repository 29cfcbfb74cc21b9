"""What every request handler shares: the open ledger and the HTTP API's own stores.

One ``ApiContext`` per application, opened at start-up and closed at shutdown.
Handlers receive it through ``context`` (a FastAPI dependency), so tests build an
application on a scratch store with a frozen clock and nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request

from api.rest.read_routing import read_models_position
from api.rest.tokens import InvalidToken, Principal, Token, TokenService
from domain.events import Actor, Role
from domain.staff import StaffMember, staff_id_for
from domain.text import text_problem
from ledger.clock import Clock
from ledger.credentials import Credentials, LockoutPolicy, SignIn
from ledger.idempotency import IdempotencyKeys
from ledger.read_replica import ReadReplica
from ledger.secrets import derive_key
from ledger.service import CustodyLedger
from ledger.settings import Settings


@dataclass(frozen=True)
class SignInResult:
    """How a sign-in ended: who, with which token, or until when the account is locked."""

    outcome: SignIn
    principal: Principal | None
    locked_until: datetime | None
    token: Token | None = None


@dataclass
class ApiContext:
    """The ledger and the stores beside it."""

    ledger: CustodyLedger
    credentials: Credentials
    idempotency: IdempotencyKeys
    tokens: TokenService
    replica: ReadReplica | None = None
    # The log position each person's last write reached, for read-your-writes on the replica (api/rest/read_routing.py).
    last_writes: dict[str, int] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings, clock: Clock | None = None) -> ApiContext:
        """Open the configured store (it must have been initialised)."""
        ledger = CustodyLedger(settings, clock=clock)
        policy = LockoutPolicy(settings.login_max_failures, timedelta(minutes=settings.login_lockout_minutes))
        return cls(
            ledger=ledger,
            credentials=Credentials(ledger.store, ledger.keys, ledger.kdf, policy),
            idempotency=IdempotencyKeys(ledger.store),
            tokens=TokenService(
                derive_key(settings.home, "api-tokens"), timedelta(minutes=settings.token_minutes), ledger.clock
            ),
            replica=ReadReplica.open(settings, read_models_position),
        )

    staff_seconds: float = 5.0
    _staff: dict[str, tuple[datetime, Actor]] = field(default_factory=dict)

    def actor(self, username: str) -> Actor:
        """The registered person behind a username, re-read from the ledger at most every few seconds.

        Every request confirms its token's user and role; replaying the staff member's events
        each time cost more than the status read itself. A role change or a removal is seen
        within ``staff_seconds``; signing always reloads the person and their keys.
        """
        cached = self.cached_actor(username)
        if cached is not None:
            return cached
        actor, _ = self.ledger.actor(username)
        self._staff[username] = (self.ledger.clock.now(), actor)
        return actor

    def cached_actor(self, username: str) -> Actor | None:
        """The person, if read from the ledger less than ``staff_seconds`` ago (no database access)."""
        cached = self._staff.get(username)
        if cached is not None and (self.ledger.clock.now() - cached[0]).total_seconds() < self.staff_seconds:
            return cached[1]
        return None

    def sign_in(self, username: str, password: str) -> SignInResult:
        """Check a password (counting failures, refusing while locked); a token when it is right.

        The one sign-in of the HTTP API and the web pages: the ledger's own user and
        anyone unknown are refused exactly like a wrong password. The right enrolment secret
        gives ``PASSWORD_CHANGE_REQUIRED`` and a token that opens only the password change.
        """
        if text_problem(username) is not None:  # no one can be registered under it: refused, nothing counted
            return SignInResult(SignIn.REFUSED, None, None)
        member = self.ledger.load(staff_id_for(username))
        staff = member if isinstance(member, StaffMember) and member.role != Role.SYSTEM else None
        active_key = staff.active_keys[-1] if staff is not None and staff.active_keys else None
        attempt = self.credentials.sign_in(username, password, active_key, self.ledger.clock.now())
        if attempt.outcome is SignIn.PASSWORD_CHANGE_REQUIRED and staff is not None:
            token = self.tokens.issue(staff.username, staff.role, password_change_only=True)
            principal = Principal(staff.username, staff.role, staff.name, "", password_change_only=True)
            return SignInResult(SignIn.PASSWORD_CHANGE_REQUIRED, principal, None, token)
        if attempt.outcome is not SignIn.ACCEPTED or staff is None:
            proven = attempt.outcome in (SignIn.ACCEPTED, SignIn.PASSWORD_CHANGE_REQUIRED)
            outcome = SignIn.REFUSED if proven else attempt.outcome
            return SignInResult(outcome, None, attempt.locked_until)
        principal = Principal(staff.username, staff.role, staff.name, "")
        return SignInResult(SignIn.ACCEPTED, principal, None, self.tokens.issue(staff.username, staff.role))

    def confirm(self, claims: dict[str, Any], actor: Actor) -> Principal:
        """The person a valid token names, as the ledger knows them now; ``InvalidToken`` if their role changed."""
        if actor.role != claims["role"]:
            raise InvalidToken("your role changed since you signed in: sign in again")
        only = bool(claims.get("pwd", False))
        return Principal(actor.user_id, str(actor.role), actor.name, str(claims["sid"]), password_change_only=only)

    @property
    def settings(self) -> Settings:
        """The ledger's settings."""
        return self.ledger.settings

    def close(self) -> None:
        """Release database connections."""
        if self.replica is not None:
            self.replica.close()
        self.ledger.close()


def context_of(request: Request) -> ApiContext:
    """The application's context."""
    found: ApiContext = request.app.state.context
    return found


async def context(request: Request) -> ApiContext:
    """The application's context, for ``Depends`` (async: no thread hand-off for a lookup)."""
    return context_of(request)
