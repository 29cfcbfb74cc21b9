"""`GET /products` one page at a time, cut by the database: the pages follow each other, none twice, none missed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ledger.settings import Settings
from projections.bench_reads import bench_read_pages
from tests.api.conftest import START
from tests.integration.journeys import Recorder, enrolled, released_and_stored


def test_pages_follow_each_other_most_recently_changed_first(sign_in: Any, team: Recorder) -> None:
    oldest = enrolled(team, START, "PSN-TEST-0001")
    middle = enrolled(team, START + timedelta(days=1), "PSN-TEST-0002")
    newest = enrolled(team, START + timedelta(days=2), "PSN-TEST-0003")
    nurse = sign_in("nurse")
    pages = [
        [row["product_id"] for row in nurse.get("/products", params={"limit": 2, "offset": offset}).json()]
        for offset in (0, 2, 4)
    ]
    assert pages == [[str(newest.product), str(middle.product)], [str(oldest.product)], []]
    in_state = nurse.get("/products", params={"state": "enrolled", "limit": 1, "offset": 1}).json()
    assert [row["product_id"] for row in in_state] == [str(middle.product)]
    assert nurse.get("/products", params={"offset": -1}).status_code == 422
    assert nurse.get("/products", params={"limit": 1001}).status_code == 422


def test_inventory_pages_follow_the_storage_locations(sign_in: Any, team: Recorder) -> None:
    first = released_and_stored(team, START, "PSN-TEST-0001")
    second = released_and_stored(team, START + timedelta(days=1), "PSN-TEST-0002")
    pharmacist = sign_in("pharmacist")
    whole = [row["product_id"] for row in pharmacist.get("/inventory").json()]
    assert sorted(whole) == sorted([str(first.product), str(second.product)])
    pages = [
        [row["product_id"] for row in pharmacist.get("/inventory", params={"limit": 1, "offset": n}).json()]
        for n in (0, 1, 2)
    ]
    assert pages == [[whole[0]], [whole[1]], []]
    assert pharmacist.get("/inventory", params={"limit": 0}).status_code == 422


def test_the_read_bench_reports_each_page_at_both_sizes(settings: Settings) -> None:
    figures = bench_read_pages(settings, journeys=3, times=2, sizes=(20, 60))
    for read in ("product_list_page", "product_list_page_in_state", "inventory_page", "product_status"):
        assert figures[f"{read}_ms_1e3"] > 0 and figures[f"{read}_ms_1e5"] > 0
        ratio = figures[f"{read}_ms_1e5"] / figures[f"{read}_ms_1e3"]
        assert figures[f"{read}_1e5_over_1e3"] == pytest.approx(ratio, rel=0.01)
