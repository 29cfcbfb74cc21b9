"""The verifier's shortcut for the canonical-form check never accepts bytes that ``canonical_json`` would not give."""

from __future__ import annotations

import json
from typing import Any

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


def test_floats_big_integers_and_constants_are_not_plain() -> None:
    assert parse_json(b'{"a":1,"b":[2,"x"]}') == ({"a": 1, "b": [2, "x"]}, True)
    assert parse_json(b'{"a":1.5}')[1] is False
    assert parse_json(b'{"a":9007199254740992}')[1] is False
    assert parse_json(b'{"a":NaN}')[1] is False


def test_a_non_ascii_key_is_left_to_canonical_json() -> None:
    value, plain = parse_json('{"é":1}'.encode())
    assert plain and not is_plainly_canonical(value, '{"é":1}'.encode())
    assert canonical_json(value) == '{"é":1}'.encode()
