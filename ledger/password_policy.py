"""What a password a person chooses must be: long, not their name, not a password others use.

21 CFR Part 11 §11.300 asks that identification codes and passwords be kept unique
and secure. The password a person chooses both signs them in and seals their Ed25519
signing key (ledger/keys.py): whoever guesses it signs in their name, offline if they
hold a copy of the database. So a chosen password is refused when it is

- shorter than ``MIN_LENGTH`` characters (``password_too_short``) or longer than
  ``MAX_LENGTH`` (``password_too_long``: nobody types more, and the strength estimate
  below grows with the length);
- the person's username or printed name, or contains either or one of the name's words
  (``password_contains_name``): the first guesses of anyone who knows them;
- found in the list of the most common passwords leaked in breaches
  (``password_common``), or guessed in under ``MIN_GUESSES`` tries by its patterns —
  repeats, sequences, keyboard walks, dates, dictionary words (``password_guessable``).

The last two come from zxcvbn (Dropbox's strength estimator, Python port), whose
frequency lists — 30 000 common passwords from breach corpora, English words, names —
ship inside the package as data: no network call, nothing sent anywhere. The
enrolment secrets the ledger generates are random and not checked here; an
enrolment secret an administrator types still needs ``ledger.setup.check_password``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from zxcvbn import zxcvbn  # type: ignore[import-untyped]

from domain.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_NAME_PART = 3
MIN_GUESSES = 10**10
"""zxcvbn's score 3 threshold ("safely unguessable: moderate protection from an offline slow-hash attack")."""
NON_WORD = re.compile(r"[\W_]+")
COMMON_PASSWORDS = "passwords"
"""The name of zxcvbn's frequency list of passwords leaked in breaches."""


def _folded(text: str) -> str:
    """Lower case, without accents or punctuation, so "Léa" is found in "LEA-2026…" and "lea.b" in "Lea_B"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return NON_WORD.sub("", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def name_parts(username: str, name: str) -> list[str]:
    """The username, the whole printed name and each of its words long enough to matter, folded."""
    words = [_folded(word) for word in NON_WORD.split(name)]
    candidates = [_folded(username), _folded(name), *words]
    return [part for part in dict.fromkeys(candidates) if len(part) >= MIN_NAME_PART]


def check_new_password(password: str, *, username: str, name: str, field: str = "new_password") -> None:
    """Refuse a chosen password that breaks one of the rules above, naming the field and the rule."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            f"{field} must have at least {MIN_LENGTH} characters (it has {len(password)})",
            field=field,
            rule="password_too_short",
        )
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"{field} must have at most {MAX_LENGTH} characters", field=field, rule="password_too_long")
    folded = _folded(password)
    if any(part in folded for part in name_parts(username, name)):
        raise InvalidInput(
            f"{field} must not contain your username or your name", field=field, rule="password_contains_name"
        )
    estimate: dict[str, Any] = zxcvbn(password)
    if estimate["guesses"] >= MIN_GUESSES:
        return
    if any(match.get("dictionary_name") == COMMON_PASSWORDS for match in estimate["sequence"]):
        raise InvalidInput(
            f"{field} is built on one of the most common passwords leaked in breaches: choose another",
            field=field,
            rule="password_common",
        )
    raise InvalidInput(
        f"{field} is too easy to guess (repeats, sequences, keyboard patterns, dates or common words): "
        "a few unrelated words make a strong password",
        field=field,
        rule="password_guessable",
    )
