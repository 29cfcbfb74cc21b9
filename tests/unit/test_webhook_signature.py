"""The signature docs/webhooks.md tells receivers to check is the one the sender makes; backoff doubles to a cap."""

from __future__ import annotations

import base64
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from ledger.webhooks_sender import backoff
from ledger.webhooks_signature import headers

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
KEY = bytes(range(7, 39))
SECRET = "whsec_" + base64.b64encode(KEY).decode()


def documented_verify() -> Any:
    """The receiver's snippet exactly as the documentation prints it."""
    code = re.search(r"## Verifying a delivery.*?```python\n(.*?)```", DOC.read_text(), re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)  # the documented code, run as a receiver would
    return namespace["verify"]


def test_the_documented_receiver_accepts_our_deliveries_and_refuses_altered_ones() -> None:
    verify = documented_verify()
    body, now = b'{"position":12,"type":"ProductReleased"}', int(time.time())
    sent = headers(KEY, "wh_0123456789abcdef:12", now, body)
    assert verify(SECRET, sent, body)
    assert not verify(SECRET, sent, body.replace(b"12", b"13"))
    assert not verify(SECRET, {**sent, "webhook-id": "wh_0123456789abcdef:13"}, body)
    assert not verify(SECRET, {**sent, "webhook-timestamp": str(now + 1)}, body)
    assert not verify("whsec_" + base64.b64encode(bytes(32)).decode(), sent, body)
    assert not verify(SECRET, headers(KEY, "wh_0123456789abcdef:12", now - 600, body), body)  # a replay


def test_backoff_doubles_from_one_second_up_to_five_minutes() -> None:
    assert [backoff(n) for n in (1, 2, 3, 4, 9, 10, 500)] == [
        timedelta(seconds=1), timedelta(seconds=2), timedelta(seconds=4), timedelta(seconds=8),
        timedelta(seconds=256), timedelta(minutes=5), timedelta(minutes=5),
    ]  # fmt: skip
