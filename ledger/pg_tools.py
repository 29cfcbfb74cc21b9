"""PostgreSQL's own client programs (pg_dump, psql) as backup and restore use them.

pg_dump is the one tool that copies a live schema consistently (inside an exported
snapshot) with its types, functions, triggers and privileges. Connection details go
to the tools through the ``PG*`` environment, never on their command line, where
every user of the machine could read the password.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

from domain.errors import InvalidInput

# Names pg_dump writes without quotes (and that need no pattern escaping): the only ones a restore renames.
PLAIN_SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class ToolMissing(Exception):
    """A PostgreSQL client program is not installed where we look for it."""


def find_tool(name: str) -> str:
    """The path of ``name`` on PATH, else the newest /usr/lib/postgresql/<version>/bin; or ``ToolMissing``."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda path: int(re.sub(r"\D", "", Path(path).parts[-3]) or 0),
    )
    if candidates:
        return candidates[-1]
    raise ToolMissing(
        f"{name} was not found on PATH nor under /usr/lib/postgresql/*/bin: install the PostgreSQL client "
        f"programs of the server's major version (Debian: apt-get install postgresql-client) and try again"
    )


def tool_env(parts: dict[str, str]) -> dict[str, str]:
    """The environment that points a PostgreSQL client at the configured database."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PG")}
    env.update(
        {
            "PGHOST": parts["host"],
            "PGPORT": parts["port"],
            "PGUSER": parts["user"],
            "PGDATABASE": parts["dbname"],
            "PGCONNECT_TIMEOUT": "5",
        }
    )
    if parts["password"]:
        env["PGPASSWORD"] = parts["password"]
    return env


def check_schema_name(schema: str, field: str) -> str:
    """Refuse a schema name a dump could not be renamed from or to without rewriting quoted text."""
    if not PLAIN_SCHEMA.fullmatch(schema):
        raise InvalidInput(
            f"schema {schema!r}: backup and restore support lower-case schema names of letters, digits and _",
            field=field,
            rule="unsupported_schema_name",
        )
    return schema


def renamed_dump(lines: Iterable[str], source: str, target: str) -> Iterator[str]:
    """pg_dump's plain SQL with the schema ``source`` renamed ``target``, and no CREATE SCHEMA.

    Only statements are rewritten, never the rows between ``COPY … FROM stdin;`` and ``\\.``:
    a stored event that happens to contain the schema's name stays byte for byte as it was.
    The target schema is created (empty) by the restore itself.
    """
    qualified = re.compile(rf'(?<![\w$"]){re.escape(source)}(?=\.)|"{re.escape(source)}"(?=\.)')
    on_schema = re.compile(rf"(\bSCHEMA ){re.escape(source)}\b")
    in_copy = False
    for line in lines:
        if in_copy:
            in_copy = line.rstrip("\n") != "\\."
            yield line
            continue
        if line.startswith("CREATE SCHEMA "):
            continue
        if line.startswith("COPY ") and line.rstrip().endswith("FROM stdin;"):
            in_copy = True
        if source != target:
            line = on_schema.sub(rf"\g<1>{target}", qualified.sub(target, line))
        yield line


class ToolFailed(Exception):
    """A PostgreSQL client program ran and failed; its own message says why."""


def run_tool(command: list[str], parts: dict[str, str], **variables: str) -> None:
    """Run pg_dump or psql against the configured database; ``ToolFailed`` with its last lines on failure."""
    for name, value in variables.items():
        command += ["-v", f"{name}={value}"]
    result = subprocess.run(command, env=tool_env(parts), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise ToolFailed(f"{Path(command[0]).name} failed (exit {result.returncode}): {tail}")
