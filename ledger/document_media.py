"""A document's media type, read from its content, never from its name or what the sender declares.

A file called ``coa.pdf`` may hold anything; the type a signed reference states must be
what the bytes are. Four types are accepted (README, "Documents"): PDF, PNG and JPEG by
their signatures (ISO 32000-2 §7.5.2 ``%PDF-``; PNG's eight-byte signature, RFC 2083
§3.1; JPEG's SOI marker and the first segment's marker, ``FF D8 FF``), and CSV as text
(RFC 4180): UTF-8, no control characters besides tab and line ends, and a delimiter
(comma, semicolon or tab) on one of its first lines — data-logger exports are such files,
some opening with a title line of their own (HOBOware's ``"Plot Title: …"``).
Three fixed signatures and one text check need no library: a content sniffer would
add a dependency to recognise formats the ledger must refuse anyway.
"""

from __future__ import annotations

import io
import itertools

from domain.document_ref import MediaType
from domain.errors import InvalidInput

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
PDF_SIGNATURE = b"%PDF-"
PDF_SEARCH = 1024  # ISO 32000-2 readers accept the header anywhere in the first 1024 bytes
CSV_DELIMITERS = (",", ";", "\t")
CSV_HEADER_LINES = 10
"""How many non-blank lines may open a CSV before one holds a delimiter (titles, device settings)."""
_TEXT_CONTROLS = frozenset(range(0x20)) - {0x09, 0x0A, 0x0D}


def _is_csv(content: bytes) -> bool:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    if any(ord(char) in _TEXT_CONTROLS or ord(char) == 0x7F for char in text):
        return False
    opening = itertools.islice((line for line in io.StringIO(text) if line.strip()), CSV_HEADER_LINES)
    return any(delimiter in line for line in opening for delimiter in CSV_DELIMITERS)


def sniff_media_type(content: bytes) -> MediaType | None:
    """The media type the bytes are, or None when they are none of the accepted ones."""
    if content.startswith(PNG_SIGNATURE):
        return MediaType.PNG
    if content.startswith(JPEG_SIGNATURE):
        return MediaType.JPEG
    if PDF_SIGNATURE in content[:PDF_SEARCH]:
        return MediaType.PDF
    if _is_csv(content):
        return MediaType.CSV
    return None


def media_type_of(content: bytes, *, field: str = "file") -> MediaType:
    """The media type of an accepted document; ``InvalidInput`` (``unsupported_media_type``) otherwise."""
    found = sniff_media_type(content)
    if found is None:
        raise InvalidInput(
            f"{field} is not a PDF, PNG, JPEG or CSV file (judged by its content, not its name); "
            "convert it to one of these before storing it",
            field=field,
            rule="unsupported_media_type",
        )
    return found
