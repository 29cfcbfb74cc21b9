"""The release panel: which QC tests a product needs, and how the ledger judges a measured result.

A QP who types ``in_spec: true`` beside a viability of 60 % must not release the lot: the
verdict is computed here from the measured value and the catalogue's acceptance criterion,
and a declared verdict that disagrees is refused. The default panels below are the usual
CAR-T and MSC release tests; their figures are DEFAULTS that a site replaces from its own
product specification (the marketing authorisation's or the IMPD's) in its catalogue file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidInput, OutOfOrder, RuleViolation


def test_key(name: object) -> str:
    """How test names compare: "CAR expression", "car_expression" and "Car-Expression" are one test."""
    return re.sub(r"[\s_\-]+", " ", str(name)).strip().casefold()


def _plain(text: object) -> str:
    """How qualitative results compare: case and spacing do not change "No growth"."""
    return re.sub(r"\s+", " ", str(text)).strip().casefold()


@dataclass(frozen=True)
class QcCriterion:
    """One test of the panel: numeric bounds (with a unit) or one expected qualitative result."""

    name: str
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    maximum_exclusive: bool = False
    expected: str | None = None

    @property
    def numeric(self) -> bool:
        """True when the test is judged on a measured number rather than a reading."""
        return self.expected is None

    def describe(self) -> str:
        """The criterion as a QP reads it on a certificate: "≥ 80 %", "< 5 EU/mL", "no growth"."""
        if self.expected is not None:
            return self.expected
        unit = f" {self.unit}" if self.unit else ""
        parts = []
        if self.minimum is not None:
            parts.append(f"≥ {self.minimum:g}{unit}")
        if self.maximum is not None:
            parts.append(f"{'<' if self.maximum_exclusive else '≤'} {self.maximum:g}{unit}")
        return " and ".join(parts) or f"reported{unit}"

    def accepts(self, value: float | None, result: str) -> bool:
        """The computed verdict for one measured value (numeric test) or reading (qualitative test)."""
        if self.expected is not None:
            return _plain(result) == _plain(self.expected)
        assert value is not None
        if self.minimum is not None and value < self.minimum:
            return False
        if self.maximum is not None:
            return value < self.maximum if self.maximum_exclusive else value <= self.maximum
        return True


# Defaults a site overrides from its product specification (catalogue file, key "release_panel").
CAR_T_PANEL: tuple[QcCriterion, ...] = (
    QcCriterion("viability", "%", minimum=80.0),
    QcCriterion("sterility", expected="no growth"),
    QcCriterion("endotoxin", "EU/mL", maximum=5.0, maximum_exclusive=True),
    QcCriterion("mycoplasma", expected="negative"),
    QcCriterion("CAR expression", "%", minimum=15.0),
    QcCriterion("vector copy number", "copies/cell", maximum=5.0),
    QcCriterion("potency", expected="conforms"),
)
MSC_PANEL: tuple[QcCriterion, ...] = (
    QcCriterion("viability", "%", minimum=70.0),
    QcCriterion("sterility", expected="no growth"),
    QcCriterion("endotoxin", "EU/mL", maximum=5.0, maximum_exclusive=True),
    QcCriterion("mycoplasma", expected="negative"),
    QcCriterion("CD73", "%", minimum=95.0),
    QcCriterion("CD90", "%", minimum=95.0),
    QcCriterion("CD105", "%", minimum=95.0),
    QcCriterion("CD45", "%", maximum=2.0),
)
DEFAULT_PANELS: Mapping[str, tuple[QcCriterion, ...]] = {"car_t": CAR_T_PANEL, "msc": MSC_PANEL}

_CRITERION_KEYS = ("unit", "minimum", "maximum", "maximum_exclusive", "expected")


def _refuse(path: str, message: str, rule: str) -> InvalidInput:
    return InvalidInput(f"{path} {message}", field=path, rule=rule)


def _bound(value: object, path: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise _refuse(path, f"must be a finite number or null, got {value!r}", "catalogue_wrong_type")
    return float(value)


def _criterion(name: str, settings: object, path: str) -> QcCriterion:
    """One criterion from a catalogue file: {"unit": "%", "minimum": 80} or {"expected": "negative"}."""
    if not isinstance(settings, Mapping):
        raise _refuse(path, f"must be a table of criterion settings, got {settings!r}", "catalogue_wrong_type")
    for key in settings:
        if key not in _CRITERION_KEYS:
            raise _refuse(f"{path}.{key}", f"is not a criterion setting; known: {', '.join(_CRITERION_KEYS)}",
                          "catalogue_unknown_key")  # fmt: skip
    unit, expected = settings.get("unit"), settings.get("expected")
    for key, text in (("unit", unit), ("expected", expected)):
        if text is not None and (not isinstance(text, str) or not text.strip()):
            raise _refuse(f"{path}.{key}", f"must be non-empty text or null, got {text!r}", "catalogue_wrong_type")
    exclusive = settings.get("maximum_exclusive", False)
    if not isinstance(exclusive, bool):
        raise _refuse(f"{path}.maximum_exclusive", f"must be true or false, got {exclusive!r}", "catalogue_wrong_type")
    low, high = _bound(settings.get("minimum"), f"{path}.minimum"), _bound(settings.get("maximum"), f"{path}.maximum")
    if expected is not None and (low is not None or high is not None):
        raise _refuse(path, "has both bounds and an expected result; a test is one or the other", "catalogue_conflict")
    if expected is None and low is None and high is None:
        raise _refuse(path, "needs a minimum, a maximum or an expected result", "catalogue_missing_key")
    if low is not None and high is not None and low > high:
        raise _refuse(path, f"has minimum {low:g} above maximum {high:g}", "catalogue_out_of_range")
    return QcCriterion(name, unit, low, high, exclusive, expected)


def extend_panel(base: Iterable[QcCriterion], data: object, path: str) -> tuple[QcCriterion, ...]:
    """A site's ``release_panel`` table replaces criteria of the same name and adds new tests."""
    if not isinstance(data, Mapping):
        raise _refuse(path, f"must be a table of test names, got {data!r}", "catalogue_wrong_type")
    panel = {test_key(c.name): c for c in base}
    for name, settings in data.items():
        if not isinstance(name, str) or not name.strip():
            raise _refuse(path, f"test names must be non-empty text, got {name!r}", "catalogue_wrong_type")
        panel[test_key(name)] = _criterion(name.strip(), settings, f"{path}.{name}")
    return tuple(panel.values())


def judge_results(panel: Iterable[QcCriterion], tests: list[Any]) -> None:
    """Refuse a result the panel cannot judge, or a declared verdict the measured value contradicts.

    ``tests`` are ``QcTest`` payloads (name, result, value, unit, in_spec). A test the panel
    does not list is kept as declared (a site may add investigational tests), but a panel
    test needs its measured value in the panel's unit.
    """
    criteria = {test_key(c.name): c for c in panel}
    seen: set[str] = set()
    for index, test in enumerate(tests):
        field = f"payload.tests[{index}]"
        key = test_key(test.name)
        if key in seen:
            raise InvalidInput(
                f"{field}.name {test.name!r} appears twice", field=f"{field}.name", rule="duplicate_qc_test"
            )
        seen.add(key)
        criterion = criteria.get(key)
        if criterion is None:
            continue
        if criterion.numeric:
            if test.value is None:
                raise InvalidInput(
                    f"{field}.value is required: {criterion.name} is judged on its measured value "
                    f"({criterion.describe()})",
                    field=f"{field}.value",
                    rule="qc_value_required",
                )
            if criterion.unit is not None and (test.unit is None or test.unit.strip() != criterion.unit):
                raise InvalidInput(
                    f"{field}.unit must be {criterion.unit!r} for {criterion.name}, got {test.unit!r}",
                    field=f"{field}.unit",
                    rule="qc_unit_mismatch",
                )
        computed = criterion.accepts(test.value, test.result)
        if computed != test.in_spec:
            measured = f"{test.value:g} {criterion.unit or ''}".strip() if criterion.numeric else repr(test.result)
            verdict = "within" if computed else "out of"
            raise RuleViolation(
                f"{field}.in_spec is {str(test.in_spec).lower()}, but {criterion.name} measured {measured} is "
                f"{verdict} specification ({criterion.describe()})",
                field=f"{field}.in_spec",
                rule="qc_verdict_contradicts_results",
            )


def missing_tests(panel: Iterable[QcCriterion], recorded: Iterable[str]) -> list[str]:
    """The panel's tests with no result yet, by their catalogue names."""
    done = {test_key(name) for name in recorded}
    return [c.name for c in panel if test_key(c.name) not in done]


def check_whole_panel(
    panel: Iterable[QcCriterion], recorded: Iterable[str], product_code: str, record_with: str
) -> None:
    """A lot (a product's, a bank batch's) is released only once every test of its panel has a result."""
    missing = missing_tests(panel, recorded)
    if missing:
        raise OutOfOrder(
            f"cannot release: the release panel of {product_code} has no result yet for "
            f"{', '.join(missing)}; record them with {record_with}",
            rule="qc_panel_incomplete",
        )
