"""The Single European Code (SEC) of tissues and cells: parsed, checked part by part, and printed.

Commission Directive 2006/86/EC as amended by Commission Directive (EU) 2015/565 gives
tissues and cells distributed for human application a 40-character code (Annex VII):

- the donation identification sequence: the EU tissue establishment code, i.e. the ISO 3166-1
  alpha-2 country code (2 letters) and the tissue establishment number (6 alphanumeric
  characters, held here as ``tissue_establishment_code``), then the unique donation number
  (13 alphanumeric characters);
- the product identification sequence: the product code, i.e. the product coding system
  identifier (1 letter: E = EUTC, A = ISBT 128, B = Eurocode) and the product number
  (7 alphanumeric characters), then the split number (3 alphanumeric characters) and the
  expiry date (YYYYMMDD, 8 digits; ``00000000`` where no expiry date is defined, Article 10b(1)(e)).

Article 10a asks for an eye-readable code preceded by the acronym "SEC", its two sequences
separated by a space or printed on two lines. The parser accepts what a label or a scanner
gives (with or without "SEC", spaced or compact, lower case) and refuses anything else by
naming the part that is wrong (``sec.tissue_establishment_code``) under the rule
``invalid_sec``, so the person typing it knows which characters to check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from domain.errors import InvalidIdentifier

RULE = "invalid_sec"
LENGTH = 40
NO_EXPIRY = "00000000"
"""The expiry date of tissues and cells for which none is defined (Article 10b(1)(e))."""

CODING_SYSTEMS = {"E": "EUTC", "A": "ISBT 128", "B": "Eurocode"}
"""The permitted product coding systems and their one-letter identifiers (Annex VII)."""

MEMBER_STATES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO",
})  # fmt: skip
"""ISO 3166-1 alpha-2 codes of the states applying the directive: the 27 Member States and the EEA's
Iceland, Liechtenstein and Norway. Greece is GR under ISO 3166-1, not the EU's own abbreviation EL."""

_ALNUM = re.compile(r"[A-Z0-9]+")
_LETTERS = re.compile(r"[A-Z]+")
_DIGITS = re.compile(r"[0-9]+")
_PREFIX = re.compile(r"^SEC\s*:?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class _Part:
    """One part of the code: its name (the field named in a refusal), width and alphabet."""

    name: str
    width: int
    alphabet: re.Pattern[str]
    described: str


PARTS = (
    _Part("country_code", 2, _LETTERS, "2 letters (ISO 3166-1 alpha-2)"),
    _Part("tissue_establishment_code", 6, _ALNUM, "6 letters or digits"),
    _Part("unique_donation_number", 13, _ALNUM, "13 letters or digits"),
    _Part("product_coding_system", 1, _LETTERS, "1 letter: E (EUTC), A (ISBT 128) or B (Eurocode)"),
    _Part("product_number", 7, _ALNUM, "7 letters or digits"),
    _Part("split_number", 3, _ALNUM, "3 letters or digits"),
    _Part("expiry_date", 8, _DIGITS, "8 digits, YYYYMMDD, or 00000000 when no expiry date is defined"),
)
_PRINTED_GROUPS = ((0, 1), (2,), (3, 4), (5,), (6,))
"""How the eye-readable form groups the parts: "FR000123 0000000000001 E0000123 001 20271231"."""
_SEQUENCES = ((0, 1, 2), (3, 4, 5, 6))
"""The donation identification sequence (21 characters) and the product identification sequence (19)."""


def _refuse(field: str, message: str) -> InvalidIdentifier:
    return InvalidIdentifier(f"{field} {message}", field=field, rule=RULE)


def _width(indices: tuple[int, ...]) -> int:
    return sum(PARTS[i].width for i in indices)


def _check_grouping(groups: list[str], field: str) -> None:
    """When the code is typed in groups (printed form or two sequences), name the group of the wrong length."""
    for layout in (_PRINTED_GROUPS, _SEQUENCES):
        if len(groups) != len(layout):
            continue
        for group, indices in zip(groups, layout, strict=True):
            if len(group) != _width(indices):
                names = " and ".join(PARTS[i].name for i in indices)
                raise _refuse(
                    f"{field}.{PARTS[indices[0]].name}",
                    f"{group!r} has {len(group)} characters where the {names} need {_width(indices)}",
                )


def _expiry(text: str, field: str) -> date | None:
    if text == NO_EXPIRY:
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise _refuse(f"{field}.expiry_date", f"{text!r} is not a calendar date (YYYYMMDD) nor 00000000") from None


@dataclass(frozen=True)
class SingleEuropeanCode:
    """A well-formed SEC; ``value`` is its compact 40-character form, as stored."""

    country_code: str
    tissue_establishment_code: str
    unique_donation_number: str
    product_coding_system: str
    product_number: str
    split_number: str
    expiry_date: str

    @property
    def value(self) -> str:
        """The 40 characters without spaces or prefix: what the ledger stores and compares."""
        return self.donation_identification_sequence + self.product_identification_sequence

    @property
    def donation_identification_sequence(self) -> str:
        """EU tissue establishment code and unique donation number (21 characters)."""
        return self.country_code + self.tissue_establishment_code + self.unique_donation_number

    @property
    def product_identification_sequence(self) -> str:
        """Product code, split number and expiry date (19 characters)."""
        return self.product_coding_system + self.product_number + self.split_number + self.expiry_date

    @property
    def coding_system_name(self) -> str:
        """EUTC, ISBT 128 or Eurocode."""
        return CODING_SYSTEMS[self.product_coding_system]

    @property
    def expires_on(self) -> date | None:
        """The expiry date, or None when the code says none is defined (00000000)."""
        return _expiry(self.expiry_date, "sec")

    def eye_readable(self) -> str:
        """The printed form: "SEC FR000123 0000000000001 E0000123 001 20271231"."""
        return (
            f"SEC {self.country_code}{self.tissue_establishment_code} {self.unique_donation_number} "
            f"{self.product_coding_system}{self.product_number} {self.split_number} {self.expiry_date}"
        )

    def two_lines(self) -> str:
        """The two sequences on two successive lines, as Article 10a(3) also allows."""
        return f"SEC {self.donation_identification_sequence}\n{self.product_identification_sequence}"


def parse_sec(text: object, *, field: str = "sec") -> SingleEuropeanCode:
    """Read a SEC as printed or scanned; refuse it naming the first part that breaks Annex VII."""
    if not isinstance(text, str):
        raise _refuse(field, f"must be text, got {type(text).__name__}")
    given = _PREFIX.sub("", text.strip()).upper()
    groups = given.split()
    _check_grouping(groups, field)
    compact = "".join(groups)
    if len(compact) != LENGTH:
        shown = compact if len(compact) <= 60 else compact[:60] + "…"
        raise _refuse(
            field,
            f"{shown!r} has {len(compact)} characters; a Single European Code has {LENGTH}: country (2), "
            "tissue establishment (6), donation number (13), coding system (1), product number (7), split (3), "
            "expiry date (8)",
        )
    values: list[str] = []
    start = 0
    for part in PARTS:
        chunk = compact[start : start + part.width]
        start += part.width
        if not part.alphabet.fullmatch(chunk):
            raise _refuse(f"{field}.{part.name}", f"{chunk!r} must be {part.described}")
        values.append(chunk)
    code = SingleEuropeanCode(*values)
    if code.country_code not in MEMBER_STATES:
        raise _refuse(
            f"{field}.country_code",
            f"{code.country_code!r} is not the ISO 3166-1 code of an EU or EEA state applying the directive",
        )
    if code.product_coding_system not in CODING_SYSTEMS:
        raise _refuse(
            f"{field}.product_coding_system",
            f"{code.product_coding_system!r} is not a permitted coding system: E (EUTC), A (ISBT 128), B (Eurocode)",
        )
    _expiry(code.expiry_date, field)
    return code
