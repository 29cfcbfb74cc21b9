"""The catalogue's amber and red thresholds of each running deadline, and the level a deadline has by them.

Expected levels and messages are written by hand; the figures are the defaults documented in
domain/catalogue.py (thaw: amber 15, red 5 min; fresh shipping: amber 360, red 120 min).
"""

from __future__ import annotations

from typing import Any

import pytest

from domain.catalogue import Catalogue
from domain.catalogue_diff import differences
from domain.deadline_urgency import Urgency, urgency
from domain.errors import InvalidInput

KYMRIAH = Catalogue.default().get("KYMRIAH")


@pytest.mark.parametrize(
    ("kind", "seconds_left", "level"),
    [
        ("thaw_to_infusion", 15 * 60 + 1, Urgency.CALM),
        ("thaw_to_infusion", 15 * 60, Urgency.AMBER),
        ("thaw_to_infusion", 5 * 60 + 1, Urgency.AMBER),
        ("thaw_to_infusion", 5 * 60, Urgency.RED),
        ("thaw_to_infusion", 0, Urgency.RED),
        ("thaw_to_infusion", -1, Urgency.OVERDUE),
        ("fresh_shipping_window", 6 * 3600 + 1, Urgency.CALM),
        ("fresh_shipping_window", 6 * 3600, Urgency.AMBER),
        ("fresh_shipping_window", 2 * 3600, Urgency.RED),
        ("fresh_shipping_window", -3600, Urgency.OVERDUE),
        ("a_clock_without_thresholds", 60, Urgency.CALM),
        ("a_clock_without_thresholds", -60, Urgency.OVERDUE),
    ],
)
def test_the_level_of_a_deadline_by_the_default_thresholds(kind: str, seconds_left: float, level: Urgency) -> None:
    assert urgency(kind, seconds_left, KYMRIAH) is level


def test_a_product_missing_from_the_catalogue_still_shouts_when_overdue() -> None:
    assert urgency("thaw_to_infusion", 60, None) is Urgency.CALM
    assert urgency("thaw_to_infusion", -60, None) is Urgency.OVERDUE


def test_a_site_sets_its_own_thresholds() -> None:
    entry = Catalogue.from_mapping({"KYMRIAH": {"thaw_to_infusion_amber_min": 20, "thaw_to_infusion_red_min": 10}}).get(
        "KYMRIAH"
    )
    assert (entry.thaw_to_infusion_amber_min, entry.thaw_to_infusion_red_min) == (20, 10)
    assert urgency("thaw_to_infusion", 19 * 60, entry) is Urgency.AMBER
    assert urgency("thaw_to_infusion", 10 * 60, entry) is Urgency.RED
    assert urgency("thaw_to_infusion", 0, entry) is Urgency.RED


def test_red_at_zero_means_red_only_when_reached() -> None:
    entry = Catalogue.from_mapping({"KYMRIAH": {"thaw_to_infusion_red_min": 0}}).get("KYMRIAH")
    assert urgency("thaw_to_infusion", 1, entry) is Urgency.AMBER
    assert urgency("thaw_to_infusion", 0, entry) is Urgency.RED


@pytest.mark.parametrize(
    ("settings", "field", "rule"),
    [
        ({"thaw_to_infusion_amber_min": "15"}, "catalogue.KYMRIAH.thaw_to_infusion_amber_min", "catalogue_wrong_type"),
        ({"thaw_to_infusion_amber_min": 15.5}, "catalogue.KYMRIAH.thaw_to_infusion_amber_min", "catalogue_wrong_type"),
        ({"thaw_to_infusion_red_min": True}, "catalogue.KYMRIAH.thaw_to_infusion_red_min", "catalogue_wrong_type"),
        ({"thaw_to_infusion_red_min": -1}, "catalogue.KYMRIAH.thaw_to_infusion_red_min", "catalogue_out_of_range"),
        (
            {"fresh_shipping_window_amber_min": 10081},
            "catalogue.KYMRIAH.fresh_shipping_window_amber_min",
            "catalogue_out_of_range",
        ),
        (
            {"thaw_to_infusion_amber_min": 5, "thaw_to_infusion_red_min": 6},
            "catalogue.KYMRIAH.thaw_to_infusion_red_min",
            "catalogue_out_of_range",
        ),
        ({"thaw_to_infusion_red_min": 16}, "catalogue.KYMRIAH.thaw_to_infusion_red_min", "catalogue_out_of_range"),
        ({"thaw_to_infusion_orange_min": 10}, "catalogue.KYMRIAH.thaw_to_infusion_orange_min", "catalogue_unknown_key"),
    ],
)
def test_a_bad_threshold_is_refused_naming_the_setting_and_the_rule(
    settings: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        Catalogue.from_mapping({"KYMRIAH": settings})
    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert field in refused.value.message


def test_a_threshold_change_is_shown_by_the_catalogue_diff() -> None:
    after = Catalogue.from_mapping({"KYMRIAH": {"thaw_to_infusion_amber_min": 20}})
    changes = [change.line() for change in differences(Catalogue.default(), after)]
    assert changes == ["~ KYMRIAH.thaw_to_infusion_amber_min: 15 → 20"]
