"""The PostgreSQL connection pool, made to serve again within seconds of the database coming back.

eventsourcing builds a psycopg_pool ``ConnectionPool`` and leaves its
``reconnect_timeout`` at five minutes. While the database is away, every lost
connection is retried in the background with exponential backoff (1, 2, 4, 8,
16 s…) and still counts as one of the pool's connections, so a request arriving
after the database is back waited for the next scheduled attempt — about 20 s
after a cut of 15 s, longer after a longer one — well past the ``Retry-After``
the server had announced. With a short ``reconnect_timeout`` the pool gives a
lost connection up after ``RECONNECT_SECONDS``; the next request then grows the
pool with an immediate connection attempt, which succeeds as soon as the
database answers.

``eventsourcing_env`` (ledger/store.py) names ``CustodyPostgresFactory`` as the
persistence module; recorders and datastore are eventsourcing's own.
"""

from __future__ import annotations

from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment, EnvType

RECONNECT_SECONDS = 2.0
FACTORY_TOPIC = "ledger.postgres_pool:CustodyPostgresFactory"


class CustodyPostgresFactory(PostgresFactory):
    """eventsourcing's PostgreSQL factory, with a pool that gives lost connections up quickly."""

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        self.datastore.pool.reconnect_timeout = RECONNECT_SECONDS
