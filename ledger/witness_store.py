"""A witness's own home: its Ed25519 key and, per log it follows, the log's key and latest cosigned checkpoint.

Everything lives in the witness's directory — ``witness.key`` (its name and private key,
readable by its owner only) and ``witness.sqlite3`` — never in the ledger's database:
a witness is a second party, so a ledger whose store is rewritten or restored cannot
also rewrite what the witness remembers.
"""

from __future__ import annotations

import base64
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from ledger.keys import KeyPair
from ledger.witness import WitnessKey

KEY_FILE = "witness.key"
PUBLIC_FILE = "witness.vkey"
DATABASE_FILE = "witness.sqlite3"
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS logs (origin TEXT PRIMARY KEY, public_key BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS latest (origin TEXT PRIMARY KEY REFERENCES logs (origin),"
    " tree_size INTEGER NOT NULL, root_hash BLOB NOT NULL, note TEXT NOT NULL)",
)


class WitnessSetupError(Exception):
    """The witness's home is missing, not initialised, or a log is already configured."""

    rule = "witness_setup"


@dataclass(frozen=True)
class Latest:
    """The latest checkpoint a witness cosigned for one log."""

    size: int
    root: bytes


class WitnessHome:
    """The directory of one witness."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def initialise(self, name: str) -> WitnessKey:
        """Create the key (once) and the store; return the public key to hand to the ledger's operator."""
        if not name or any(char.isspace() or char == "+" for char in name):
            raise WitnessSetupError("a witness name has no spaces and no '+' (e.g. witness.example/w1)")
        if (self.home / KEY_FILE).exists():
            raise WitnessSetupError(f"{self.home} already holds a witness key")
        self.home.mkdir(parents=True, exist_ok=True)
        pair = KeyPair.generate()
        descriptor = os.open(self.home / KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(f"{name}\n{base64.b64encode(pair.private_bytes()).decode()}\n")
        key = WitnessKey(name, pair.public_key)
        (self.home / PUBLIC_FILE).write_text(key.vkey() + "\n", encoding="ascii")
        with self.connection():
            pass
        return key

    def signer(self) -> tuple[str, KeyPair]:
        """The witness's name and key pair."""
        try:
            name, private = (self.home / KEY_FILE).read_text(encoding="ascii").split()
        except (OSError, ValueError):
            raise WitnessSetupError(f"{self.home} holds no witness key: run `custody witness init`") from None
        return name, KeyPair.from_private_bytes(base64.b64decode(private))

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A connection with autocommit off only inside ``BEGIN IMMEDIATE`` blocks the caller opens."""
        with closing(sqlite3.connect(self.home / DATABASE_FILE, isolation_level=None, timeout=10)) as connection:
            for statement in SCHEMA:
                connection.execute(statement)
            yield connection

    def add_log(self, origin: str, public_key: bytes) -> None:
        """Follow one more log, identified by its origin line and verified with its Ed25519 key."""
        if not origin or "\n" in origin:
            raise WitnessSetupError("a log origin is one non-empty line")
        if len(public_key) != 32:
            raise WitnessSetupError("a log key is a 32-byte Ed25519 public key")
        with self.connection() as connection:
            try:
                connection.execute("INSERT INTO logs (origin, public_key) VALUES (?, ?)", (origin, public_key))
            except sqlite3.IntegrityError:
                raise WitnessSetupError(f"the witness already follows {origin}") from None

    def log_key(self, connection: sqlite3.Connection, origin: str) -> bytes | None:
        """The configured key of a log, or None for an unknown origin."""
        row = connection.execute("SELECT public_key FROM logs WHERE origin = ?", (origin,)).fetchone()
        return None if row is None else bytes(row[0])

    def latest(self, connection: sqlite3.Connection, origin: str) -> Latest | None:
        """The latest cosigned checkpoint of a log (None before the first)."""
        row = connection.execute("SELECT tree_size, root_hash FROM latest WHERE origin = ?", (origin,)).fetchone()
        return None if row is None else Latest(int(row[0]), bytes(row[1]))

    def remember(self, connection: sqlite3.Connection, origin: str, size: int, root: bytes, note: str) -> None:
        """Record the checkpoint just cosigned as the log's latest."""
        connection.execute(
            "INSERT INTO latest (origin, tree_size, root_hash, note) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (origin) DO UPDATE SET tree_size = excluded.tree_size, root_hash = excluded.root_hash,"
            " note = excluded.note",
            (origin, size, root, note),
        )
