"""Instants typed by people: one parser for options, query parameters, body fields and web forms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.errors import InvalidInput
from ledger.clock import instant_field, local_instant

PARIS = ZoneInfo("Europe/Paris")


def test_an_instant_needs_its_offset() -> None:
    assert instant_field("2026-03-01T12:00:00Z", "since") == datetime(2026, 3, 1, 12, tzinfo=UTC)
    for text in ("2026-03-01T12:00:00", "yesterday", ""):
        with pytest.raises(InvalidInput) as refused:
            instant_field(text, "since", label="--since")
        assert (refused.value.field, refused.value.rule) == ("since", "malformed_instant")
        assert refused.value.message.startswith("--since")


def test_a_form_time_is_read_in_the_site_zone_unless_it_names_its_own() -> None:
    winter = local_instant("2026-01-15T09:30", "occurred_at", PARIS)
    assert winter.utcoffset() == timedelta(hours=1)
    summer = local_instant("2026-07-15T09:30", "occurred_at", PARIS)
    assert summer.utcoffset() == timedelta(hours=2)
    given = local_instant("2026-07-15T09:30+00:00", "occurred_at", PARIS)
    assert given.utcoffset() == timedelta(0), "an explicit offset is kept, not replaced by the site's"
    with pytest.raises(InvalidInput) as refused:
        local_instant("15/07/2026", "payload.started_at", PARIS)
    assert (refused.value.field, refused.value.rule) == ("payload.started_at", "malformed_instant")
