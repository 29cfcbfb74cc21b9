"""The trust anchor: every public key the ledger ever had, one base64 key per line in ledger.pub.

Written by ``ledger.setup`` at initialisation and at each ledger-key rotation; read
here by every verifier — the CLI, the HTTP API, the web pages and the offline
bundle check, which must open no store and so cannot go through ``ledger.setup``.
"""

from __future__ import annotations

import base64
from pathlib import Path

LEDGER_PUBLIC_KEY_FILE = "ledger.pub"


def read_trust_anchor(path: Path) -> set[bytes]:
    """The keys in a trust-anchor file; ``OSError`` if unreadable, ``ValueError`` if a line is not base64."""
    return {base64.b64decode(line, validate=True) for line in path.read_text(encoding="ascii").split()}


def home_trust_anchor(home: Path) -> set[bytes] | None:
    """The keys in CUSTODY_HOME/ledger.pub, or None when there is no such file."""
    path = home / LEDGER_PUBLIC_KEY_FILE
    return read_trust_anchor(path) if path.exists() else None
