"""Apply the SQL migrations of migrations/ with yoyo, on SQLite or PostgreSQL.

Every table is created here, never by the eventsourcing library behind our
back, so what a database holds is what migrations/ says.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import psycopg
from yoyo import get_backend, read_migrations

from ledger.settings import Settings, postgres_connection, postgres_parts

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def yoyo_url(settings: Settings) -> str:
    """The yoyo connection URL for our settings."""
    if not settings.database_url:
        settings.home.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{settings.sqlite_path}"
    parts = postgres_parts(settings.database_url)
    credentials = quote(parts["user"]) + (f":{quote(parts['password'])}" if parts["password"] else "")
    return (
        f"postgresql+psycopg://{credentials}@{parts['host']}:{parts['port']}/{parts['dbname']}?schema={parts['schema']}"
    )


def ensure_schema(settings: Settings) -> None:
    """Create the PostgreSQL schema named in the URL if it does not exist yet."""
    if not settings.database_url:
        return
    schema = postgres_parts(settings.database_url)["schema"]
    with postgres_connection(settings.database_url, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(psycopg.sql.Identifier(schema)))


def apply_migrations(settings: Settings) -> list[str]:
    """Apply what is pending, under yoyo's lock; return the ids applied now."""
    ensure_schema(settings)
    backend = get_backend(yoyo_url(settings))
    migrations = read_migrations(str(MIGRATIONS / settings.backend))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    applied = [migration.id for migration in pending]
    backend.connection.close()
    return applied
