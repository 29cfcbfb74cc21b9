"""A form typed while the session ended: kept, sealed, and put back after sign-in.

A nurse who fills a step form at the bedside and is called away finds the session
expired when she presses "Sign". Nothing is recorded then (no session, no
signature), and losing what she typed would make her type it again from memory.
So the sign-in page carries the form's fields, sealed with AES-GCM under a key of
the ledger's own (nobody can forge or read a draft from the page), and after sign-in
the form opens again with them and a notice saying nothing was recorded.

Kept out of the draft: the password, the CSRF token and any wristband scan (a scan
of the wrong wristband is another patient's identity, never echoed back in a page).
A draft lives ``DRAFT_MINUTES`` and opens only on the form it came from.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.secrets import derive_key

COOKIE = "custody_draft"
DRAFT_MINUTES = 30
KEY_LABEL = "web-form-draft"
NEVER_KEPT = ("password", "csrf")


def kept_fields(form: Mapping[str, str]) -> dict[str, str]:
    """The fields worth putting back: not the password, not the CSRF token, not a wristband scan."""
    return {
        key: value
        for key, value in form.items()
        if key not in NEVER_KEPT and not key.startswith("wristband_") and value != ""
    }


def seal(key: bytes, path: str, form: Mapping[str, str], now: datetime) -> str:
    """The draft of one form as an opaque text (URL-safe base64 of nonce + AES-GCM ciphertext)."""
    plain = json.dumps(
        {"path": path, "fields": kept_fields(form), "expires": (now + timedelta(minutes=DRAFT_MINUTES)).isoformat()}
    ).encode()
    nonce = os.urandom(12)
    return base64.urlsafe_b64encode(nonce + AESGCM(key).encrypt(nonce, plain, KEY_LABEL.encode())).decode()


def unseal(key: bytes, sealed: str | None, path: str, now: datetime) -> dict[str, str] | None:
    """The fields of a draft made on ``path`` and not expired; None for anything else (forged, stale, elsewhere)."""
    if not sealed:
        return None
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        draft = json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], KEY_LABEL.encode()))
    except (ValueError, InvalidTag):
        return None
    if draft.get("path") != path or datetime.fromisoformat(draft["expires"]) <= now:
        return None
    fields = draft.get("fields")
    return {str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else None


def draft_key(home: Path) -> bytes:
    """The key drafts are sealed with, derived from the ledger's master secret."""
    return derive_key(home, KEY_LABEL)
