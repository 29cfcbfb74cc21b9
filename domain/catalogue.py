"""The product catalogue: per-product limits the custody rules read, never constants in the rules.

Storage temperature, thaw-to-infusion window, lymphodepletion-to-infusion window, fresh shipping
windows, collection age and bag count differ between products and sites. ``Catalogue.default()``
carries the figures of the products' labels (SmPCs, cited below); a site overrides or extends
them from its configuration file with ``Catalogue.from_mapping``. Every figure is validated with the exact setting named
("catalogue.KYMRIAH.thaw_to_infusion_min") so a bad configuration is refused at start-up, not
discovered at the bedside.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, cast

from domain import plausibility as plausible
from domain.errors import InvalidInput
from domain.release_panel import DEFAULT_PANELS, QcCriterion, extend_panel

ProductKind = Literal["car_t", "msc"]
KINDS: tuple[ProductKind, ...] = ("car_t", "msc")
THAW_ORIGINS = ("completion", "start")
"""Where a label counts the thaw-to-infusion window from: the end of thawing, or its start (Abecma)."""
_DEFAULT_BAGS_MAX: dict[ProductKind, int] = {"car_t": 3, "msc": 1}
_REQUIRED_FOR_NEW = ("name", "kind", "storage_max_c", "thaw_to_infusion_min", "lymphodepletion_days")
DEADLINE_KINDS = ("thaw_to_infusion", "fresh_shipping_window")
"""The clocks a product's status runs (projections/product_status.py), each with its amber and red thresholds."""


def _refuse(path: str, message: str, rule: str) -> InvalidInput:
    """Build the error for one configuration setting, named by its full path."""
    return InvalidInput(f"{path} {message}", field=path, rule=rule)


def _got(value: object) -> str:
    """Describe a wrong value and its type for the message."""
    return f"got {value!r} ({type(value).__name__})"


def _is_number(value: object) -> bool:
    """True for int or float but not bool (JSON true is not a temperature)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: object) -> bool:
    """True for int but not bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _code(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"\S+", value):
        raise _refuse("catalogue", f"product code must be text without spaces, {_got(value)}", "catalogue_wrong_type")
    return value


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _refuse(path, f"must be non-empty text, {_got(value)}", "catalogue_wrong_type")
    return value.strip()


def _kind(value: object, path: str) -> ProductKind:
    if value not in KINDS:
        raise _refuse(path, f"must be one of {', '.join(KINDS)}, {_got(value)}", "catalogue_wrong_type")
    return value


def _temperature(value: object, path: str) -> float | None:
    if value is None:
        return None
    if not _is_number(value):
        raise _refuse(path, f"must be a temperature in °C or null, {_got(value)}", "catalogue_wrong_type")
    number = float(cast(float, value))
    if not math.isfinite(number) or not -273.15 <= number <= 40.0:
        raise _refuse(path, f"must be between -273.15 and 40 °C, {_got(value)}", "catalogue_out_of_range")
    return number


def _minutes(value: object, path: str) -> int | None:
    if value is None:
        return None
    if not _is_int(value):
        raise _refuse(path, f"must be a whole number of minutes or null, {_got(value)}", "catalogue_wrong_type")
    if not 1 <= cast(int, value) <= 24 * 60:
        raise _refuse(path, f"must be between 1 and 1440 minutes, {_got(value)}", "catalogue_out_of_range")
    return cast(int, value)


def _day_range(value: object, path: str) -> tuple[int, int] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2 or not all(_is_int(v) for v in value):
        raise _refuse(path, f"must be [min, max] whole days or null, {_got(value)}", "catalogue_wrong_type")
    low, high = cast(int, value[0]), cast(int, value[1])
    if not 0 <= low <= high:
        raise _refuse(path, f"must have 0 <= min <= max, {_got(value)}", "catalogue_out_of_range")
    return (low, high)


def _hours(value: object, path: str) -> float:
    if not _is_number(value):
        raise _refuse(path, f"must be a number of hours, {_got(value)}", "catalogue_wrong_type")
    number = float(cast(float, value))
    if not math.isfinite(number) or number <= 0:
        raise _refuse(path, f"must be a positive number of hours, {_got(value)}", "catalogue_out_of_range")
    return number


def _thaw_origin(value: object, path: str) -> str:
    if value not in THAW_ORIGINS:
        raise _refuse(path, f"must be one of {', '.join(THAW_ORIGINS)}, {_got(value)}", "catalogue_wrong_type")
    return str(value)


def _minutes_left(value: object, path: str) -> int:
    """Minutes before a deadline at which the worklist warns: 0 (only once overdue) up to a week."""
    if not _is_int(value):
        raise _refuse(path, f"must be a whole number of minutes, {_got(value)}", "catalogue_wrong_type")
    if not 0 <= cast(int, value) <= 7 * 24 * 60:
        raise _refuse(path, f"must be between 0 and 10080 minutes, {_got(value)}", "catalogue_out_of_range")
    return cast(int, value)


def _temperature_range(value: object, path: str) -> tuple[float, float]:
    """A shipper's acceptable range [low, high] in °C, low not above high."""
    if not isinstance(value, list | tuple) or len(value) != 2 or not all(_is_number(v) for v in value):
        raise _refuse(path, f"must be [low, high] in °C, {_got(value)}", "catalogue_wrong_type")
    low, high = (cast(float, _temperature(v, path)) for v in value)
    if low > high:
        raise _refuse(path, f"must have low <= high, {_got(value)}", "catalogue_out_of_range")
    return (low, high)


def _count(value: object, path: str) -> int:
    if not _is_int(value):
        raise _refuse(path, f"must be a whole number, {_got(value)}", "catalogue_wrong_type")
    if cast(int, value) < 1:
        raise _refuse(path, f"must be at least 1, {_got(value)}", "catalogue_out_of_range")
    return cast(int, value)


_SETTINGS: dict[str, Callable[[object, str], object]] = {
    "name": _text,
    "kind": _kind,
    "storage_max_c": _temperature,
    "thaw_to_infusion_min": _minutes,
    "lymphodepletion_days": _day_range,
    "fresh_shipping_window_h": _hours,
    "fresh_room_temperature_window_h": _hours,
    "collection_max_age_days": _count,
    "bags_max": _count,
    "thaw_window_from": _thaw_origin,
    **{quantity.setting: plausible.plausible_range for quantity in plausible.QUANTITIES},  # [low, high]
    "fresh_2_8c_range_c": _temperature_range,
    "room_temperature_range_c": _temperature_range,
    "ln2_dry_shipper_max_c": _temperature,
    **{f"{kind}_{level}_min": _minutes_left for kind in DEADLINE_KINDS for level in ("amber", "red")},
    "logger_gap_max_min": _minutes,
}


@dataclass(frozen=True)
class CatalogueEntry:
    """One product's limits; None means no catalogue limit (the protocol or label governs)."""

    code: str
    name: str
    kind: ProductKind
    storage_max_c: float | None
    thaw_to_infusion_min: int | None  # to infusion start, from thaw completion (or start: thaw_window_from)
    lymphodepletion_days: tuple[int, int] | None  # (min, max) days, end of lymphodepletion → infusion
    fresh_shipping_window_h: float = 30.0  # fresh apheresis at 2–8 °C in a validated box
    fresh_room_temperature_window_h: float = 18.0  # fresh apheresis at room temperature
    collection_max_age_days: int = 270  # apheresis older than ~9 months at manufacture is out of spec
    bags_max: int = 3
    retention_years: int = 30  # ATMP traceability records: 30 years (Directive 2009/120/EC); bounds identity erasure
    thaw_window_from: str = "completion"
    # What a shipper's data logger may read on the way, per temperature class (domain/shipment.py): a cold box
    # 2–8 °C and room temperature 15–25 °C (the fresh windows above are validated in those ranges); an LN2 dry
    # shipper at or below ln2_dry_shipper_max_c, by default the storage limit, since each label (SmPC 6.4)
    # sets one limit for storage and transport alike.
    fresh_2_8c_range_c: tuple[float, float] = (2.0, 8.0)
    room_temperature_range_c: tuple[float, float] = (15.0, 25.0)
    ln2_dry_shipper_max_c: float | None = None  # None: the product's storage_max_c
    # The longest stretch of a journey a shipper's logger may leave unrecorded (domain/logger_journey.py): two
    # readings missed at a 15-minute interval. Longer, the temperature was not known: a deviation. None: not judged.
    logger_gap_max_min: int | None = 30
    # Physically plausible ranges, not specifications: each default's why is in domain/plausibility.py.
    apheresis_volume_ml: tuple[float, float] = plausible.APHERESIS_VOLUME.default
    apheresis_tnc_cells: tuple[float, float] = plausible.APHERESIS_TNC.default
    apheresis_cd3_cells: tuple[float, float] = plausible.APHERESIS_CD3.default
    infused_volume_ml: tuple[float, float] = plausible.INFUSED_VOLUME.default
    infused_viable_cells: tuple[float, float] = plausible.INFUSED_VIABLE_CELLS.default
    release_panel: tuple[QcCriterion, ...] = ()  # empty: the kind's default panel (domain.release_panel)
    # When a running deadline turns amber ("soon"), then red, on the worklist and the product page: minutes left.
    # A 30-min thaw window warns at 15 then 5 min, when a nurse can still reach the bedside in time; a 30-h fresh
    # window at 6 h then 2 h, when a courier can still be rerouted. Red may not come before amber.
    thaw_to_infusion_amber_min: int = 15
    thaw_to_infusion_red_min: int = 5
    fresh_shipping_window_amber_min: int = 360
    fresh_shipping_window_red_min: int = 120

    @property
    def waste_stream(self) -> str:
        """Where a destroyed product goes: CAR-T cells are GMOs (Code de l'environnement L.532-1), else human origin."""
        return "gmo" if self.kind == "car_t" else "human_origin"

    def __post_init__(self) -> None:
        _code(self.code)
        for name, check in _SETTINGS.items():
            object.__setattr__(self, name, check(getattr(self, name), f"catalogue.{self.code}.{name}"))
        if not self.release_panel:
            object.__setattr__(self, "release_panel", DEFAULT_PANELS[self.kind])
        for kind in DEADLINE_KINDS:
            amber, red = getattr(self, f"{kind}_amber_min"), getattr(self, f"{kind}_red_min")
            if red > amber:
                raise _refuse(
                    f"catalogue.{self.code}.{kind}_red_min",
                    f"must not exceed {kind}_amber_min ({amber}): red comes after amber, got {red!r}",
                    "catalogue_out_of_range",
                )


_DEFAULT_ENTRIES = (
    # tisagenlecleucel: ≤ −120 °C; infuse within 30 min of thaw completion; 2–14 days after lymphodepletion.
    CatalogueEntry("KYMRIAH", "Kymriah (tisagenlecleucel)", "car_t", -120.0, 30, (2, 14)),
    # brexucabtagene autoleucel: ≤ −150 °C (SmPC 6.4); start within 30 min (stable ≤ 3 h at room temperature,
    # SmPC 6.3); lymphodepletion "on the 5th, 4th and 3rd day before infusion" (SmPC 4.2): 3 days after it ends.
    CatalogueEntry("TECARTUS", "Tecartus (brexucabtagene autoleucel)", "car_t", -150.0, 30, (3, 3)),
    # lisocabtagene maraleucel: vapour phase of LN2 ≤ −130 °C (SmPC 6.4); ≤ 2 h after thaw (SmPC 6.6);
    # 2–7 days after lymphodepletion (SmPC 4.2).
    CatalogueEntry("BREYANZI", "Breyanzi (lisocabtagene maraleucel)", "car_t", -130.0, 120, (2, 7)),
    # idecabtagene vicleucel: ≤ −130 °C (SmPC 6.4); infuse within 1 h from the START of thaw (SmPC 4.2/6.6);
    # 2 days after lymphodepletion, up to 7 (SmPC 4.2).
    CatalogueEntry("ABECMA", "Abecma (idecabtagene vicleucel)", "car_t", -130.0, 60, (2, 7), thaw_window_from="start"),
    # ciltacabtagene autoleucel: vapour phase of LN2 ≤ −120 °C (SmPC 6.4); ≤ 2.5 h after thaw (SmPC 6.6);
    # 2–4 days after lymphodepletion (SmPC 4.2: 5–7 days after its start).
    CatalogueEntry("CARVYKTI", "Carvykti (ciltacabtagene autoleucel)", "car_t", -120.0, 150, (2, 4)),
    # Academic anti-CD19 CAR-T in a trial: PLACEHOLDER figures; the protocol defines them, override per site.
    CatalogueEntry("ACADEMIC-CD19", "Academic anti-CD19 CAR-T (trial)", "car_t", -150.0, 60, (2, 14)),
    # Allogeneic MSC bank batch: PLACEHOLDER figures; the protocol defines them. One bag per dose.
    CatalogueEntry("MSC-BANK", "Mesenchymal stromal cells (bank batch)", "msc", -150.0, 60, None, bags_max=1),
)


class Catalogue:
    """The products a site handles, looked up by their configured code."""

    def __init__(self, entries: Iterable[CatalogueEntry]) -> None:
        self._entries: dict[str, CatalogueEntry] = {}
        for entry in entries:
            if entry.code in self._entries:
                raise _refuse(f"catalogue.{entry.code}", "appears twice", "catalogue_duplicate_code")
            self._entries[entry.code] = entry

    @classmethod
    def default(cls) -> Catalogue:
        """The labels' figures, for a site that configures nothing."""
        return cls(_DEFAULT_ENTRIES)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Mapping[str, Any]]) -> Catalogue:
        """Override or extend the defaults from a configuration file's parsed JSON or TOML."""
        if not isinstance(data, Mapping):
            raise _refuse("catalogue", f"must be a table of product codes, {_got(data)}", "catalogue_wrong_type")
        entries = dict(cls.default()._entries)
        for code, settings in data.items():
            _code(code)
            path = f"catalogue.{code}"
            if not isinstance(settings, Mapping):
                raise _refuse(path, f"must be a table of settings, {_got(settings)}", "catalogue_wrong_type")
            for key in settings:
                if key not in _SETTINGS and key != "release_panel":
                    known = ", ".join(sorted([*_SETTINGS, "release_panel"]))
                    raise _refuse(
                        f"{path}.{key}",
                        f"is not a catalogue setting; known: {known}",
                        "catalogue_unknown_key",
                    )
            base = entries.get(code)
            if base is None:
                missing = [key for key in _REQUIRED_FOR_NEW if key not in settings]
                if missing:
                    raise _refuse(
                        f"{path}.{missing[0]}",
                        "is required for a new product (null where the protocol sets no limit)",
                        "catalogue_missing_key",
                    )
                values: dict[str, Any] = {}
                kind = _kind(settings["kind"], f"{path}.kind")
                values["bags_max"] = _DEFAULT_BAGS_MAX[kind]
            else:
                values = {f.name: getattr(base, f.name) for f in fields(CatalogueEntry)}
            values.update({key: value for key, value in settings.items() if key != "release_panel"})
            if "release_panel" in settings:
                base_panel = values.get("release_panel") or DEFAULT_PANELS[_kind(values["kind"], f"{path}.kind")]
                values["release_panel"] = extend_panel(base_panel, settings["release_panel"], f"{path}.release_panel")
            values["code"] = code
            entries[code] = CatalogueEntry(**values)
        return cls(entries.values())

    def get(self, code: str, *, field: str = "product_code") -> CatalogueEntry:
        """The entry for a product code, refusing codes the site has not configured."""
        entry = self._entries.get(code.strip()) if isinstance(code, str) else None
        if entry is None:
            raise InvalidInput(
                f"{field} {code!r} is not in the product catalogue; known codes: {', '.join(self.codes())}",
                field=field,
                rule="unknown_product_code",
            )
        return entry

    def codes(self) -> tuple[str, ...]:
        """The configured product codes, defaults first, in a stable order."""
        return tuple(self._entries)

    def __iter__(self) -> Iterator[CatalogueEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, code: object) -> bool:
        return code in self._entries
