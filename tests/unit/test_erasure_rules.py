"""Who may erase a patient's identity, and when: the retention period of the patient's products."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.erasure import ErasureRequest, RetainedProduct, check_erasure, retained_until
from domain.errors import CustodyError

REQUEST = ErasureRequest("admin", "admin", "pharm-lea", "pharmacist", "patient's request, ticket DPO-7")
INFUSED = RetainedProduct("KYMRIAH", 30, datetime(2001, 5, 10, 14, 0, tzinfo=UTC))


def test_retention_runs_thirty_years_from_the_products_last_record() -> None:
    assert retained_until(INFUSED) == date(2031, 5, 10)
    leap = RetainedProduct("KYMRIAH", 30, datetime(2004, 2, 29, tzinfo=UTC))
    assert retained_until(leap) == date(2034, 2, 28)


@pytest.mark.parametrize(
    ("today", "allowed"), [(datetime(2031, 5, 9, tzinfo=UTC), False), (datetime(2031, 5, 10, tzinfo=UTC), True)]
)
def test_an_erasure_is_refused_until_the_last_day_of_retention_has_passed(today: datetime, allowed: bool) -> None:
    if allowed:
        check_erasure(REQUEST, (INFUSED,), today)
        return
    with pytest.raises(CustodyError) as refused:
        check_erasure(REQUEST, (INFUSED,), today)
    assert (refused.value.field, refused.value.rule) == ("legal_ground", "retention_period_running")
    assert "KYMRIAH" in refused.value.message and "2031-05-10" in refused.value.message


def test_a_documented_legal_ground_overrides_a_running_retention() -> None:
    grounded = ErasureRequest("admin", "admin", "pharm-lea", "pharmacist", "court order", "TJ Paris 31/00412")
    check_erasure(grounded, (INFUSED,), datetime(2020, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("request_", "field", "rule"),
    [
        (ErasureRequest("admin", "admin", "pharm-lea", "pharmacist", ""), "reason", "erasure_reason_required"),
        (ErasureRequest("admin", "admin", "admin", "admin", "x"), "approver", "erasure_needs_two_people"),
        (ErasureRequest("nurse", "nurse", "pharm-lea", "pharmacist", "x"), "requester", "erasure_role_refused"),
        (ErasureRequest("admin", "admin", "admin2", "admin", "x"), "approver", "erasure_role_refused"),
        (ErasureRequest("admin", "admin", "pharm-lea", "pharmacist", "a\x1b[2Jb"), "reason", "control_character"),
    ],
)
def test_an_erasure_needs_a_clean_reason_and_two_entitled_people(
    request_: ErasureRequest, field: str, rule: str
) -> None:
    with pytest.raises(CustodyError) as refused:
        check_erasure(request_, (), datetime(2040, 1, 1, tzinfo=UTC))
    assert refused.value.field == field and refused.value.rule == rule
