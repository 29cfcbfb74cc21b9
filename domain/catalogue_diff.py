"""What a catalogue change changes, setting by setting, as a QP reviews it before signing.

Two catalogues are compared on their effective figures (defaults included), not on the
text of their files: "KYMRIAH.thaw_to_infusion_min: 30 → 45" is what the change means for
the next thaw, whatever the file's layout. Every setting of ``CatalogueEntry`` is listed,
so a setting added to the entry appears here without being named.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from domain.catalogue import Catalogue, CatalogueEntry


@dataclass(frozen=True)
class SettingChange:
    """One setting's value before and after (None: the product or the test is absent on that side)."""

    setting: str
    before: str | None
    after: str | None

    def to_dict(self) -> dict[str, str | None]:
        """JSON-safe form, for --json and the HTTP API."""
        return {"setting": self.setting, "before": self.before, "after": self.after}

    def line(self) -> str:
        """How the CLI prints it."""
        if self.before is None:
            return f"+ {self.setting}: {self.after}"
        if self.after is None:
            return f"- {self.setting}: {self.before}"
        return f"~ {self.setting}: {self.before} → {self.after}"


def shown(value: object) -> str:
    """A setting's value as people read it: 30, -120, [2, 14], none."""
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(shown(item) for item in value) + "]"
    return str(value)


def entry_settings(entry: CatalogueEntry) -> dict[str, str]:
    """One product's settings, each release-panel test as its own line (``release_panel.CD73``)."""
    flat: dict[str, str] = {}
    for spec in fields(CatalogueEntry):
        if spec.name == "code":
            continue
        value = getattr(entry, spec.name)
        if spec.name == "release_panel":
            for criterion in value:
                flat[f"release_panel.{criterion.name}"] = criterion.describe()
        else:
            flat[spec.name] = shown(value)
    return flat


def settings_of(catalogue: Catalogue) -> dict[str, str]:
    """Every setting of every product, keyed ``CODE.setting``."""
    return {f"{entry.code}.{name}": value for entry in catalogue for name, value in entry_settings(entry).items()}


def differences(before: Catalogue, after: Catalogue) -> list[SettingChange]:
    """The settings that differ, in the order of ``after`` then those only ``before`` had."""
    old, new = settings_of(before), settings_of(after)
    changed = [SettingChange(key, old.get(key), value) for key, value in new.items() if old.get(key) != value]
    return changed + [SettingChange(key, value, None) for key, value in old.items() if key not in new]
