"""The product catalogue: the labels' defaults, site overrides, and refusal of bad configuration."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest

from domain.catalogue import Catalogue, CatalogueEntry
from domain.errors import InvalidInput


def refused(data: Any) -> InvalidInput:
    """Build a catalogue from configuration expecting a refusal, and return it."""
    with pytest.raises(InvalidInput) as caught:
        Catalogue.from_mapping(data)
    return caught.value


@pytest.mark.parametrize(
    ("code", "storage", "thaw", "lymphodepletion"),
    [
        ("KYMRIAH", -120.0, 30, (2, 14)),
        ("TECARTUS", -150.0, 30, (3, 3)),
        ("BREYANZI", -130.0, 120, (2, 7)),
        ("ABECMA", -130.0, 60, (2, 7)),
        ("CARVYKTI", -120.0, 150, (2, 4)),
        ("ACADEMIC-CD19", -150.0, 60, (2, 14)),
    ],
)
def test_the_default_catalogue_carries_the_figures_seen_on_real_products(
    code: str, storage: float | None, thaw: int, lymphodepletion: tuple[int, int] | None
) -> None:
    entry = Catalogue.default().get(code)
    assert entry.kind == "car_t"
    assert (entry.storage_max_c, entry.thaw_to_infusion_min, entry.lymphodepletion_days) == (
        storage,
        thaw,
        lymphodepletion,
    )
    assert entry.bags_max == 3


def test_default_fresh_windows_and_collection_age_come_from_site_practice() -> None:
    entry = Catalogue.default().get("KYMRIAH")
    assert entry.fresh_shipping_window_h == 30.0
    assert entry.fresh_room_temperature_window_h == 18.0
    assert entry.collection_max_age_days == 270


def test_shipper_ranges_default_to_the_classes_and_the_dry_shipper_to_the_storage_limit() -> None:
    entry = Catalogue.default().get("KYMRIAH")
    assert entry.fresh_2_8c_range_c == (2.0, 8.0)
    assert entry.room_temperature_range_c == (15.0, 25.0)
    assert entry.ln2_dry_shipper_max_c is None  # the storage limit, -120 °C for Kymriah, applies


def test_a_site_sets_its_own_shipper_ranges_from_json() -> None:
    ranges = {"fresh_2_8c_range_c": [2, 6], "room_temperature_range_c": [18.5, 24]}
    data = {"KYMRIAH": {"ln2_dry_shipper_max_c": -150, **ranges}}
    entry = Catalogue.from_mapping(data).get("KYMRIAH")
    assert entry.ln2_dry_shipper_max_c == -150.0
    assert entry.fresh_2_8c_range_c == (2.0, 6.0)
    assert entry.room_temperature_range_c == (18.5, 24.0)
    assert Catalogue.from_mapping(data).get("TECARTUS").fresh_2_8c_range_c == (2.0, 8.0)


def test_the_msc_bank_entry_is_one_bag_per_dose() -> None:
    entry = Catalogue.default().get("MSC-BANK")
    assert (entry.kind, entry.storage_max_c, entry.thaw_to_infusion_min, entry.bags_max) == (
        "msc",
        -150.0,
        60,
        1,
    )
    assert entry.lymphodepletion_days is None


def test_the_catalogue_lists_and_iterates_its_codes_in_a_stable_order() -> None:
    catalogue = Catalogue.default()
    assert catalogue.codes() == (
        "KYMRIAH",
        "TECARTUS",
        "BREYANZI",
        "ABECMA",
        "CARVYKTI",
        "ACADEMIC-CD19",
        "MSC-BANK",
    )
    assert [entry.code for entry in catalogue] == list(catalogue.codes())
    assert len(catalogue) == 7
    assert "KYMRIAH" in catalogue


def test_an_unknown_product_code_is_refused_listing_the_known_codes() -> None:
    with pytest.raises(InvalidInput) as caught:
        Catalogue.default().get("YESCARTA", field="order.product_code")
    error = caught.value
    assert error.rule == "unknown_product_code"
    assert error.field == "order.product_code"
    assert "'YESCARTA'" in error.message
    assert "KYMRIAH" in error.message and "MSC-BANK" in error.message


def test_a_site_overrides_one_figure_and_keeps_the_others() -> None:
    catalogue = Catalogue.from_mapping({"KYMRIAH": {"thaw_to_infusion_min": 20, "storage_max_c": -150}})
    entry = catalogue.get("KYMRIAH")
    assert entry.thaw_to_infusion_min == 20
    assert entry.storage_max_c == -150.0
    assert isinstance(entry.storage_max_c, float)
    assert entry.lymphodepletion_days == (2, 14)
    assert Catalogue.default().get("KYMRIAH").thaw_to_infusion_min == 30


def test_a_site_can_set_a_limit_to_null_when_the_protocol_governs() -> None:
    entry = Catalogue.from_mapping({"ABECMA": {"lymphodepletion_days": None}}).get("ABECMA")
    assert entry.lymphodepletion_days is None


def test_a_site_adds_a_trial_product_from_parsed_json() -> None:
    data = json.loads(
        '{"TRIAL-MSC-7": {"name": "MSC trial 7", "kind": "msc", "storage_max_c": -140,'
        ' "thaw_to_infusion_min": 45, "lymphodepletion_days": null}}'
    )
    catalogue = Catalogue.from_mapping(data)
    entry = catalogue.get("TRIAL-MSC-7")
    assert entry == CatalogueEntry("TRIAL-MSC-7", "MSC trial 7", "msc", -140.0, 45, None, bags_max=1)
    assert catalogue.codes()[-1] == "TRIAL-MSC-7"
    assert "KYMRIAH" in catalogue


def test_a_site_adds_a_car_t_product_from_parsed_toml_with_a_day_range_list() -> None:
    data = tomllib.loads(
        '[CD19-TRIAL]\nname = "Anti-CD19 trial"\nkind = "car_t"\nstorage_max_c = -150.0\n'
        "thaw_to_infusion_min = 90\nlymphodepletion_days = [2, 10]\nfresh_shipping_window_h = 24\n"
    )
    entry = Catalogue.from_mapping(data).get("CD19-TRIAL")
    assert entry.lymphodepletion_days == (2, 10)
    assert entry.fresh_shipping_window_h == 24.0
    assert entry.bags_max == 3


def test_a_new_product_must_state_every_limit_even_if_null() -> None:
    error = refused({"NEW": {"name": "New", "kind": "car_t", "storage_max_c": -150, "thaw_to_infusion_min": 30}})
    assert error.rule == "catalogue_missing_key"
    assert error.field == "catalogue.NEW.lymphodepletion_days"
    assert "catalogue.NEW.lymphodepletion_days" in error.message


def test_an_unknown_setting_is_refused_naming_its_path() -> None:
    error = refused({"KYMRIAH": {"thaw_minutes": 30}})
    assert error.rule == "catalogue_unknown_key"
    assert error.field == "catalogue.KYMRIAH.thaw_minutes"
    assert error.message.startswith("catalogue.KYMRIAH.thaw_minutes is not a catalogue setting")
    assert "thaw_to_infusion_min" in error.message


def test_the_code_cannot_be_changed_inside_an_entry() -> None:
    assert refused({"KYMRIAH": {"code": "OTHER"}}).rule == "catalogue_unknown_key"


@pytest.mark.parametrize(
    ("setting", "value", "rule"),
    [
        ("thaw_to_infusion_min", "30", "catalogue_wrong_type"),
        ("thaw_to_infusion_min", 30.5, "catalogue_wrong_type"),
        ("thaw_to_infusion_min", True, "catalogue_wrong_type"),
        ("thaw_to_infusion_min", 0, "catalogue_out_of_range"),
        ("thaw_to_infusion_min", 2000, "catalogue_out_of_range"),
        ("storage_max_c", "-120", "catalogue_wrong_type"),
        ("storage_max_c", float("nan"), "catalogue_out_of_range"),
        ("storage_max_c", 153.15, "catalogue_out_of_range"),
        ("storage_max_c", -300, "catalogue_out_of_range"),
        ("lymphodepletion_days", [2], "catalogue_wrong_type"),
        ("lymphodepletion_days", [2, "14"], "catalogue_wrong_type"),
        ("lymphodepletion_days", "2-14", "catalogue_wrong_type"),
        ("lymphodepletion_days", [14, 2], "catalogue_out_of_range"),
        ("lymphodepletion_days", [-1, 2], "catalogue_out_of_range"),
        ("fresh_shipping_window_h", None, "catalogue_wrong_type"),
        ("fresh_shipping_window_h", 0, "catalogue_out_of_range"),
        ("fresh_room_temperature_window_h", float("inf"), "catalogue_out_of_range"),
        ("collection_max_age_days", 0, "catalogue_out_of_range"),
        ("collection_max_age_days", 270.0, "catalogue_wrong_type"),
        ("bags_max", 0, "catalogue_out_of_range"),
        ("kind", "tcr_t", "catalogue_wrong_type"),
        ("name", "  ", "catalogue_wrong_type"),
        ("name", 7, "catalogue_wrong_type"),
        ("fresh_2_8c_range_c", [2.0], "catalogue_wrong_type"),
        ("fresh_2_8c_range_c", "2-8", "catalogue_wrong_type"),
        ("fresh_2_8c_range_c", [2, True], "catalogue_wrong_type"),
        ("fresh_2_8c_range_c", None, "catalogue_wrong_type"),
        ("fresh_2_8c_range_c", [8, 2], "catalogue_out_of_range"),
        ("room_temperature_range_c", [15, 60], "catalogue_out_of_range"),
        ("room_temperature_range_c", [float("nan"), 25], "catalogue_out_of_range"),
        ("ln2_dry_shipper_max_c", "-150", "catalogue_wrong_type"),
        ("ln2_dry_shipper_max_c", -300, "catalogue_out_of_range"),
    ],
)
def test_a_setting_of_the_wrong_type_or_range_is_refused_naming_its_path(setting: str, value: Any, rule: str) -> None:
    error = refused({"KYMRIAH": {setting: value}})
    assert error.rule == rule
    assert error.field == f"catalogue.KYMRIAH.{setting}"
    assert error.message.startswith(f"catalogue.KYMRIAH.{setting} must")


@pytest.mark.parametrize("data", [[], "KYMRIAH", {"KYMRIAH": 30}, {"KYMRIAH": [30]}, {"BAD CODE": {}}, {"": {}}])
def test_a_catalogue_that_is_not_a_table_of_tables_is_refused(data: Any) -> None:
    assert refused(data).rule == "catalogue_wrong_type"


def test_an_entry_built_directly_is_validated_too() -> None:
    with pytest.raises(InvalidInput) as caught:
        CatalogueEntry("X", "X", "car_t", -150.0, -5, None)
    assert caught.value.field == "catalogue.X.thaw_to_infusion_min"


def test_a_catalogue_refuses_the_same_code_twice() -> None:
    entry = Catalogue.default().get("KYMRIAH")
    with pytest.raises(InvalidInput) as caught:
        Catalogue([entry, entry])
    assert caught.value.rule == "catalogue_duplicate_code"


def test_every_product_has_wide_physical_plausible_ranges_by_default() -> None:
    for entry in Catalogue.default():
        assert entry.apheresis_volume_ml == (10.0, 1000.0)
        assert entry.apheresis_tnc_cells == (1e8, 1e12)
        assert entry.apheresis_cd3_cells == (1e7, 1e12)
        assert entry.infused_volume_ml == (1.0, 500.0)
        assert entry.infused_viable_cells == (1e5, 1e10)


def test_a_site_overrides_one_plausible_range_of_one_product_from_toml() -> None:
    data = tomllib.loads("[KYMRIAH]\napheresis_volume_ml = [20, 400]\ninfused_viable_cells = [1e6, 6e8]\n")
    catalogue = Catalogue.from_mapping(data)
    kymriah = catalogue.get("KYMRIAH")
    assert (kymriah.apheresis_volume_ml, kymriah.infused_viable_cells) == ((20.0, 400.0), (1e6, 6e8))
    assert kymriah.infused_volume_ml == (1.0, 500.0)
    assert catalogue.get("TECARTUS").apheresis_volume_ml == (10.0, 1000.0)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ([10], "catalogue_wrong_type"),
        ("10-1000", "catalogue_wrong_type"),
        ([10, "1000"], "catalogue_wrong_type"),
        ([True, 1000], "catalogue_wrong_type"),
        (None, "catalogue_wrong_type"),
        ([1000, 10], "catalogue_out_of_range"),
        ([0, 1000], "catalogue_out_of_range"),
        ([-5, 1000], "catalogue_out_of_range"),
        ([10, float("inf")], "catalogue_out_of_range"),
        ([float("nan"), 1000], "catalogue_out_of_range"),
    ],
)
def test_a_bad_plausible_range_is_refused_naming_its_path(value: Any, rule: str) -> None:
    error = refused({"KYMRIAH": {"apheresis_volume_ml": value}})
    assert (error.rule, error.field) == (rule, "catalogue.KYMRIAH.apheresis_volume_ml")
    assert error.message.startswith("catalogue.KYMRIAH.apheresis_volume_ml must")
