"""What a read-model column takes, how faults are worded, and how a failed projection step is undone."""

from __future__ import annotations

import pytest

from projections.faults import FAULTS
from projections.redact import describe
from projections.runner import PROJECTIONS
from projections.storable import UnstorableValue, displayable, schema, storable_value
from projections.view import MemoryView, Table

STATUS = "projection_product_status"
NOTES = Table("projection_audit_sites", ("aggregate_id",), ("aggregate_id", "site"))


def test_nul_and_lone_surrogates_are_shown_as_replacement_characters_and_other_text_is_untouched() -> None:
    assert displayable("a\x00b\ud800c\udfff") == "a\ufffdb\ufffdc\ufffd"
    assert displayable("Hôpital Saint-Louis 🧊 — lot B1") == "Hôpital Saint-Louis 🧊 — lot B1"


def test_every_column_of_every_read_model_is_declared_by_the_migrations() -> None:
    declared = schema()
    for table in (*(table for cls in PROJECTIONS for table in cls.tables), FAULTS):
        assert set(table.columns) == set(declared[table.name]), table.name


def test_column_kinds_and_requirements_are_read_from_the_migrations() -> None:
    declared = schema()
    assert (declared[STATUS]["version"].kind, declared[STATUS]["version"].required) == ("integer", True)
    assert (declared[STATUS]["lot"].kind, declared[STATUS]["lot"].required) == ("text", False)
    assert declared["projection_inventory"]["dose_number"].required is False
    assert declared["projection_followup_visits"]["visit"].required is True  # part of a composite key


def test_flags_are_stored_as_integers_and_text_is_made_displayable() -> None:
    assert storable_value(STATUS, "quarantined", True) == 1
    assert storable_value(STATUS, "quarantine_reason", "tank\x00alarm") == "tank\ufffdalarm"
    assert storable_value(STATUS, "lot", None) is None


@pytest.mark.parametrize(
    ("column", "value", "complaint"),
    [
        ("quarantine_reason", ["Jeanne Dupont"], "takes a text, not a list"),
        ("version", "Jeanne Dupont", "takes an integer, not a str"),
        ("version", 2**63, "64-bit"),
        ("coi", None, "needs a value"),
        ("lot", 1.5, "takes a text, not a float"),
    ],
)
def test_a_value_its_column_cannot_take_is_refused_naming_the_column_but_not_the_value(
    column: str, value: object, complaint: str
) -> None:
    with pytest.raises(UnstorableValue) as refused:
        storable_value(STATUS, column, value)
    assert f"{STATUS}.{column}" in str(refused.value) and complaint in str(refused.value)
    assert "Jeanne" not in str(refused.value)


def test_fault_messages_mask_quoted_values_and_name_only_field_like_keys() -> None:
    assert describe(ValueError("Invalid isoformat string: 'Jeanne Dupont'")) == "Invalid isoformat string: '…'"
    assert describe(TypeError("bad \"Jeanne\" and b'\\xff'")) == "bad '…' and '…'"
    assert describe(KeyError("started_at")) == "missing key started_at"
    assert describe(KeyError("Jeanne Dupont")) == "missing key '…'"
    assert len(describe(ValueError("x" * 1000))) == 300


def test_a_failed_attempt_in_memory_puts_back_every_row_it_changed() -> None:
    view = MemoryView()
    view.put(NOTES, {"aggregate_id": "a", "site": "before"})
    with pytest.raises(RuntimeError), view.attempt():
        view.put(NOTES, {"aggregate_id": "a", "site": "changed"})
        view.put(NOTES, {"aggregate_id": "b", "site": "added"})
        view.delete(NOTES, ("a",))
        raise RuntimeError("the event cannot be projected")
    assert view.rows(NOTES) == {("a",): {"aggregate_id": "a", "site": "before"}}
    with view.attempt():
        view.put(NOTES, {"aggregate_id": "b", "site": "kept"})
    assert view.get(NOTES, ("b",)) == {"aggregate_id": "b", "site": "kept"}


def test_keys_are_looked_up_as_they_were_stored() -> None:
    view = MemoryView()
    view.put(NOTES, {"aggregate_id": "a\x00", "site": "x"})
    assert view.get(NOTES, ("a\x00",)) == {"aggregate_id": "a\ufffd", "site": "x"}
