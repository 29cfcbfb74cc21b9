"""The one clock of the ledger: every ``recorded_at`` and every "now" comes from here.

Reading ``datetime.now`` through a single object lets tests freeze time with
freezegun and lets a deployment swap in a trusted time source.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol

from domain.errors import InvalidInput

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


def instant_field(text: str, field: str, *, label: str | None = None) -> datetime:
    """An instant given by a person (option, query parameter, body field), or a refusal naming it."""
    try:
        return parse_instant(text)
    except ValueError as error:
        raise InvalidInput(
            f"{label or field} {text!r} is not an ISO 8601 instant with an offset (e.g. 2026-03-01T12:00:00Z): {error}",
            field=field,
            rule="malformed_instant",
        ) from None


def local_instant(text: str, field: str, zone: tzinfo) -> datetime:
    """A date and time as a form's ``datetime-local`` sends it, read in the site's zone unless it names its own."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{field} {text!r} is not a date and time (YYYY-MM-DDTHH:MM)", field=field, rule="malformed_instant"
        ) from None
    from domain.payloads import in_utc_range  # here: verification workers import this module, not forms

    return in_utc_range(moment.replace(tzinfo=zone) if moment.tzinfo is None else moment, text, field)


def parse_instant(text: str) -> datetime:
    """Read back an instant written by ``isoformat`` (or any aware ISO 8601 text)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"instant {text!r} has no UTC offset")
    try:
        return to_utc(moment)
    except OverflowError:
        raise ValueError("it falls outside the years 1 to 9999 once converted to UTC") from None
