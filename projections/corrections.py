"""Corrected facts side by side: the original values, each correction in order, and the values in force.

A signed fact is never changed: an ``EventCorrected`` names it (or an earlier
correction of it) and carries new values that count from then on (Annex 11 §9;
README, "Corrections that count"). Whoever reads a product's status, its timeline or the audit
trail must therefore see, for every corrected fact, what was first signed, who
corrected what, when and why, and what is in force now, never the corrected values
alone. A correction of a correction corrects the same original fact (as the
domain's ``TherapyProduct.root_of`` follows it) and is shown as the next link of
that fact's chain, naming the correction it corrects.

The values in force are the original payload with every correction laid over it
in version order, as ``TherapyProduct.effective_payload`` lays them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.events import EventRecord
from projections.logged import instant

CORRECTION = "EventCorrected"


@dataclass(frozen=True)
class SignedFact:
    """What the chains need of one signed event: its place, type, payload and signer."""

    version: int
    event_type: str
    payload: Mapping[str, Any]
    user_id: str
    actor_name: str
    role: str
    occurred_at: str | None
    recorded_at: str | None

    @classmethod
    def of_record(cls, record: EventRecord) -> SignedFact:
        """A fact from a replayed record."""
        actor = record.actor
        return cls(
            record.version, record.type, record.payload, actor.user_id, actor.name, actor.role,
            instant(record.occurred_at), instant(record.recorded_at),
        )  # fmt: skip

    @classmethod
    def of_timeline_row(cls, row: Mapping[str, Any]) -> SignedFact:
        """A fact from a patient-timeline row (payload already decoded)."""
        return cls(
            int(row["version"]), str(row["event_type"]), row["payload"], str(row["actor_user_id"]),
            str(row["actor_name"]), str(row["actor_role"]), row["occurred_at"], row["recorded_at"],
        )  # fmt: skip


def root_version(facts: Mapping[int, SignedFact], version: int) -> int:
    """The fact a correction (or a correction of a correction) ultimately corrects."""
    seen: set[int] = set()
    while version in facts and facts[version].event_type == CORRECTION and version not in seen:
        seen.add(version)
        version = int(facts[version].payload["corrects_version"])
    return version


def correction_chains(history: Iterable[SignedFact]) -> list[dict[str, Any]]:
    """Every corrected fact of one aggregate's history, in the order of the facts, each with its whole chain.

    Each chain: the corrected fact's ``version`` and ``event_type``; the ``fields`` any
    correction touched; the ``original`` values of those fields as first signed (None
    when the fact did not carry the field); each correction in version order (who,
    when, reason, the version it corrects, the fields and values it brings); the
    values ``in_force``; and ``changes``, each differing value side by side.
    """
    facts = {fact.version: fact for fact in sorted(history, key=lambda fact: fact.version)}
    chains: dict[int, dict[str, Any]] = {}
    for fact in facts.values():
        if fact.event_type != CORRECTION:
            continue
        root = root_version(facts, fact.version)
        if root not in facts or facts[root].event_type == CORRECTION:
            continue  # names no fact of this history: the domain lays it over nothing either
        values = dict(fact.payload["corrections"])
        chain = chains.setdefault(root, {"corrections": [], "in_force": {}})
        chain["corrections"].append(
            {
                "version": fact.version,
                "corrects_version": int(fact.payload["corrects_version"]),
                "occurred_at": fact.occurred_at,
                "recorded_at": fact.recorded_at,
                "user_id": fact.user_id,
                "actor_name": fact.actor_name,
                "role": fact.role,
                "reason": fact.payload.get("reason"),
                "fields": list(values),
                "values": values,
            }
        )
        chain["in_force"].update(values)
    return [_chain(facts[root], chain["corrections"], chain["in_force"]) for root, chain in sorted(chains.items())]


def _chain(fact: SignedFact, corrections: list[dict[str, Any]], in_force: dict[str, Any]) -> dict[str, Any]:
    fields = list(in_force)
    original = {name: fact.payload.get(name) for name in fields}
    return {
        "version": fact.version,
        "event_type": fact.event_type,
        "occurred_at": fact.occurred_at,
        "user_id": fact.user_id,
        "actor_name": fact.actor_name,
        "fields": fields,
        "original": original,
        "corrections": corrections,
        "in_force": in_force,
        "changes": [change for name in fields for change in value_changes(name, original[name], in_force[name])],
    }


def value_changes(path: str, before: Any, after: Any) -> list[dict[str, Any]]:
    """The values that differ, each with its path, original and value in force.

    Tables compare key by key and lists of named items (QC tests) name by name, so a
    correction of one test of seven reads as that test's value, not as two lists.
    """
    if before == after:
        return []
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        keys = sorted({*before, *after})
        return [change for key in keys for change in value_changes(f"{path}.{key}", before.get(key), after.get(key))]
    if _named_items(before) and _named_items(after):
        old = {item["name"]: item for item in before}
        new = {item["name"]: item for item in after}
        names = [*old, *(name for name in new if name not in old)]
        return [change for name in names for change in value_changes(f"{path}[{name}]", old.get(name), new.get(name))]
    return [{"path": path, "original": before, "in_force": after}]


def _named_items(value: Any) -> bool:
    """A list whose items are tables each with a distinct text ``name``."""
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        return False
    names = [item.get("name") for item in value]
    return all(isinstance(name, str) for name in names) and len(set(names)) == len(names)


def chains_of_records(records: Sequence[EventRecord]) -> list[dict[str, Any]]:
    """The correction chains of one aggregate's replayed records."""
    return correction_chains(SignedFact.of_record(record) for record in records)


UNREADABLE = (LookupError, TypeError, ValueError, AttributeError)
"""What reading a stored payload of an unexpected shape raises: the chain is then left out, never guessed."""


def annotate_timeline(rows: list[dict[str, Any]]) -> None:
    """Give each timeline row ``corrections`` (its chain, when the fact was corrected, else None) and each
    correction ``corrects`` (the fact it ultimately corrects), product by product; rows keep their payload
    as signed."""
    by_aggregate: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        row["corrections"], row["corrects"] = None, None
        by_aggregate.setdefault(str(row["product_id"]), []).append(row)
    for aggregate_rows in by_aggregate.values():
        try:
            facts = {int(row["version"]): SignedFact.of_timeline_row(row) for row in aggregate_rows}
            chains = {chain["version"]: chain for chain in correction_chains(facts.values())}
            roots = {version: root_version(facts, version) for version, fact in facts.items()
                     if fact.event_type == CORRECTION}  # fmt: skip
        except UNREADABLE:
            continue
        for row in aggregate_rows:
            version = int(row["version"])
            row["corrections"] = chains.get(version)
            root = roots.get(version)
            if root is not None and root in chains:
                row["corrects"] = {"version": root, "event_type": chains[root]["event_type"]}


def audit_chains(histories: Mapping[str, Sequence[EventRecord]], signed: set[tuple[str, int]]) -> list[dict[str, Any]]:
    """The correction chains an audit selection touches: those whose corrected fact or one of whose corrections
    is among the ``signed`` (aggregate id, version) pairs, each naming its aggregate."""
    found = []
    for aggregate_id, records in histories.items():
        try:
            chains = chains_of_records(records)
        except UNREADABLE:
            continue
        for chain in chains:
            versions = {chain["version"], *(c["version"] for c in chain["corrections"])}
            if any((aggregate_id, version) in signed for version in versions):
                found.append({"aggregate_id": aggregate_id, **chain})
    return found
