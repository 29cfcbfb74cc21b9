"""RFC 8785 (JSON Canonicalization Scheme) bytes: what every hash and signature covers.

The ``rfc8785`` package is the reference; it costs ~26 µs per envelope. For the
common case — no floats, integers inside IEEE 754's exact range and ASCII object
keys — ``json.dumps`` with sorted keys and no whitespace produces the very same
bytes in ~6 µs (string escaping rules coincide, and UTF-16 and code-point key
order agree on ASCII). Anything else goes to ``rfc8785``. A property test keeps
the two paths byte-identical.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

_SAFE_INT = 2**53 - 1


class CanonicalizationError(ValueError):
    """A value cannot be represented in canonical JSON (NaN, huge integer, non-string key…)."""


def _simple(value: Any) -> bool:
    """True when json.dumps(sort_keys) is known to equal RFC 8785 for this value."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-_SAFE_INT <= value <= _SAFE_INT)
    if kind is dict:
        return all(type(k) is str and k.isascii() and _simple(v) for k, v in value.items())
    if kind is list or kind is tuple:
        return all(_simple(item) for item in value)
    return False


def canonical_json(value: Any) -> bytes:
    """Encode ``value`` as RFC 8785 canonical JSON bytes (UTF-8)."""
    if _simple(value):
        try:
            return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        except UnicodeEncodeError as error:  # a lone surrogate cannot be UTF-8
            raise CanonicalizationError(str(error)) from error
    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as error:
        raise CanonicalizationError(str(error)) from error
