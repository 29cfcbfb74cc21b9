"""What every request handler shares: the open ledger and the HTTP API's own stores.

One ``ApiContext`` per application, opened at start-up and closed at shutdown.
Handlers receive it through ``context`` (a FastAPI dependency), so tests build an
application on a scratch store with a frozen clock and nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request

from api.rest.tokens import TokenService
from ledger.clock import Clock
from ledger.credentials import Credentials, LockoutPolicy
from ledger.idempotency import IdempotencyKeys
from ledger.secrets import derive_key
from ledger.service import CustodyLedger
from ledger.settings import Settings


@dataclass
class ApiContext:
    """The ledger and the stores beside it."""

    ledger: CustodyLedger
    credentials: Credentials
    idempotency: IdempotencyKeys
    tokens: TokenService

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
        )

    @property
    def settings(self) -> Settings:
        """The ledger's settings."""
        return self.ledger.settings

    def close(self) -> None:
        """Release database connections."""
        self.ledger.close()


def context(request: Request) -> ApiContext:
    """The application's context, for ``Depends``."""
    found: ApiContext = request.app.state.context
    return found
