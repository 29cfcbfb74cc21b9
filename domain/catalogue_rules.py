"""The rules of a catalogue change: a valid mapping, its true digest, a real change, no product code dropped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from domain.catalogue import Catalogue
from domain.catalogue_events import (
    CATALOGUE_ID,
    CatalogueChanged,
    SiteCatalogue,
    canonical_catalogue,
    catalogue_digest,
)
from domain.errors import InvalidInput, OutOfOrder, RuleViolation
from domain.events import NewEvent, Role
from domain.spec import Command, Decider


def _validated(mapping: Mapping[str, object]) -> Catalogue:
    """``Catalogue.from_mapping``, with the setting at fault named inside the payload (payload.mapping.X.y)."""
    try:
        return Catalogue.from_mapping(mapping)  # type: ignore[arg-type]
    except InvalidInput as error:
        field = "payload.mapping" + (error.field or "catalogue").removeprefix("catalogue")
        message = error.message.replace(error.field or "", field, 1) if error.field else error.message
        raise InvalidInput(message, field=field, rule=error.rule) from None


def change_catalogue(cmd: Command) -> list[NewEvent]:
    """A change names the one catalogue, is signed by a person once one exists, and changes something."""
    payload: CatalogueChanged = cmd.payload
    if cmd.aggregate_id != CATALOGUE_ID:
        raise InvalidInput(
            f"aggregate_id {cmd.aggregate_id} is not the site catalogue ({CATALOGUE_ID}); a ledger has one catalogue",
            field="aggregate_id",
            rule="aggregate_id_mismatch",
        )
    current = cmd.current if isinstance(cmd.current, SiteCatalogue) else None
    if current is not None and current.changes and cmd.ctx.actor.role == Role.SYSTEM:
        raise RuleViolation(
            "the ledger itself signs only the catalogue in place at initialisation; a later change is approved "
            "by a Qualified Person",
            field="user",
            rule="catalogue_change_needs_a_person",
        )
    mapping = canonical_catalogue(payload.mapping)  # what the signed envelope holds and replays
    new = _validated(mapping)
    digest = catalogue_digest(mapping)
    if payload.sha256 != digest:
        raise InvalidInput(
            f"payload.sha256 {payload.sha256!r} is not the SHA-256 of payload.mapping's canonical form ({digest}); "
            "the digest must name exactly the mapping signed",
            field="payload.sha256",
            rule="catalogue_digest_mismatch",
        )
    old_digest = current.digest if current is not None else catalogue_digest({})
    if digest == old_digest:
        raise OutOfOrder(
            f"the catalogue in force already has digest {digest}: this change changes nothing",
            rule="catalogue_unchanged",
        )
    old = current.catalogue if current is not None else Catalogue.default()
    dropped = [code for code in old.codes() if code not in new]
    if dropped:
        raise RuleViolation(
            f"payload.mapping drops product code(s) {', '.join(dropped)}: products and batches recorded under a "
            "code keep naming it, so a signed code stays in the catalogue (change its settings instead)",
            field=f"payload.mapping.{dropped[0]}",
            rule="catalogue_code_dropped",
        )
    return [cmd.record(replace(payload, mapping=mapping))]


DECIDERS: Mapping[str, Decider] = {"CatalogueChanged": change_catalogue}
