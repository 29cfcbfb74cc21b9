"""The one clock of the ledger: every ``recorded_at`` and every "now" comes from here.

Reading ``datetime.now`` through a single object lets tests freeze time with
freezegun and lets a deployment swap in a trusted time source.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

_ZERO = timedelta(0)


class Clock(Protocol):
    """Something that tells the current time, timezone-aware, in UTC."""

    def now(self) -> datetime:
        """The current instant."""
        ...


class SystemClock:
    """The host's clock, in UTC (freezegun patches it in tests)."""

    def now(self) -> datetime:
        """The current instant from the operating system."""
        return datetime.now(UTC)


def to_utc(moment: datetime) -> datetime:
    """Normalise an aware datetime to UTC; naive datetimes are refused upstream."""
    return moment.astimezone(UTC)


def isoformat(moment: datetime) -> str:
    """The single textual form of an instant inside envelopes: UTC, microseconds, 'Z'."""
    if moment.utcoffset() != _ZERO:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_instant(text: str) -> datetime:
    """Read back an instant written by ``isoformat`` (or any aware ISO 8601 text)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"instant {text!r} has no UTC offset")
    return to_utc(moment)
