"""ISBT 128 identifiers: DINs and chain-of-identity (COI) identifiers, with their check characters.

A DIN (data structure 001) identifies one collection; a COI identifier (ST-028, data
structure 040) identifies one therapy event of one patient and links its collections, lot
and bags back to that patient. Both carry an ISO 7064 Mod 37-2 check character for
eye-readable use, computed with python-stdnum. The parsers accept what people and scanners
produce (the bare value, value + check character, the barcode data structure, eye-readable
spacing, lower case) and refuse anything else with an error naming the field, the text given
and the rule broken, so a pharmacist knows what to rescan.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from stdnum.iso7064 import mod_37_2

from domain.errors import InvalidIdentifier, InvalidInput

MOD_37_2_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
"""Values 0–36 of ISO 7064 Mod 37-2, in order: a check character's value is its index here."""

PRODUCT_NAMESPACE = uuid.UUID("215c110b-cfd9-4866-9909-f7793a396d77")
"""Fixed forever: product aggregate ids are uuid5(PRODUCT_NAMESPACE, COI value)."""

_FIN_RE = re.compile(r"[A-NP-Z1-9][0-9]{4}")
_YEAR_RE = re.compile(r"[0-9]{2}")
_DIN_SEQUENCE_RE = re.compile(r"[0-9]{6}")
_COI_SEQUENCE_RE = re.compile(r"[A-Z0-9]{6}")
_FIN_RULE = "must be a letter A–N or P–Z or a digit 1–9, then 4 digits"
_DIN_LENGTH_RULE = "must be 13 characters: facility (5), year (2), sequence (6)"
_COI_LENGTH_RULE = "must be 15 characters: 'CH', facility (5), year (2), sequence (6)"
_SHOWN_MAX = 40


def _shown(text: str) -> str:
    """Quote the text given, cut short so a pasted document cannot flood the message."""
    if len(text) > _SHOWN_MAX:
        return repr(text[:_SHOWN_MAX] + "…")
    return repr(text)


def _normalise(text: object, field: str, rule: str) -> tuple[str, str]:
    """Return (the text as given but stripped, the compact upper-case form scanners and people mean)."""
    if not isinstance(text, str):
        raise InvalidIdentifier(f"{field} must be text, got {type(text).__name__}", field=field, rule=rule)
    given = text.strip()
    return given, "".join(given.split()).upper()


def _check_value(character: str) -> int:
    """The Mod 37-2 value (0–36) of a check character."""
    return MOD_37_2_ALPHABET.index(character)


def _din_problem(body: str) -> str | None:
    """Say what is wrong with a 13-character DIN body, or None when it is well formed."""
    if len(body) != 13:
        return _DIN_LENGTH_RULE
    if not _FIN_RE.fullmatch(body[:5]):
        return f"has facility {body[:5]!r}, which {_FIN_RULE}"
    if not _YEAR_RE.fullmatch(body[5:7]):
        return f"has year {body[5:7]!r}, which must be 2 digits"
    if not _DIN_SEQUENCE_RE.fullmatch(body[7:]):
        return f"has sequence {body[7:]!r}, which must be 6 digits"
    return None


def _coi_problem(body: str) -> str | None:
    """Say what is wrong with a 15-character COI body, or None when it is well formed."""
    if len(body) != 15:
        return _COI_LENGTH_RULE
    if not body.startswith("CH"):
        return f"must start with 'CH', not {body[:2]!r}"
    if not _FIN_RE.fullmatch(body[2:7]):
        return f"has facility {body[2:7]!r}, which {_FIN_RULE}"
    if not _YEAR_RE.fullmatch(body[7:9]):
        return f"has year {body[7:9]!r}, which must be 2 digits"
    if not _COI_SEQUENCE_RE.fullmatch(body[9:]):
        return f"has sequence {body[9:]!r}, which must be 6 characters A–Z or 0–9"
    return None


def _verify_check(body: str, given: str, field: str) -> None:
    """Refuse a check character that does not match the body (a misread or mistyped label)."""
    expected = mod_37_2.calc_check_digit(body)
    if given != expected:
        raise InvalidIdentifier(
            f"{field} {body} has check character {given}, expected {expected} (ISO 7064 Mod 37-2)",
            field=field,
            rule="check_character",
        )


@dataclass(frozen=True)
class Din:
    """An ISBT 128 Donation Identification Number: one collection, unique for 100 years."""

    value: str

    def __post_init__(self) -> None:
        problem = _din_problem(self.value) if isinstance(self.value, str) else _DIN_LENGTH_RULE
        if problem is not None:
            raise InvalidIdentifier(f"din {_shown(str(self.value))} {problem}", field="din", rule="din_format")

    @property
    def facility(self) -> str:
        """The facility identification number (FIN) that assigned the DIN."""
        return self.value[:5]

    @property
    def year(self) -> str:
        """The 2-digit year of assignment, as printed."""
        return self.value[5:7]

    @property
    def sequence(self) -> str:
        """The 6-digit sequence number within the facility and year."""
        return self.value[7:]

    @property
    def check_character(self) -> str:
        """The ISO 7064 Mod 37-2 check character printed after the eye-readable DIN."""
        return str(mod_37_2.calc_check_digit(self.value))

    @property
    def flag(self) -> str:
        """The barcode flag that carries the check: 60 + the check value, two digits."""
        return f"{60 + _check_value(self.check_character):02d}"

    @property
    def eye_readable(self) -> str:
        """The label's human-readable form, e.g. 'G1234 98 654321 H', for people to compare."""
        return f"{self.facility} {self.year} {self.sequence} {self.check_character}"

    @property
    def data_structure(self) -> str:
        """The barcode data structure 001 with its check flag, e.g. '=G12349865432177'."""
        return f"={self.value}{self.flag}"

    def __str__(self) -> str:
        return self.value


def parse_din(text: str, *, field: str = "din") -> Din:
    """Read a DIN as typed or scanned, refusing malformed ones and wrong check characters or flags."""
    given, compact = _normalise(text, field, "din_format")
    flags: str | None = None
    check: str | None = None
    if compact.startswith("="):
        if len(compact) != 16:
            raise InvalidIdentifier(
                f"{field} {_shown(given)} must be '=' then 13 characters and 2 flag digits "
                "(ISBT 128 data structure 001)",
                field=field,
                rule="din_format",
            )
        body, flags = compact[1:14], compact[14:]
    elif len(compact) == 14:
        body, check = compact[:13], compact[13]
    else:
        body = compact
    problem = _din_problem(body)
    if problem is not None:
        raise InvalidIdentifier(f"{field} {_shown(given)} {problem}", field=field, rule="din_format")
    din = Din(body)
    if check is not None:
        _verify_check(body, check, field)
    if flags is not None and flags != "00":
        if not (flags.isascii() and flags.isdigit() and 60 <= int(flags) <= 96):
            raise InvalidIdentifier(
                f"{field} {_shown(given)} has flag {flags!r}: only 00 (no check) or 60–96 "
                "(60 + Mod 37-2 check value) are accepted",
                field=field,
                rule="din_flag",
            )
        if flags != din.flag:
            raise InvalidIdentifier(
                f"{field} {body} has flag {flags}, expected {din.flag} for check character "
                f"{din.check_character} (ISO 7064 Mod 37-2)",
                field=field,
                rule="din_flag",
            )
    return din


@dataclass(frozen=True)
class Coi:
    """A chain-of-identity identifier (ISBT 128 ST-028): one therapy event of one patient."""

    value: str

    def __post_init__(self) -> None:
        problem = _coi_problem(self.value) if isinstance(self.value, str) else _COI_LENGTH_RULE
        if problem is not None:
            raise InvalidIdentifier(f"coi {_shown(str(self.value))} {problem}", field="coi", rule="coi_format")

    @property
    def facility(self) -> str:
        """The FIN of the issuer (collection centre, sponsor or manufacturer)."""
        return self.value[2:7]

    @property
    def year(self) -> str:
        """The 2-digit year of allocation, as printed."""
        return self.value[7:9]

    @property
    def sequence(self) -> str:
        """The 6-character alphanumeric sequence chosen by the issuer."""
        return self.value[9:]

    @property
    def check_character(self) -> str:
        """The ISO 7064 Mod 37-2 check character over the 15 characters, for eye-readable use."""
        return str(mod_37_2.calc_check_digit(self.value))

    @property
    def eye_readable(self) -> str:
        """The label's human-readable form: the value, a space, the check character."""
        return f"{self.value} {self.check_character}"

    @property
    def data_structure(self) -> str:
        """The barcode data structure 040, e.g. '&/CHG123425AB12CD'."""
        return f"&/{self.value}"

    def __str__(self) -> str:
        return self.value


def parse_coi(text: str, *, field: str = "coi") -> Coi:
    """Read a COI identifier as typed or scanned, refusing malformed ones and wrong check characters."""
    given, compact = _normalise(text, field, "coi_format")
    check: str | None = None
    if compact.startswith("&/"):
        body = compact[2:]
    elif len(compact) == 16:
        body, check = compact[:15], compact[15]
    else:
        body = compact
    problem = _coi_problem(body)
    if problem is not None:
        raise InvalidIdentifier(f"{field} {_shown(given)} {problem}", field=field, rule="coi_format")
    if check is not None:
        _verify_check(body, check, field)
    return Coi(body)


def parse_facility(text: str, field: str = "facility") -> str:
    """Read an ISBT 128 facility identification number (FIN), the prefix of every DIN and COI we issue."""
    given, compact = _normalise(text, field, "facility_format")
    if not _FIN_RE.fullmatch(compact):
        raise InvalidIdentifier(f"{field} {_shown(given)} {_FIN_RULE}", field=field, rule="facility_format")
    return compact


def allocate_coi(facility: str, year: int, sequence: str) -> Coi:
    """Build a new COI under our FIN, so the ledger can issue one at enrolment or first collection."""
    fin = parse_facility(facility)
    if isinstance(year, bool) or not isinstance(year, int) or not (0 <= year <= 99 or 1000 <= year <= 9999):
        raise InvalidInput(
            f"year {year!r} must be a calendar year such as 2025, or its last 2 digits",
            field="year",
            rule="coi_format",
        )
    given, seq = _normalise(sequence, "sequence", "coi_format")
    if not _COI_SEQUENCE_RE.fullmatch(seq):
        raise InvalidIdentifier(
            f"sequence {_shown(given)} must be 6 characters A–Z or 0–9",
            field="sequence",
            rule="coi_format",
        )
    return Coi(f"CH{fin}{year % 100:02d}{seq}")


def product_id_for(coi: Coi) -> uuid.UUID:
    """The product aggregate id derived from its COI, so a scanned label finds its product."""
    return uuid.uuid5(PRODUCT_NAMESPACE, coi.value)
