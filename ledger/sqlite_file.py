"""How to open the SQLite file: read-write when this process may write it, read-only otherwise.

SQLite in WAL mode needs to create the ``-wal`` and ``-shm`` files beside the
database even to read it. A database on a read-only file system (or in a
directory this process cannot write) therefore failed at the very first
connection with "attempt to write a readonly database", so nothing could be
read, not even to verify it. Opened with ``mode=ro`` the same file serves reads
and refuses writes with SQLite's own read-only error (``storage_read_only``).
When no writer has the database open (no ``-wal``/``-shm`` files) and none can
be created, the file cannot change under us, and ``immutable=1`` lets SQLite read
it without the shared-memory file.
"""

from __future__ import annotations

import os
from pathlib import Path


def read_only(path: Path) -> bool:
    """Whether an existing database file cannot be written by this process (file, directory or file system)."""
    return path.exists() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def sqlite_location(path: Path) -> str:
    """What to hand SQLite (which eventsourcing opens with ``uri=True``): the path, or a read-only URI."""
    if not read_only(path):
        return str(path)
    uri = f"{path.resolve().as_uri()}?mode=ro"
    companions = (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
    if not os.access(path.parent, os.W_OK) and not any(companion.exists() for companion in companions):
        uri += "&immutable=1"
    return uri
