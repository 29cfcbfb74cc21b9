"""Step forms: an optional yes/no the ledger derives is offered as a choice, and leaving it out sends nothing."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from api.web.forms import FormField, form_fields, payload_from_form
from domain.shipment import ShipmentReceived

PARIS = ZoneInfo("Europe/Paris")


def _field(name: str) -> FormField:
    return next(field for field in form_fields(ShipmentReceived) if field.name == name)


def test_a_receipts_temperature_verdict_is_a_three_way_choice_not_a_box_whose_blank_means_no() -> None:
    temperature = _field("temperature_ok")
    seal = _field("seal_intact")
    assert (temperature.widget, temperature.required) == ("yesno", False)
    assert seal.widget == "checkbox"  # a required yes/no stays a box


def test_left_blank_the_verdict_is_not_sent_so_the_ledger_judges_it_from_the_figures() -> None:
    fields = [field for field in form_fields(ShipmentReceived) if field.name in ("temperature_ok", "seal_intact")]
    assert payload_from_form(fields, {"seal_intact": "on"}, PARIS) == {"seal_intact": True}
    assert payload_from_form(fields, {"temperature_ok": "false"}, PARIS) == {
        "seal_intact": False,
        "temperature_ok": False,
    }
    assert payload_from_form(fields, {"temperature_ok": "true", "seal_intact": "on"}, PARIS) == {
        "seal_intact": True,
        "temperature_ok": True,
    }
