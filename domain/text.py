"""Text hygiene: what a signed record may hold in its words.

Every text a person types or scans ends up signed for thirty years, shown on
labels and screens, and stored in columns of two databases. So a text is refused
at the boundary — naming its field — when it holds something a reader cannot see
or a database cannot keep:

- control characters (U+0000–U+001F, U+007F–U+009F): a NUL cannot be stored in a
  PostgreSQL text column, and an escape sequence can rewrite a terminal; tab and
  line breaks are allowed only in free text (reasons, descriptions, observations);
- bidirectional controls (U+202A–U+202E, U+2066–U+2069): they make a label read
  differently on screen than it is stored, the trick behind "Trojan Source";
- lone surrogates (U+D800–U+DFFF): not characters at all, not encodable as UTF-8;
- text that is not in Unicode normalisation form C: "é" typed as e + accent and
  as one character would be two different signed values for one word;
- text longer than its field allows (``SHORT_TEXT_MAX`` for one-line fields,
  ``FREE_TEXT_MAX`` for free text), so that no single step can bloat the log.

Line endings sent by browsers (CR LF) are read as LF in free text; nothing else
is changed: a refused text is refused, never silently rewritten.
"""

from __future__ import annotations

import unicodedata

from domain.errors import InvalidInput

SHORT_TEXT_MAX = 500
FREE_TEXT_MAX = 4000
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
FREE_TEXT_CONTROLS = frozenset("\t\n")


def _describe(character: str) -> str:
    name = unicodedata.name(character, "control character")
    return f"U+{ord(character):04X} ({name})"


def text_problem(text: str, *, free_text: bool = False) -> tuple[str, str] | None:
    """The rule a text breaks and why, or None: shared by every boundary that takes text."""
    for character in text:
        code = ord(character)
        if 0xD800 <= code <= 0xDFFF:
            return "invalid_unicode", f"holds a lone surrogate U+{code:04X}, which is not a character"
        if unicodedata.category(character) == "Cc" and not (free_text and character in FREE_TEXT_CONTROLS):
            where = "" if free_text else " (line breaks and tabs only fit free-text fields)"
            return "control_character", f"holds the control character {_describe(character)}{where}"
        if character in BIDI_CONTROLS:
            return "control_character", f"holds the bidirectional control {_describe(character)}"
    if not unicodedata.is_normalized("NFC", text):
        return "text_not_nfc", "is not in Unicode normalisation form C (compose accents with their letters)"
    limit = FREE_TEXT_MAX if free_text else SHORT_TEXT_MAX
    if len(text) > limit:
        return "text_too_long", f"has {len(text)} characters; at most {limit} fit this field"
    return None


def checked_text(text: str, path: str, *, free_text: bool = False) -> str:
    """The text as it will be signed (browser line endings read as LF), or a refusal naming ``path``."""
    if free_text:
        text = text.replace("\r\n", "\n")
    problem = text_problem(text, free_text=free_text)
    if problem is not None:
        rule, why = problem
        raise InvalidInput(f"{path} {why}", field=path, rule=rule)
    return text


def first_bad_text(value: object, path: str) -> tuple[str, str, str] | None:
    """The first text (or key) in a JSON value that no field could accept: its path, rule and reason.

    Used where a whole request body is handled before its fields are parsed (to sign it
    as canonical JSON, a lone surrogate must be named before the encoder trips on it).
    Free-text allowances apply, since the field's own check comes later.
    """
    stack: list[tuple[str, object]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item.replace("\r\n", "\n"), free_text=True)
            if problem is not None and problem[0] != "text_too_long":
                return where, *problem
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                key_problem = text_problem(str(key)) if isinstance(key, str) else None
                if key_problem is not None and key_problem[0] != "text_too_long":
                    return f"{where}.{key!r}", *key_problem
                stack.append((f"{where}.{key}", child))
        elif isinstance(item, list):
            stack.extend((f"{where}[{index}]", child) for index, child in reversed(list(enumerate(item))))
    return None
