"""RFC 8785 (JSON Canonicalization Scheme) bytes: what every hash and signature covers.

The ``rfc8785`` package is the reference; it costs ~26 µs per envelope, and
~150 µs for one holding a few floats. For the common case — integers inside
IEEE 754's exact range, "fixed-point" floats (see ``_plain_float_value``) and
ASCII object keys — ``json.dumps`` with sorted keys and no whitespace produces
the very same bytes in ~6 µs (string escaping rules coincide, UTF-16 and
code-point key order agree on ASCII, and both write such a float as Python's
shortest round-trip ``repr``). Anything else goes to ``rfc8785``. Property tests
keep the two paths byte-identical.
"""

from __future__ import annotations

import json
import math
from typing import Any

import rfc8785

_SAFE_INT = 2**53 - 1
# From here up Python's repr of a non-integral float has no exponent, and rfc8785 (ECMAScript's
# Number::toString) writes those same shortest round-trip digits unchanged.
_FIXED_LOW = 1e-4


def _plain_float_value(value: float) -> bool:
    """True for a float both encoders write as its ``repr``: finite, not integral, and 1e-4 <= |value|.

    An integral float (``-180.0``) is written ``-180`` by RFC 8785 and ``-180.0`` by ``json.dumps``;
    below 1e-4 ``repr`` switches to an exponent (``1e-05``) where ECMAScript does not. No upper bound
    is needed: every float from 2**52 up is integral. Infinity and NaN (``1e999`` decodes to infinity)
    have no canonical form at all: ``rfc8785`` refuses them. Measurements (temperatures, volumes,
    doses) are almost always plain.
    """
    return math.isfinite(value) and abs(value) >= _FIXED_LOW and not value.is_integer()


class CanonicalizationError(ValueError):
    """A value cannot be represented in canonical JSON (NaN, huge integer, non-string key…)."""


def _simple(value: Any) -> bool:
    """True when json.dumps(sort_keys) is known to equal RFC 8785 for this value."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-_SAFE_INT <= value <= _SAFE_INT)
    if kind is float:
        return _plain_float_value(value)
    if kind is dict:
        return all(type(k) is str and k.isascii() and _simple(v) for k, v in value.items())
    if kind is list or kind is tuple:
        return all(_simple(item) for item in value)
    return False


class _NotPlain(Exception):
    """Raised while decoding when a number makes the value other than plain (see ``parse_json``)."""


def _plain_float(text: str) -> float:
    value = float(text)
    if not _plain_float_value(value):
        raise _NotPlain(text)
    return value


def _refuse(text: str) -> Any:
    raise _NotPlain(text)


def _plain_int(text: str) -> int:
    # Seventeen characters hold -(2**53 - 1); anything longer is out of range (or over int()'s digit limit).
    if len(text) > 17:
        raise _NotPlain(text)
    value = int(text)
    if not -_SAFE_INT <= value <= _SAFE_INT:
        raise _NotPlain(text)
    return value


_PLAIN_DECODER = json.JSONDecoder(parse_float=_plain_float, parse_int=_plain_int, parse_constant=_refuse)
_PLAIN_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_json(data: bytes) -> tuple[Any, bool]:
    """``json.loads(data)``, and whether the value is plain: integers in range, floats as ``_plain_float_value``.

    Decoding a plain value notes it on the way (the number hooks only run on numbers), so
    ``is_plainly_canonical`` can skip walking it. Anything else is decoded again by
    ``json.loads`` itself: same value, same errors.
    """
    try:
        # An object's first two bytes, '{"', are what detect_encoding reads as UTF-8 (no BOM, no zero byte).
        encoding = "utf-8" if data.startswith(b'{"') else json.detect_encoding(data)
        return _PLAIN_DECODER.decode(data.decode(encoding, "surrogatepass")), True
    except _NotPlain:
        return json.loads(data), False


def is_plainly_canonical(value: Any, data: bytes) -> bool:
    """True when ``data`` is proven to be ``canonical_json(value)`` for a plain ``value`` (from ``parse_json``).

    ASCII ``data`` equal to the ``json.dumps`` form leaves no room for a non-ASCII key (the
    encoder writes those raw), so the value passes ``_simple`` and ``canonical_json`` returns
    exactly these bytes. False means "not shown here": the caller checks with ``canonical_json``.
    """
    if not data.isascii():
        return False
    try:
        return _PLAIN_ENCODER.encode(value).encode() == data
    except UnicodeEncodeError:  # a lone surrogate: canonical_json names the error
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
