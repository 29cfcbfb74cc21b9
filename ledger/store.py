"""Persistence through ``eventsourcing``: one application recorder, SQLite or PostgreSQL.

The ledger's events are stored by an ``eventsourcing`` ``Application`` whose
mapper writes each envelope's canonical bytes as the stored state, unchanged:
what is hashed and signed is exactly what is on disk, and nothing is encoded
twice. Migrations own every table (``CREATE_TABLE=n``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Mapper, Notification, StoredEvent

from domain.errors import InvalidInput
from ledger.envelope import Envelope, EnvelopeError
from ledger.recorders import InTransaction, recorder_topic
from ledger.settings import Settings, postgres_parts
from ledger.side_cursor import SideCursor as SideCursor

APPLICATION_NAME = "Custody"


class StoredRow(NamedTuple):
    """One row of the event table: log position, aggregate id as text, version, topic, stored bytes."""

    id: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes | str


# A signed step is a record, not a document (README, "Limits"). The bounds also keep every write far below the
# message size at which psycopg's pipeline mode (which eventsourcing's PostgreSQL recorder uses) can wait forever
# on a half-sent INSERT while holding the event table's lock: measured here at about 10 MB.
MAX_EVENT_BYTES = 128 * 1024
MAX_APPEND_BYTES = 1024 * 1024


class EventTooLarge(InvalidInput):
    """A step whose signed envelope exceeds the stored event's maximum size."""

    rule = "event_too_large"


class ConcurrentChange(Exception):
    """Someone else recorded a step on the same aggregate first: reload and try again."""

    rule = "concurrent_change"


@dataclass(frozen=True)
class SignedEvent:
    """An envelope as eventsourcing sees a domain event (id, version, and opaque state)."""

    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


class EnvelopeMapper(Mapper[UUID]):
    """Stores the envelope's canonical bytes as they are; the topic is the event type."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """Hand the signed bytes to the recorder without re-encoding them."""
        assert isinstance(domain_event, SignedEvent)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=domain_event.topic,
            state=domain_event.state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """Wrap stored bytes back; decoding and checking is the caller's choice."""
        originator_id = stored_event.originator_id
        return SignedEvent(
            originator_id=originator_id if isinstance(originator_id, UUID) else UUID(originator_id),
            originator_version=stored_event.originator_version,
            topic=stored_event.topic,
            state=stored_event.state,
        )


class CustodyApplication(Application[UUID]):
    """The eventsourcing application that holds the custody event log."""

    name = APPLICATION_NAME

    def construct_mapper(self) -> Mapper[UUID]:
        """Use the envelope mapper so stored bytes are the signed bytes."""
        return EnvelopeMapper(transcoder=self.construct_transcoder())


def eventsourcing_env(settings: Settings, *, create_table: bool = False) -> dict[str, str]:
    """Translate our settings into the environment eventsourcing reads.

    PostgreSQL goes through ``CustodyPostgresFactory``, whose pool reconnects within
    seconds once the database is back (ledger/postgres_pool.py). An SQLite file this
    process cannot write (a read-only file, directory or file system) is opened
    read-only, so that reads are served and writes refused as ``storage_read_only``
    rather than failing at the first connection.
    """
    from ledger.postgres_pool import FACTORY_TOPIC as POSTGRES_FACTORY_TOPIC
    from ledger.sqlite_file import sqlite_location

    env = {"CREATE_TABLE": "y" if create_table else "n", "IS_SNAPSHOTTING_ENABLED": "n"}
    if settings.database_url:
        parts = postgres_parts(settings.database_url)
        env.update(
            {
                "PERSISTENCE_MODULE": POSTGRES_FACTORY_TOPIC,
                "POSTGRES_DBNAME": parts["dbname"],
                "POSTGRES_HOST": parts["host"],
                "POSTGRES_PORT": parts["port"],
                "POSTGRES_USER": parts["user"],
                "POSTGRES_PASSWORD": parts["password"],
                "POSTGRES_SCHEMA": parts["schema"],
                "POSTGRES_LOCK_TIMEOUT": str(settings.lock_timeout_seconds),
                "POSTGRES_CONNECT_TIMEOUT": "5",
                "POSTGRES_PRE_PING": "y",
            }
        )
    else:
        settings.home.mkdir(parents=True, exist_ok=True)
        env.update(
            {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": sqlite_location(settings.sqlite_path),
                "SQLITE_LOCK_TIMEOUT": str(settings.lock_timeout_seconds),
            }
        )
    return env


def parse_envelope(state: bytes | str) -> Envelope:
    """Decode stored bytes for replay, without verifying (the verifier does that)."""
    try:
        outer = json.loads(state)
        stored = state.encode("utf-8", "surrogateescape") if isinstance(state, str) else bytes(state)
        return Envelope(body=outer["body"], hash=outer["hash"], signature=outer["signature"], stored=stored)
    except (ValueError, KeyError, TypeError) as error:
        raise EnvelopeError(f"undecodable record: {error}") from error


RETRIED_METHODS = ("insert_events", "select_events", "select_notifications", "max_notification_id")


def _fail_fast(recorder: Any) -> None:
    """Call the PostgreSQL recorder's methods once, without eventsourcing's ten retries.

    Each attempt waits the pool's timeout (POSTGRES_CONNECT_TIMEOUT) for a connection,
    so with the database away a request waited ten times that (about 50 s) before
    its 503. The pool already pre-pings and replaces broken connections, and the
    HTTP client retries after ``Retry-After`` with its Idempotency-Key.
    """
    for name in RETRIED_METHODS:
        once = getattr(getattr(type(recorder), name, None), "__wrapped__", None)
        if once is not None:
            setattr(recorder, name, once.__get__(recorder))


class EventStore:
    """Append envelopes atomically, read one aggregate's history, scan the whole log."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        env = eventsourcing_env(settings)
        env["APPLICATION_RECORDER_TOPIC"] = recorder_topic(settings.backend)
        self.app = CustodyApplication(env=env)
        self.recorder = self.app.recorder
        # A store on a streaming replica (ledger/read_replica.py) is read, never written: followers do not catch up
        # on it, since the primary derives the read models and the replica receives them with the events.
        self.read_only = False
        if self.backend == "postgresql":
            _fail_fast(self.recorder)

    @property
    def backend(self) -> str:
        """'postgresql' or 'sqlite'."""
        return self.settings.backend

    def after_migrations(self) -> None:
        """Let the PostgreSQL recorder find the composite type a migration just created."""
        datastore: Any = getattr(self.recorder, "datastore", None)
        if self.backend == "postgresql" and datastore is not None:
            datastore.register_type_adapters()

    def append(self, envelopes: Sequence[Envelope], in_transaction: Sequence[InTransaction] = ()) -> list[int]:
        """Store envelopes in one transaction; ``ConcurrentChange`` if a version is taken.

        ``in_transaction`` are side-table writes that must commit with these events or
        not at all (an idempotency key's answer). An envelope larger than
        ``MAX_EVENT_BYTES`` is refused before anything is written.
        """
        for envelope in envelopes:
            if len(envelope.stored) > MAX_EVENT_BYTES:
                raise EventTooLarge(
                    f"a {envelope.type} event of {len(envelope.stored)} bytes is larger than the "
                    f"{MAX_EVENT_BYTES} bytes a stored event may take",
                    field="payload",
                    rule="event_too_large",
                )
        total = sum(len(envelope.stored) for envelope in envelopes)
        if total > MAX_APPEND_BYTES:
            raise EventTooLarge(
                f"this step's {len(envelopes)} events take {total} bytes, more than the {MAX_APPEND_BYTES} bytes "
                "one write may store",
                field="payload",
                rule="event_too_large",
            )
        events = [
            SignedEvent(envelope.aggregate_id, envelope.version, envelope.type, envelope.stored)
            for envelope in envelopes
        ]
        try:
            # EventStore.put, not Application.save: our events are not eventsourcing
            # aggregates, so the aggregate collection and its protocol checks are skipped.
            recordings = self.app.events.put(events, in_transaction=in_transaction)
        except IntegrityError as error:
            raise ConcurrentChange(
                "another step was recorded on this product at the same moment; reload it and try again"
            ) from error
        return [recording.notification.id for recording in recordings]

    def history(self, aggregate_id: UUID) -> list[Envelope]:
        """Every envelope of one aggregate, in version order."""
        return [parse_envelope(stored.state) for stored in self.recorder.select_events(aggregate_id)]

    def stored_history(self, aggregate_id: UUID) -> Sequence[StoredEvent]:
        """The raw stored rows of one aggregate (for verification and export)."""
        return self.recorder.select_events(aggregate_id)

    def scan(self, start: int = 1, batch: int = 1000, topics: Sequence[str] = ()) -> Iterator[Notification]:
        """Every stored row in log order, read in batches."""
        position = start
        while True:
            rows = self.recorder.select_notifications(position, batch, topics=topics)
            if not rows:
                return
            yield from rows
            position = rows[-1].id + 1

    def raw_rows(self, start: int, limit: int) -> list[StoredRow]:
        """Stored rows from log position ``start``, as they are in the table, with the least decoding.

        The verifier reads the whole log through this: it wants the stored bytes and
        columns exactly, and skips building UUIDs and eventsourcing notifications it
        would only turn back into text.
        """
        datastore: Any = self.recorder.datastore  # type: ignore[attr-defined]
        if self.backend == "sqlite":
            sql = (
                "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events"
                " WHERE rowid >= ? ORDER BY rowid LIMIT ?"
            )
        else:
            table = f'"{datastore.schema}"."{self.recorder.events_table_name}"'  # type: ignore[attr-defined]
            sql = (
                f"SELECT notification_id, originator_id::text, originator_version, topic, state FROM {table}"
                " WHERE notification_id >= %s ORDER BY notification_id LIMIT %s"
            )
        with datastore.transaction(commit=False) as cursor:
            cursor.execute(sql, (start, limit))
            fetched = cursor.fetchall()
        return [StoredRow(*(row.values() if isinstance(row, dict) else row)) for row in fetched]

    def aggregate_rows(self, aggregate_id: UUID) -> list[StoredRow]:
        """One aggregate's stored rows with their log positions, as they are in the table."""
        datastore: Any = self.recorder.datastore  # type: ignore[attr-defined]
        if self.backend == "sqlite":
            sql = (
                "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events"
                " WHERE originator_id = ? ORDER BY originator_version"
            )
            key: str = aggregate_id.hex
        else:
            table = f'"{datastore.schema}"."{self.recorder.events_table_name}"'  # type: ignore[attr-defined]
            sql = (
                f"SELECT notification_id, originator_id::text, originator_version, topic, state FROM {table}"
                " WHERE originator_id = %s ORDER BY originator_version"
            )
            key = str(aggregate_id)
        with datastore.transaction(commit=False) as cursor:
            cursor.execute(sql, (key,))
            fetched = cursor.fetchall()
        return [StoredRow(*(row.values() if isinstance(row, dict) else row)) for row in fetched]

    def head_sql(self) -> str:
        """SQL for the last stored position (0 when empty), to read inside a side transaction."""
        if self.backend == "sqlite":
            return "SELECT COALESCE(MAX(rowid), 0) FROM stored_events"
        return f"SELECT COALESCE(MAX(notification_id), 0) FROM {self.recorder.events_table_name}"  # type: ignore[attr-defined]

    def size(self) -> int:
        """The position of the last stored event (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    @contextmanager
    def side_transaction(self) -> Iterator[SideCursor]:
        """A transaction on the same database, for the side tables (keys, identities, meta)."""
        datastore: Any = self.recorder.datastore  # type: ignore[attr-defined]
        with datastore.transaction(commit=True) as cursor:
            if self.backend == "postgresql":
                cursor.execute("SELECT set_config('search_path', %s, true)", (datastore.schema or "public",))
            yield SideCursor(cursor, self.backend)

    def close(self) -> None:
        """Release connections."""
        self.app.close()
