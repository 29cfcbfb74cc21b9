"""Reads from a PostgreSQL streaming replica, and read-your-writes on top of it.

Past one machine, the primary takes the writes and the signatures, and hot-standby
replicas (PostgreSQL physical streaming replication) serve the reads: product status,
histories, verification and exports (README "Past one machine"). A replica lags the
primary by a few milliseconds to seconds. A person who has just recorded a step and
opens the product must see it, so a read that must see a given log position waits
up to ``CUSTODY_REPLICA_WAIT_MS`` for the replica to reach it and then reads the
primary instead: never an answer older than the caller's own write.

The position a replica has reached is the lowest position its read models were
derived to (the followers' tracking rows, replicated with their tables in the same
transactions), since a read answers from those tables, not from the raw log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ledger.settings import Settings
from ledger.store import EventStore

Position = Callable[[EventStore], int]


@dataclass
class ReadReplica:
    """The replica's store (read-only) and how to tell how far it has got."""

    store: EventStore
    position_of: Position
    wait_seconds: float
    poll_seconds: float = 0.01

    @classmethod
    def open(cls, settings: Settings, position_of: Position) -> ReadReplica | None:
        """The configured replica, or None when CUSTODY_READ_DATABASE_URL is unset."""
        if not settings.read_database_url:
            return None
        store = EventStore(settings.model_copy(update={"database_url": settings.read_database_url}))
        store.read_only = True
        return cls(store, position_of, settings.replica_wait_ms / 1000)

    def position(self) -> int:
        """The log position every read model on the replica has reached."""
        return self.position_of(self.store)

    def reached(self, wanted: int) -> bool:
        """Whether the replica has reached ``wanted``, waiting up to ``wait_seconds`` for it."""
        deadline = time.monotonic() + self.wait_seconds
        while True:
            if wanted <= 0 or self.position() >= wanted:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.poll_seconds)

    def close(self) -> None:
        """Release the replica's connections."""
        self.store.close()
