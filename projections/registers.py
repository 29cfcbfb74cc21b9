"""The registers as people look them up: sites, trials, shipments and MSC bank batches, replayed from the ledger.

A user who must type a site code, a trial protocol or a shipment id needs to find
the valid ones. These registers are small, so each listing finds its aggregates by
the event that creates them (one indexed scan by topic) and replays each with the
domain's own fold: what is listed is exactly what the rules will check against.
An aggregate whose stored history this version cannot replay is left out of a
listing rather than stopping it; asked for by its id, it is refused by name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from domain.aggregate import Aggregate, Loader
from domain.batch import BankBatch
from domain.errors import NotFound, RuleViolation
from domain.shipment import Shipment
from domain.site import Activity, Site, site_id_for
from domain.trial import Trial, trial_id_for
from ledger.store import EventStore

UNREPLAYABLE = (LookupError, TypeError, ValueError, AttributeError)
"""What replaying a stored payload of an unexpected shape raises."""

A = TypeVar("A", bound=Aggregate)


def created_by(store: EventStore, event_type: str) -> list[UUID]:
    """The ids of the aggregates the event type opened, in the order they were opened."""
    opened = (UUID(str(notification.originator_id)) for notification in store.scan(topics=(event_type,)))
    return list(dict.fromkeys(opened))


def _replayed(load: Loader, aggregate_id: UUID, cls: type[A]) -> A | None:
    try:
        found = load(aggregate_id)
    except UNREPLAYABLE:
        return None
    return found if isinstance(found, cls) else None


def one(load: Loader, aggregate_id: UUID, cls: type[A], what: str, reference: str, field: str) -> A:
    """One register entry by id: 404 when absent, a named refusal when its history cannot be replayed."""
    try:
        found = load(aggregate_id)
    except UNREPLAYABLE as error:
        raise RuleViolation(
            f"the {what} {reference}'s history holds an event this version cannot replay ({type(error).__name__}); "
            "`custody verify` locates it",
            field=field,
            rule="history_not_replayable",
        ) from error
    if not isinstance(found, cls):
        raise NotFound(f"no {what} is registered as {reference}", field=field)
    return found


def every(store: EventStore, load: Loader, event_type: str, cls: type[A]) -> list[A]:
    """Every replayable aggregate the event type opened."""
    found = (_replayed(load, aggregate_id, cls) for aggregate_id in created_by(store, event_type))
    return [aggregate for aggregate in found if aggregate is not None]


def site_entry(site: Site, today: date) -> dict[str, Any]:
    """A site, each accreditation's scope and validity, whether it covers each activity today, and its setting."""
    accreditations = [
        {
            "accreditor": held.accreditor,
            "reference": held.reference,
            "scope": sorted(held.scope),
            "valid_from": held.valid_from.isoformat(),
            "valid_until": held.valid_until.isoformat(),
            "withdrawn_on": None if held.withdrawn_on is None else held.withdrawn_on.isoformat(),
            "valid_today": any(held.covers(activity, today) for activity in Activity),
        }
        for held in sorted(site.accreditations.values(), key=lambda held: held.reference)
    ]
    return {
        "code": site.code,
        "name": site.name,
        "site_id": str(site.id),
        "accreditations": accreditations,
        "covers_today": sorted(activity.value for activity in Activity if site.covers(activity, today)),
        "pathway_managed_elsewhere": site.pathway_managed_elsewhere,
        "version": site.version,
    }


def sites(store: EventStore, load: Loader, today: date) -> list[dict[str, Any]]:
    """Every registered site, by code."""
    entries = [site_entry(site, today) for site in every(store, load, "SiteRegistered", Site)]
    return sorted(entries, key=lambda entry: entry["code"])


def site(load: Loader, code: str, today: date) -> dict[str, Any]:
    """One site by its code."""
    return site_entry(one(load, site_id_for(code), Site, "site", repr(code), "code"), today)


def trial_entry(trial: Trial) -> dict[str, Any]:
    """A trial: protocol, sponsor, EU CT number, and the sponsor's users who may read its products."""
    return {
        "protocol": trial.protocol,
        "sponsor": trial.sponsor,
        "eu_ct_number": trial.eu_ct_number,
        "trial_id": str(trial.id),
        "sponsor_users": sorted(trial.sponsor_users),
        "version": trial.version,
    }


def trials(store: EventStore, load: Loader, shown: Callable[[Trial], bool]) -> list[dict[str, Any]]:
    """Every registered trial the reader may see, by protocol."""
    entries = [trial_entry(trial) for trial in every(store, load, "TrialRegistered", Trial) if shown(trial)]
    return sorted(entries, key=lambda entry: entry["protocol"])


def trial(load: Loader, protocol: str) -> Trial:
    """One trial by its protocol number."""
    return one(load, trial_id_for(protocol), Trial, "trial", repr(protocol), "protocol")


def shipment_entry(shipment: Shipment, units: list[UUID]) -> dict[str, Any]:
    """A shipment's route, temperature class, custodian, pending hand-over, seal and the units shown."""
    return {
        "shipment_id": str(shipment.id),
        "leg": shipment.leg,
        "from_site": shipment.from_site,
        "to_site": shipment.to_site,
        "temperature_class": shipment.temperature_class,
        "data_logger_id": shipment.data_logger_id,
        "custodian": shipment.custodian,
        "handing_over_to": shipment.handing_over_to,
        "seal_intact": shipment.seal_intact,
        "received": shipment.received,
        "units": [str(unit) for unit in units],
        "version": shipment.version,
        "last_occurred_at": None if shipment.last_occurred_at is None else shipment.last_occurred_at.isoformat(),
    }


def batch_entry(batch: BankBatch, allocated: dict[int, UUID]) -> dict[str, Any]:
    """An MSC bank batch: lot, donor DIN, product, site, QC, release, recall, doses left and the allocations shown."""
    return {
        "batch_id": str(batch.id),
        "lot": batch.lot,
        "donor_din": batch.donor_din,
        "product_code": batch.product_code,
        "site": batch.site,
        "doses": batch.doses,
        "doses_left": batch.doses_left,
        "qc_in_spec": batch.qc_in_spec,
        "released": batch.released,
        "recalled": batch.recalled,
        "allocated": [{"dose_number": dose, "product_id": str(product)} for dose, product in sorted(allocated.items())],
        "version": batch.version,
    }
