"""The one settings object: read from the environment (``CUSTODY_*``), documented in the README."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.errors import InvalidInput
from ledger.signed_note import NoteError
from ledger.witness import WitnessKey, parse_vkey


class Settings(BaseSettings):
    """Where the ledger lives and how it behaves; every field has a sane default."""

    model_config = SettingsConfigDict(env_prefix="CUSTODY_", extra="ignore")

    home: Path = Field(default=Path(".custody"), description="Keys, master secret and the default SQLite file.")
    database_url: str | None = Field(
        default=None,
        description="postgresql://user[:password]@host[:port]/db[?schema=S]; unset means SQLite in CUSTODY_HOME.",
    )
    read_database_url: str | None = Field(
        default=None,
        description="A PostgreSQL streaming replica of CUSTODY_DATABASE_URL (same database and schema): product "
        "reads, verification and exports are served from it; writes and signing stay on the primary.",
    )
    replica_wait_ms: int = Field(
        default=500, ge=0, le=60_000,
        description="How long a read that must see the caller's own write waits for the replica before it reads "
        "the primary instead.",
    )  # fmt: skip
    facility: str = Field(default="F9999", description="ISBT 128 facility identification number (FIN) of this site.")
    signing_idle_minutes: float = Field(
        default=10.0, description="Within this idle period a signer is not asked for the password again."
    )
    kdf_time_cost: int = 3
    kdf_memory_kib: int = 65536
    kdf_parallelism: int = 4
    catalogue_file: Path | None = Field(default=None, description="JSON file overriding the product catalogue.")
    verify_workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        description="Verification worker processes, one per core (a log under 10 000 events is checked in-process).",
    )
    lock_timeout_seconds: int = 5
    checkpoint_every_events: int = Field(default=1000, description="Sign a checkpoint after this many new events.")
    checkpoint_every_minutes: float = Field(default=60.0, description="…or when the last one is this old.")
    rcp_evaluation_max_age_days: int = Field(
        default=92, description="How many days before an RCP meeting its evaluations may date (three months)."
    )
    rcp_decision_valid_days: int = Field(
        default=92, description="How many days an RCP decision counts, to enrolment and to collection."
    )
    msc_follow_up: str | None = Field(
        default=None, description="MSC follow-up visits, e.g. 'day 7, day 28, month 3, month 6, month 12'."
    )
    timezone: str = Field(default="Europe/Paris", description="The site's time zone, for times in web forms.")
    token_minutes: float = Field(default=30.0, gt=0, description="How long an HTTP API sign-in (bearer token) lasts.")
    login_max_failures: int = Field(default=5, ge=1, description="Failed sign-ins in a row that lock an account.")
    login_lockout_minutes: float = Field(default=15.0, gt=0, description="How long a locked account stays locked.")
    signing_max_failures: int = Field(
        default=5,
        ge=1,
        le=100,
        description=(
            "Wrong signing passwords in a row (any channel) that lock a person's signing until an administrator "
            "unlocks it (21 CFR Part 11 §11.300(d)); separate from the sign-in lockout."
        ),
    )
    max_body_bytes: int = Field(
        default=256 * 1024,
        ge=4096,
        le=16 * 1024 * 1024,
        description="Largest HTTP request body accepted; a larger one is refused (413) before it is read whole.",
    )
    max_document_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        le=256 * 1024 * 1024,
        description="Largest document stored (`custody document add`, POST /documents); README, 'Documents'.",
    )
    documents_required: str = Field(
        default="",
        description=(
            "Steps recorded only with their document: event types (every document field) or Type.field, separated "
            "by commas, e.g. 'QcResultsRecorded,ShipmentReceived.document'. Empty: documents are optional."
        ),
    )

    bedside_check_valid_minutes: int = Field(
        default=30,
        ge=1,
        le=240,
        description=(
            "How long the two bedside checks vouch for the patient in the bed before infusion starts. Thirty "
            "minutes covers the checks, connecting the line and the last vital signs, and fits inside the shortest "
            "thaw-to-infusion windows, while a patient moved, a bed changed or a shift handed over in between "
            "means checking again."
        ),
    )

    alert_scan_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="How often `custody serve` scans the running deadlines and raises their alerts "
        "(DeadlineAlertRaised); 0: the server scans nothing, and `custody alerts run` is run beside it.",
    )

    webhook_give_up_minutes: float = Field(
        default=1440.0,
        gt=0,
        le=525_600,
        description="How long a webhook delivery is retried (backoff from 1 s to 5 min) before it is given up, "
        "reported in the audit log and `custody webhook status`; docs/webhooks.md.",
    )

    witnesses: str = Field(
        default="",
        description=(
            "C2SP tlog-witnesses that cosign each checkpoint: 'URL=KEYFILE' entries separated by ';', where URL "
            "is where the witness listens (http:// or https://, no '=') and KEYFILE its verifier-key file "
            "(witness.vkey, as `custody witness init` prints it). Empty: no witness."
        ),
    )

    @field_validator("witnesses")
    @classmethod
    def _readable_witnesses(cls, value: str) -> str:
        """Refuse at start-up a witness entry that could never be used, rather than at the first checkpoint."""
        witness_entries(value)
        return value

    @field_validator("documents_required")
    @classmethod
    def _known_document_fields(cls, value: str) -> str:
        """Refuse at start-up a required document that no step references (a typo would require nothing)."""
        required_document_fields(value)
        return value

    @field_validator("read_database_url")
    @classmethod
    def _replica_is_postgres(cls, value: str | None) -> str | None:
        """A replica is a PostgreSQL URL (SQLite has no replicas); refused at start-up, not at the first read."""
        scheme = urlparse(value).scheme if value else ""
        if value and scheme not in {"postgresql", "postgres", "postgresql+psycopg"}:
            raise ValueError(f"CUSTODY_READ_DATABASE_URL must start with postgresql:// (got {scheme!r})")
        return value or None

    @model_validator(mode="after")
    def _replica_of_a_primary(self) -> Settings:
        """A replica without a PostgreSQL primary cannot be what it claims."""
        if self.read_database_url and not self.database_url:
            raise ValueError("CUSTODY_READ_DATABASE_URL needs CUSTODY_DATABASE_URL: a replica of a PostgreSQL primary")
        return self

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """Refuse at start-up a zone the web forms could not read times in (not at the first form)."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Paris)") from None
        return value

    @property
    def sqlite_path(self) -> Path:
        """The SQLite file used when no database URL is configured."""
        return self.home / "custody.sqlite3"

    @property
    def backend(self) -> str:
        """'postgresql' or 'sqlite'."""
        return "postgresql" if self.database_url else "sqlite"


def required_document_fields(text: str) -> frozenset[str]:
    """The ``Type.field`` document fields a CUSTODY_DOCUMENTS_REQUIRED value names; ``ValueError`` naming a bad one."""
    from domain.document_rules import parse_required
    from domain.registry import EVENT_TYPES

    try:
        return parse_required(text, EVENT_TYPES)
    except InvalidInput as error:
        raise ValueError(error.message) from None


def witness_entries(text: str) -> list[tuple[str, WitnessKey]]:
    """The (URL, verifier key) pairs of a CUSTODY_WITNESSES value; ``ValueError`` naming the bad entry."""
    entries: list[tuple[str, WitnessKey]] = []
    for entry in (part.strip() for part in text.split(";")):
        if not entry:
            continue
        url, separator, keyfile = entry.partition("=")
        if not separator or urlparse(url).scheme not in {"http", "https"} or not urlparse(url).netloc:
            raise ValueError(f"{entry!r} is not URL=KEYFILE with an http:// or https:// URL")
        try:
            key = parse_vkey(Path(keyfile).read_text(encoding="ascii"))
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"witness key file {keyfile!r} cannot be read: {error}") from None
        except NoteError as error:
            raise ValueError(f"witness key file {keyfile!r}: {error}") from None
        if any(known.name == key.name for _, known in entries):
            raise ValueError(f"witness {key.name} is configured twice")
        entries.append((url, key))
    return entries


def postgres_parts(url: str) -> dict[str, str]:
    """Split a postgresql:// URL into the parts eventsourcing and yoyo need."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgresql", "postgres", "postgresql+psycopg"}:
        raise ValueError(f"CUSTODY_DATABASE_URL must start with postgresql:// (got {parsed.scheme!r})")
    query = parse_qs(parsed.query)
    return {
        "host": parsed.hostname or "127.0.0.1",
        "port": str(parsed.port or 5432),
        "user": unquote(parsed.username or "postgres"),
        "password": unquote(parsed.password or ""),
        "dbname": (parsed.path or "/").lstrip("/") or "postgres",
        "schema": query.get("schema", ["public"])[0],
    }


def postgres_connection(url: str, *, autocommit: bool = False) -> psycopg.Connection[tuple[Any, ...]]:
    """A direct connection to the database ``url`` names (migrations, backup, restore), failing within 5 s."""
    parts = postgres_parts(url)
    return psycopg.connect(
        host=parts["host"],
        port=int(parts["port"]),
        user=parts["user"],
        password=parts["password"] or None,
        dbname=parts["dbname"],
        connect_timeout=5,
        autocommit=autocommit,
    )


def load_settings() -> Settings:
    """The settings from the environment, or a refusal naming the first bad variable (not a traceback)."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = "CUSTODY_" + "_".join(str(part) for part in first["loc"]).upper()
        raise InvalidInput(
            f"{name}={first.get('input')!r}: {first['msg']}", field=name, rule="invalid_setting"
        ) from None
