"""The Single European Code: Annex VII's parts checked one by one, printed with "SEC", carried by an MSC dose.

Every code below is written by hand from the directive's table (2 + 6 + 13 + 1 + 7 + 3 + 8 = 40
characters); each refused one breaks exactly one part, and the refusal must name that part.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from domain_fixtures import PHYSICIAN, T0, FakeLedger, enrolment, msc_enrolment, msc_product_id, released_batch

from domain.errors import InvalidIdentifier, InvalidInput
from domain.identifiers import parse_coi, product_id_for
from domain.sec_code import parse_sec
from tests.unit.pathway_fixtures import ready_ledger

COMPACT = "FR0001230000000000001E000012300120271231"
PRINTED = "SEC FR000123 0000000000001 E0000123 001 20271231"
LATER = T0 + timedelta(hours=3)
"""After the test batch is released."""


def test_a_compact_code_is_read_part_by_part() -> None:
    code = parse_sec(COMPACT)
    assert (code.country_code, code.tissue_establishment_code, code.unique_donation_number) == (
        "FR",
        "000123",
        "0000000000001",
    )
    assert (code.product_coding_system, code.product_number, code.split_number, code.expiry_date) == (
        "E",
        "0000123",
        "001",
        "20271231",
    )
    assert code.donation_identification_sequence == "FR0001230000000000001"
    assert code.product_identification_sequence == "E000012300120271231"
    assert code.coding_system_name == "EUTC"
    assert code.expires_on == date(2027, 12, 31)


def test_it_prints_eye_readable_preceded_by_sec() -> None:
    code = parse_sec(COMPACT)
    assert code.eye_readable() == PRINTED
    assert code.two_lines() == "SEC FR0001230000000000001\nE000012300120271231"


@pytest.mark.parametrize(
    "given",
    [
        PRINTED,
        "SEC: FR000123 0000000000001 E0000123 001 20271231",
        "sec fr000123 0000000000001 e0000123 001 20271231",
        "FR0001230000000000001 E000012300120271231",
        f"  {COMPACT}  ",
    ],
)
def test_what_labels_and_scanners_give_reads_as_the_same_code(given: str) -> None:
    assert parse_sec(given).value == COMPACT


def test_isbt_128_and_eurocode_products_and_no_expiry_date() -> None:
    isbt = parse_sec("DE123ABC A999926123456 A00S1234 A01 00000000")
    assert isbt.coding_system_name == "ISBT 128"
    assert isbt.unique_donation_number == "A999926123456"
    assert isbt.expires_on is None
    assert parse_sec("GR00ZZ99 00000000000AB B1234567 002 20300228").coding_system_name == "Eurocode"


@pytest.mark.parametrize(
    ("given", "field", "words"),
    [
        ("SEC FR000123 0000000000001 E0000123 001 2027123", "sec.expiry_date", "has 7 characters"),
        (COMPACT[:-1], "sec", "has 39 characters"),
        (COMPACT + "1", "sec", "has 41 characters"),
        ("SEC F1000123 0000000000001 E0000123 001 20271231", "sec.country_code", "must be 2 letters"),
        ("SEC US000123 0000000000001 E0000123 001 20271231", "sec.country_code", "EU or EEA state"),
        ("SEC EL000123 0000000000001 E0000123 001 20271231", "sec.country_code", "EU or EEA state"),
        ("SEC FR0001-3 0000000000001 E0000123 001 20271231", "sec.tissue_establishment_code", "6 letters or digits"),
        ("SEC FR000123 000000000000/ E0000123 001 20271231", "sec.unique_donation_number", "13 letters or digits"),
        ("SEC FR000123 0000000000001 X0000123 001 20271231", "sec.product_coding_system", "not a permitted"),
        ("SEC FR000123 0000000000001 10000123 001 20271231", "sec.product_coding_system", "must be 1 letter"),
        ("SEC FR000123 0000000000001 E00001.3 001 20271231", "sec.product_number", "7 letters or digits"),
        ("SEC FR000123 0000000000001 E0000123 0_1 20271231", "sec.split_number", "3 letters or digits"),
        ("SEC FR000123 0000000000001 E0000123 001 2027123A", "sec.expiry_date", "8 digits"),
        ("SEC FR000123 0000000000001 E0000123 001 20270230", "sec.expiry_date", "not a calendar date"),
        ("SEC FR000123 0000000000001 E0000123 001 20271300", "sec.expiry_date", "not a calendar date"),
    ],
)
def test_a_malformed_code_is_refused_naming_the_part(given: str, field: str, words: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_sec(given)
    assert caught.value.rule == "invalid_sec"
    assert caught.value.field == field
    assert words in caught.value.message, caught.value.message


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ("SEC FR00012 0000000000001 E0000123 001 20271231", "sec.country_code"),
        ("SEC FR000123 000000000001 E0000123 001 20271231", "sec.unique_donation_number"),
        ("SEC FR000123 0000000000001 E000123 001 20271231", "sec.product_coding_system"),
        ("SEC FR000123 0000000000001 E0000123 01 20271231", "sec.split_number"),
        ("FR0001230000000000001 E00001230012027123", "sec.product_coding_system"),
    ],
)
def test_a_spaced_code_with_a_short_group_names_that_group(given: str, field: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_sec(given)
    assert (caught.value.rule, caught.value.field) == ("invalid_sec", field)


def test_text_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_sec(40, field="payload.sec")
    assert (caught.value.field, caught.value.rule) == ("payload.sec", "invalid_sec")


@pytest.fixture
def ledger() -> FakeLedger:
    return ready_ledger()


def test_an_msc_dose_carries_its_sec_stored_compact(ledger: FakeLedger) -> None:
    batch_id = released_batch(ledger)
    dose = msc_product_id()
    ledger.record("ProductEnrolled", dose, msc_enrolment(batch_id, 1, sec=PRINTED.lower()), PHYSICIAN, LATER)
    enrolled = ledger.histories[dose][0]
    assert enrolled.payload["sec"] == COMPACT


def test_an_msc_dose_with_a_malformed_sec_is_refused_and_nothing_is_stored(ledger: FakeLedger) -> None:
    batch_id = released_batch(ledger)
    ledger.refuse(
        InvalidIdentifier,
        field="payload.sec.split_number",
        rule="invalid_sec",
        message="3 letters or digits",
        event_type="ProductEnrolled",
        aggregate_id=msc_product_id(),
        payload=msc_enrolment(batch_id, 1, sec="SEC FR000123 0000000000001 E0000123 0-1 20271231"),
        actor=PHYSICIAN,
        at=LATER,
    )


def test_an_autologous_car_t_product_takes_no_sec(ledger: FakeLedger) -> None:
    payload = enrolment(sec=COMPACT)
    ledger.refuse(
        InvalidInput,
        field="payload.sec",
        rule="not_for_car_t",
        message="is for MSC bank doses",
        event_type="ProductEnrolled",
        aggregate_id=product_id_for(parse_coi(payload["coi"])),
        payload=payload,
        actor=PHYSICIAN,
        at=T0,
    )
