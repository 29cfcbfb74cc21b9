"""ISBT 128 DIN and COI identifiers: check characters, accepted forms and every refusal."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.iso7064 import mod_37_2

from domain.errors import InvalidIdentifier, InvalidInput
from domain.identifiers import (
    MOD_37_2_ALPHABET,
    PRODUCT_NAMESPACE,
    Coi,
    Din,
    allocate_coi,
    parse_coi,
    parse_din,
    parse_facility,
    product_id_for,
)

FIN_FIRST = "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"
DIGITS = "0123456789"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

din_bodies = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(FIN_FIRST),
    st.text(alphabet=DIGITS, min_size=12, max_size=12),
)
coi_bodies = st.builds(
    lambda first, digits, seq: f"CH{first}{digits}{seq}",
    st.sampled_from(FIN_FIRST),
    st.text(alphabet=DIGITS, min_size=6, max_size=6),
    st.text(alphabet=ALNUM, min_size=6, max_size=6),
)


def refusal(call: Callable[..., object], text: str, **kwargs: str) -> InvalidIdentifier:
    """Run a parser expecting a refusal and return it."""
    with pytest.raises(InvalidIdentifier) as caught:
        call(text, **kwargs)
    return caught.value


# --- DIN ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "check", "flag"), [("G123498654321", "H", "77"), ("A999921123456", "3", "63")])
def test_the_published_din_test_vectors_give_their_check_character_and_flag(body: str, check: str, flag: str) -> None:
    din = Din(body)
    assert din.check_character == check
    assert din.flag == flag


def test_a_din_exposes_its_facility_year_sequence_and_eye_readable_form() -> None:
    din = Din("G123498654321")
    assert (din.facility, din.year, din.sequence) == ("G1234", "98", "654321")
    assert din.eye_readable == "G1234 98 654321 H"
    assert din.data_structure == "=G12349865432177"
    assert str(din) == "G123498654321"


@pytest.mark.parametrize(
    "text",
    [
        "G123498654321",
        "G123498654321H",
        "  G123498654321H\n",
        "g123498654321h",
        "G1234 98 654321 H",
        "G1234 98 654321",
        "=G12349865432177",
        "=G12349865432100",
        "=g12349865432177",
    ],
)
def test_every_accepted_din_form_parses_to_the_same_din(text: str) -> None:
    assert parse_din(text) == Din("G123498654321")


def test_a_din_with_a_wrong_check_character_names_the_expected_one() -> None:
    error = refusal(parse_din, "G123498654321X")
    assert error.rule == "check_character"
    assert error.field == "din"
    assert error.message == "din G123498654321 has check character X, expected H (ISO 7064 Mod 37-2)"


def test_a_din_refusal_names_the_field_it_was_given_for() -> None:
    error = refusal(parse_din, "A9999211234560", field="collection.din")
    assert error.field == "collection.din"
    assert error.message.startswith("collection.din A999921123456 ")
    assert "expected 3" in error.message


def test_a_din_of_the_wrong_length_is_refused_with_its_shape() -> None:
    error = refusal(parse_din, "G12349865432")
    assert error.rule == "din_format"
    assert error.message == "din 'G12349865432' must be 13 characters: facility (5), year (2), sequence (6)"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("O123498654321", "facility 'O1234'"),
        ("0123498654321", "facility '01234'"),
        ("GA23498654321", "facility 'GA234'"),
        ("G1234AB654321", "year 'AB'"),
        ("G123498A54321", "sequence 'A54321'"),
        ("", "must be 13 characters"),
        ("G123-98-654321", "facility 'G123-'"),
        ("G1234-98-654321", "must be 13 characters"),
    ],
)
def test_a_malformed_din_is_refused_naming_the_text_and_the_faulty_part(text: str, words: str) -> None:
    error = refusal(parse_din, text)
    assert error.rule == "din_format"
    assert f"din {text!r}" in error.message
    assert words in error.message


def test_a_din_data_structure_with_a_wrong_flag_names_the_expected_flag() -> None:
    error = refusal(parse_din, "=G12349865432176")
    assert error.rule == "din_flag"
    assert "G123498654321" in error.message
    assert "expected 77" in error.message
    assert "check character H" in error.message


@pytest.mark.parametrize("flags", ["01", "59", "97", "AB"])
def test_a_din_data_structure_with_an_unsupported_flag_is_refused(flags: str) -> None:
    error = refusal(parse_din, f"=G123498654321{flags}")
    assert error.rule == "din_flag"
    assert f"flag {flags!r}" in error.message


@pytest.mark.parametrize("text", ["=G123498654321", "=G1234986543217", "=G123498654321777"])
def test_a_din_data_structure_of_the_wrong_length_is_refused(text: str) -> None:
    error = refusal(parse_din, text)
    assert error.rule == "din_format"
    assert repr(text) in error.message


def test_a_din_given_as_something_other_than_text_is_refused() -> None:
    with pytest.raises(InvalidIdentifier, match="din must be text, got int"):
        parse_din(123)  # type: ignore[arg-type]


def test_a_malformed_din_cannot_be_constructed_directly() -> None:
    with pytest.raises(InvalidIdentifier, match="must be 13 characters"):
        Din("G1234")


def test_a_very_long_din_text_is_cut_short_in_the_message() -> None:
    error = refusal(parse_din, "G" * 500)
    assert len(error.message) < 200


@settings(database=None)
@given(din_bodies)
def test_any_valid_din_body_with_its_computed_check_round_trips(body: str) -> None:
    din = parse_din(body + mod_37_2.calc_check_digit(body))
    assert din.value == body
    assert parse_din(din.eye_readable) == din
    assert parse_din(din.data_structure) == din
    assert int(din.flag) == 60 + MOD_37_2_ALPHABET.index(din.check_character)


@settings(database=None)
@given(din_bodies, st.sampled_from(MOD_37_2_ALPHABET))
def test_any_substituted_din_check_character_is_refused(body: str, wrong: str) -> None:
    expected = mod_37_2.calc_check_digit(body)
    if wrong == expected:
        wrong = MOD_37_2_ALPHABET[(MOD_37_2_ALPHABET.index(expected) + 1) % len(MOD_37_2_ALPHABET)]
    error = refusal(parse_din, body + wrong)
    assert error.rule == "check_character"
    assert f"expected {expected} " in error.message


# --- COI ----------------------------------------------------------------------------------------


def test_a_coi_exposes_its_parts_check_character_and_forms() -> None:
    coi = Coi("CHG123425AB12CD")
    assert (coi.facility, coi.year, coi.sequence) == ("G1234", "25", "AB12CD")
    assert coi.check_character == mod_37_2.calc_check_digit("CHG123425AB12CD")
    assert coi.eye_readable == f"CHG123425AB12CD {coi.check_character}"
    assert coi.data_structure == "&/CHG123425AB12CD"
    assert str(coi) == "CHG123425AB12CD"


@pytest.mark.parametrize(
    "text",
    ["CHG123425AB12CD", "CHG123425AB12CDQ", " chg123425ab12cd q ", "&/CHG123425AB12CD", "&/chg123425ab12cd"],
)
def test_every_accepted_coi_form_parses_to_the_same_coi(text: str) -> None:
    assert Coi("CHG123425AB12CD").check_character == "Q"
    assert parse_coi(text) == Coi("CHG123425AB12CD")


def test_a_coi_with_a_wrong_check_character_names_the_expected_one() -> None:
    error = refusal(parse_coi, "CHG123425AB12CDX", field="label.coi")
    assert error.rule == "check_character"
    assert error.field == "label.coi"
    assert error.message == "label.coi CHG123425AB12CD has check character X, expected Q (ISO 7064 Mod 37-2)"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("CHG123425AB12C", "must be 15 characters"),
        ("XXG123425AB12CD", "must start with 'CH'"),
        ("CHO123425AB12CD", "facility 'O1234'"),
        ("CHG12342XAB12CD", "year '2X'"),
        ("CHG123425AB12C*", "sequence 'AB12C*'"),
        ("&/CHG123425AB12CDQ", "must be 15 characters"),
    ],
)
def test_a_malformed_coi_is_refused_naming_the_text_and_the_faulty_part(text: str, words: str) -> None:
    error = refusal(parse_coi, text)
    assert error.rule == "coi_format"
    assert f"coi {text!r}" in error.message
    assert words in error.message


@settings(database=None)
@given(coi_bodies, st.sampled_from(MOD_37_2_ALPHABET))
def test_any_valid_coi_round_trips_and_refuses_a_substituted_check(body: str, wrong: str) -> None:
    coi = parse_coi(body)
    assert parse_coi(coi.eye_readable) == coi == parse_coi(coi.data_structure)
    if wrong != coi.check_character:
        assert refusal(parse_coi, body + wrong).rule == "check_character"


def test_allocating_a_coi_builds_it_under_our_facility_and_year() -> None:
    assert allocate_coi("g1234", 2025, "ab12cd") == Coi("CHG123425AB12CD")
    assert allocate_coi("G1234", 5, "000001").value == "CHG123405000001"


@pytest.mark.parametrize(
    ("facility", "year", "sequence", "field"),
    [
        ("O1234", 2025, "AB12CD", "facility"),
        ("G123", 2025, "AB12CD", "facility"),
        ("G1234", 2025, "AB12C", "sequence"),
        ("G1234", 2025, "AB-2CD", "sequence"),
        ("G1234", -1, "AB12CD", "year"),
        ("G1234", 150, "AB12CD", "year"),
        ("G1234", True, "AB12CD", "year"),
    ],
)
def test_allocating_a_coi_refuses_a_bad_facility_year_or_sequence(
    facility: str, year: int, sequence: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        allocate_coi(facility, year, sequence)
    assert caught.value.field == field


def test_a_facility_number_is_read_tolerantly_and_refused_when_malformed() -> None:
    assert parse_facility(" g1234 ") == "G1234"
    error = refusal(parse_facility, "P12X4", field="site.fin")
    assert error.rule == "facility_format"
    assert error.message.startswith("site.fin 'P12X4' must be")


# --- product ids --------------------------------------------------------------------------------


def test_a_product_id_is_derived_from_its_coi_deterministically() -> None:
    coi = parse_coi("CHG123425AB12CD")
    assert product_id_for(coi) == product_id_for(parse_coi("&/chg123425ab12cd"))
    assert product_id_for(coi) == uuid.uuid5(PRODUCT_NAMESPACE, "CHG123425AB12CD")
    assert product_id_for(coi).version == 5
    assert product_id_for(coi) != product_id_for(Coi("CHG123425AB12CE"))


def test_the_product_namespace_never_changes() -> None:
    assert uuid.UUID("215c110b-cfd9-4866-9909-f7793a396d77") == PRODUCT_NAMESPACE
