"""Commands that need no ledger: help, the event-type catalogue, and the benchmark's scratch stores."""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.cli import build_parser
from tests.conftest import postgres_url, require_postgres
from tests.e2e.conftest import Custody


def _subcommands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                yield (*prefix, name)
                yield from _subcommands(subparser, (*prefix, name))


COMMANDS = [(), *_subcommands(build_parser())]
DOCUMENTED = ["init", "demo", "verify", "show", "record", "event-types", "staff", "bench"]
BENCH_FIGURES = [
    "events",
    "signed_append_per_s",
    "bare_append_per_s",
    "verify_per_s",
    "raw_ed25519_verify_per_s",
    "replay_per_s",
]


EXPECTED_SIGNERS = {
    "DeviationImpactAssessed": ("product", ["physician", "qp"]),
    "CatalogueChanged": ("catalogue", ["qp", "system"]),
    "TrialPrerequisiteAttested": ("trial_site", ["admin", "pharmacist", "physician", "qp", "sponsor"]),
    "TrialSiteActivated": ("trial_site", ["admin", "sponsor", "system"]),
    "StaffMemberRegistered": ("staff", ["admin", "system"]),
    "StaffQualificationRecorded": ("staff", ["admin", "system"]),
    "StaffQualificationWithdrawn": ("staff", ["admin", "system"]),
    "StaffSpecialtyRecorded": ("staff", ["admin", "system"]),
}
"""Who may sign some of the newer event types, as the README's role table and the staff rules say."""


@pytest.fixture
def nowhere(tmp_path: Path) -> Custody:
    """A CLI whose home does not exist (and must not be created)."""
    return Custody("sqlite", tmp_path / "home")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda words: " ".join(words) or "custody")
def test_help_of_every_command_exits_0_and_touches_nothing(nowhere: Custody, command: tuple[str, ...]) -> None:
    result = nowhere.run(*command, "--help")

    assert result.stdout.startswith(f"usage: custody {' '.join(command)}".rstrip())
    assert not nowhere.home.exists()


def test_top_level_help_lists_every_documented_subcommand(nowhere: Custody) -> None:
    result = nowhere.run("--help")

    for command in DOCUMENTED:
        assert re.search(rf"^ +{re.escape(command)}(?: |$)", result.stdout, re.MULTILINE), command


def test_a_missing_subcommand_exits_2_with_usage(nowhere: Custody) -> None:
    result = nowhere.run(expect=2)

    assert result.stderr.startswith("usage: custody")


def test_event_types_json_lists_product_enrolled_with_its_roles_and_fields(nowhere: Custody) -> None:
    types = nowhere.run_json("event-types")

    by_name = {row["type"]: row for row in types}
    enrolled = by_name["ProductEnrolled"]
    assert enrolled["kind"] == "product"
    assert "physician" in enrolled["roles"]
    assert {"coi", "patient_pseudonym", "product_kind"} <= set(enrolled["fields"])
    assert enrolled["meanings"]
    assert all(row["roles"] and row["meanings"] and row["description"] for row in types)
    assert not nowhere.home.exists()


def test_event_types_lists_the_newer_steps_and_the_staff_record_events_with_who_signs_them(nowhere: Custody) -> None:
    by_name = {row["type"]: row for row in nowhere.run_json("event-types")}

    signed_by = {name: (by_name[name]["kind"], by_name[name]["roles"]) for name in EXPECTED_SIGNERS}
    assert signed_by == EXPECTED_SIGNERS
    assert {"deviation_version", "steps", "assessment", "assessment_ref"} <= set(
        by_name["DeviationImpactAssessed"]["fields"]
    )
    assert {"reference", "evidence", "valid_from", "valid_until", "role_wide"} <= set(
        by_name["StaffQualificationRecorded"]["fields"]
    )
    assert by_name["StaffQualificationRecorded"]["description"].startswith("Records or renews a person's training")


def test_event_types_text_says_who_signs_each_type(nowhere: Custody) -> None:
    text = nowhere.run("event-types").stdout

    assert "product   DeviationImpactAssessed        reviewed, approved\n" in text
    assert "          signed by: physician, qp\n" in text
    assert "staff     StaffQualificationWithdrawn    approved\n" in text
    assert "          signed by: admin, system\n" in text


def test_event_types_without_json_prints_one_line_per_type(nowhere: Custody) -> None:
    types = nowhere.run_json("event-types")

    result = nowhere.run("event-types")

    for row in types:
        assert f" {row['type']} " in result.stdout


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_bench_json_prints_one_line_of_positive_figures_without_touching_the_ledger(
    nowhere: Custody, backend: str
) -> None:
    command = ("bench", "--events", "200", "--backend", backend)
    if backend == "postgresql":
        require_postgres()
        figures = nowhere.run_json(*command, CUSTODY_DATABASE_URL=postgres_url())
    else:
        figures = nowhere.run_json(*command)

    assert figures["backend"] == backend
    assert figures["events"] == 200
    for name in BENCH_FIGURES:
        value = figures[name]
        assert isinstance(value, int | float) and not isinstance(value, bool), (name, value)
        assert value > 0 and math.isfinite(value), (name, value)
    assert not nowhere.home.exists()
