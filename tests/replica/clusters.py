"""A PostgreSQL primary and its hot-standby replica, made for a test from the machine's own binaries.

The shared server of the test machine allows no replication connection, so the test
makes its own pair: ``initdb`` a primary in a temporary folder (its generated pg_hba
trusts local replication), start it on a free port, ``pg_basebackup -R`` a streaming
replica from it and start that too. Both run as the ``postgres`` system user (the
server refuses to run as root) and are stopped and removed afterwards.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.rest_bench import free_port

BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


@dataclass(frozen=True)
class Pair:
    """Where the primary and its replica listen."""

    primary_port: int
    replica_port: int
    folder: Path

    def url(self, port: int, schema: str) -> str:
        """The URL of one of the two, on the ``postgres`` database and a schema."""
        return f"postgresql://postgres@127.0.0.1:{port}/postgres?schema={schema}"


def unavailable(reason: str) -> None:
    """Fail in CI (the replica must be tested there), skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"cannot start a PostgreSQL replica in CI: {reason}")
    pytest.skip(f"cannot start a PostgreSQL replica here (with CI=true this fails): {reason}")


def _as_postgres(*command: str) -> None:
    prefix = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    done = subprocess.run([*prefix, *command], capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip() or done.stdout.strip()}")


@contextmanager
def primary_and_replica() -> Iterator[Pair]:
    """Start the pair; stop and remove both whatever happens."""
    if not BIN_DIRS or not (BIN_DIRS[0] / "initdb").exists():
        unavailable("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        unavailable("no postgres system user to run the servers as")
    bin_dir = BIN_DIRS[0]
    folder = Path(tempfile.mkdtemp(prefix="custody-replica-"))
    shutil.chown(folder, "postgres")
    primary, replica = folder / "primary", folder / "replica"
    ports = (free_port(), free_port())
    started: list[Path] = []
    try:
        _as_postgres(str(bin_dir / "initdb"), "-D", str(primary), "-A", "trust", "-U", "postgres", "--no-sync")
        options = f"-p {ports[0]} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_wal_senders=4"
        _as_postgres(str(bin_dir / "pg_ctl"), "-D", str(primary), "-o", options, "-l", f"{folder}/primary.log",
                     "-w", "start")  # fmt: skip
        started.append(primary)
        _as_postgres(str(bin_dir / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(ports[0]), "-U", "postgres",
                     "-D", str(replica), "-R", "-X", "stream")  # fmt: skip
        options = f"-p {ports[1]} -k {folder} -c listen_addresses=127.0.0.1 -c hot_standby=on"
        _as_postgres(str(bin_dir / "pg_ctl"), "-D", str(replica), "-o", options, "-l", f"{folder}/replica.log",
                     "-w", "start")  # fmt: skip
        started.append(replica)
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as error:
        for data in reversed(started):
            _stop(bin_dir, data)
        shutil.rmtree(folder, ignore_errors=True)
        unavailable(str(error))
    try:
        yield Pair(ports[0], ports[1], folder)
    finally:
        for data in reversed(started):
            _stop(bin_dir, data)
        shutil.rmtree(folder, ignore_errors=True)


def _stop(bin_dir: Path, data: Path) -> None:
    with suppress(RuntimeError, subprocess.TimeoutExpired):  # already stopped: the folder is removed next
        _as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
