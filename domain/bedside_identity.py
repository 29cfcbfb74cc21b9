"""What the domain and the ledger exchange about the patient in the bed, without the domain ever holding who it is.

The bedside check compares the wristband (hospital number and birth date, as the
hospital prints them) with the patient's identity, which is sealed outside the event
log. The domain cannot unseal it and must stay free of I/O, so the ledger hands it an
``IdentityVerifier``: given the product's pseudonym and the scan, it answers whether
an identity is held, which of its fields disagree, and which version of it was
compared. That answer, never the identity nor the scanned values, is what the domain
records.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from domain.errors import InvalidInput

_DAY_FIRST = re.compile(r"(\d{2})[/.-](\d{2})[/.-](\d{4})")


@dataclass(frozen=True)
class WristbandScan:
    """What was read from the wristband: the hospital number and the birth date."""

    hospital_number: str
    birth_date: date


@dataclass(frozen=True)
class IdentityMatch:
    """The ledger's verdict on one wristband scan: no identity data, only the comparison.

    ``registered`` is False when no identity is held for the pseudonym (never
    registered, or erased); ``mismatched`` names the wristband fields that differ
    ("hospital_number", "birth_date"); ``version`` identifies the sealed identity that
    was compared (its registration instant), so an auditor knows which record vouched.
    """

    registered: bool
    mismatched: tuple[str, ...] = ()
    version: str | None = None

    @property
    def matched(self) -> bool:
        """An identity is held and every wristband field agrees with it."""
        return self.registered and not self.mismatched


IdentityVerifier = Callable[[str, WristbandScan], IdentityMatch]
"""(pseudonym, scan) → verdict: the ledger's comparison with the sealed identity."""


def read_birth_date(text: str, *, field: str) -> date:
    """A birth date as hospitals print it on wristbands: 1988-04-12 or 12/04/1988 (day first, as in France)."""
    value = text.strip()
    try:
        found = _DAY_FIRST.fullmatch(value)
        if found:
            day, month, year = (int(part) for part in found.groups())
            return date(year, month, day)
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput(
            f"{field} {text!r} is not a birth date (YYYY-MM-DD or DD/MM/YYYY, as printed on the wristband)",
            field=field,
            rule="invalid_date",
        ) from None


def normal_hospital_number(text: str) -> str:
    """A hospital number compared as printed, ignoring case and spaces (a scanner may add or drop neither)."""
    return "".join(text.split()).upper()
