"""The verifier's shortcut for the canonical-form check never accepts bytes that ``canonical_json`` would not give."""

from __future__ import annotations

import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from ledger.canonical import CanonicalizationError, canonical_json, is_plainly_canonical, parse_json

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def reference(value: Any, data: bytes) -> bool:
    try:
        return canonical_json(value) == data
    except CanonicalizationError:
        return False


@given(json_values, st.sampled_from(["canonical", "spaced", "unsorted", "escaped"]))
def test_the_shortcut_accepts_only_what_canonical_json_gives(value: Any, form: str) -> None:
    text = {
        "canonical": lambda: json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        "spaced": lambda: json.dumps(value, sort_keys=True, ensure_ascii=False),
        "unsorted": lambda: json.dumps(value, separators=(",", ":"), ensure_ascii=False),
        "escaped": lambda: json.dumps(value, sort_keys=True, separators=(",", ":")),
    }[form]()
    try:
        data = text.encode()
    except UnicodeEncodeError:
        return  # a lone surrogate: no stored bytes look like this
    parsed, plain = parse_json(data)
    assert parsed == json.loads(data)
    if plain and is_plainly_canonical(parsed, data):
        assert reference(parsed, data)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_float_is_written_as_the_reference_writes_it(number: float) -> None:
    """Whichever path ``canonical_json`` takes for a float, the bytes are rfc8785's."""
    assert canonical_json({"t": number, "l": [number]}) == rfc8785.dumps({"t": number, "l": [number]})


# Worked by hand from ECMAScript's Number::toString (RFC 8785 section 3.2.2.3), not from either encoder.
HAND_WRITTEN = [
    (-180.5, b"-180.5"),
    (-180.0, b"-180"),
    (0.0001, b"0.0001"),
    (0.00001, b"0.00001"),
    (1e-7, b"1e-7"),
    (1234567890123456.7, b"1234567890123456.8"),
    (1e16, b"10000000000000000"),
    (1.5e16, b"15000000000000000"),
    (1e21, b"1e+21"),
    (2.5e-5, b"0.000025"),
]


def test_floats_at_the_fast_paths_edges_are_written_as_ecmascript_writes_them() -> None:
    for number, text in HAND_WRITTEN:
        assert canonical_json(number) == text, number


def test_fixed_point_floats_are_plain_others_are_not() -> None:
    assert parse_json(b'{"a":1,"b":[2,"x"]}') == ({"a": 1, "b": [2, "x"]}, True)
    assert parse_json(b'{"a":1.5,"b":-191.25}') == ({"a": 1.5, "b": -191.25}, True)
    assert parse_json(b'{"a":-180.0}')[1] is False  # integral: RFC 8785 writes -180
    assert parse_json(b'{"a":0.00001}')[1] is False  # repr would write 1e-05
    assert parse_json(b'{"a":1.5e16}')[1] is False
    assert parse_json(b'{"a":-0.0}')[1] is False
    assert parse_json(b'{"a":9007199254740992}')[1] is False
    assert parse_json(b'{"a":NaN}')[1] is False
    assert parse_json(b'{"a":1e999}')[1] is False


def test_a_float_without_canonical_form_is_refused_on_every_path() -> None:
    for number in (float("inf"), float("-inf"), float("nan")):
        with pytest.raises(CanonicalizationError):
            canonical_json({"t": number})


def test_a_plain_float_not_in_its_shortest_form_is_left_to_canonical_json() -> None:
    for data in (b'{"a":3.50}', b'{"a":3.5E0}', b'{"a":0.10000000000000001}'):
        value, plain = parse_json(data)
        assert plain and not is_plainly_canonical(value, data), data
        assert canonical_json(value) != data


def test_a_non_ascii_key_is_left_to_canonical_json() -> None:
    value, plain = parse_json('{"é":1}'.encode())
    assert plain and not is_plainly_canonical(value, '{"é":1}'.encode())
    assert canonical_json(value) == '{"é":1}'.encode()
