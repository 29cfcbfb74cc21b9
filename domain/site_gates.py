"""Every site a step names is a registered site, and one accredited for what happens there that day.

Site fields are free text in the payloads (the codes custody staff already write), so a
typo would otherwise name a centre nobody registered. The table below lists every payload
field that names a site, by event type, and the activity an accreditation or authorisation
must cover on the day of the step where one is needed: processing for manufacture (and a
bank batch), storage for LN2 storage at the pharmacy. Collection and infusion are checked
with their own times by the product's pathway gates (``check_site_accredited``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from domain.aggregate import Loader
from domain.errors import NotFound, RuleViolation
from domain.site import Activity, Site, site_id_for
from domain.spec import Command

SITE_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "ProductEnrolled": ("collection_site",),
        "ApheresisCollected": ("site",),
        "ShipmentDispatched": ("from_site", "to_site"),
        "ShipmentReceived": ("site",),
        "ManufacturingStarted": ("site",),
        "StoredInLN2": ("site",),
        "Dispensed": ("to_unit",),
        "Infused": ("site",),
        "BatchRegistered": ("site",),
        "ProductReturned": ("to_site",),
    }
)
"""Every payload field naming a site, by event type (derived events copy these and are not listed)."""

ACTIVITY_AT_STEP: Mapping[str, Activity] = MappingProxyType(
    {
        "ManufacturingStarted": Activity.PROCESSING,
        "BatchRegistered": Activity.PROCESSING,
        "StoredInLN2": Activity.STORAGE,
    }
)
"""The activity the step's site must be accredited or authorised for on the step's day."""


def check_named_sites(cmd: Command) -> None:
    """Each site field of the payload names a registered site; a step with an activity needs its accreditation."""
    activity = ACTIVITY_AT_STEP.get(cmd.spec.name)
    for name in SITE_FIELDS.get(cmd.spec.name, ()):
        code = getattr(cmd.payload, name, None)
        if code is None:
            continue
        site = registered_site(cmd.load, code, f"payload.{name}")
        if activity is not None:
            check_covers(site, activity, cmd.occurred_at, f"payload.{name}")


def registered_site(load: Loader, code: str, field: str) -> Site:
    """The site registered under ``code``, or a refusal naming the field."""
    site = load(site_id_for(code)) if code.strip() else None
    if not isinstance(site, Site):
        raise NotFound(
            f"{field} {code!r} is not a registered site; custody steps happen only in registered centres "
            "(check the code, or record SiteRegistered first)",
            field=field,
            rule="site_not_registered",
        )
    return site


def check_covers(site: Site, activity: Activity, at: datetime, field: str) -> None:
    """The site holds an accreditation or authorisation covering the activity on that day."""
    day = at.date()
    if not site.covers(activity, day):
        raise RuleViolation(
            f"{site.name} ({site.code}) holds no accreditation covering {activity.value} on {day.isoformat()} "
            f"({field}; an accreditation or authorisation of that scope is needed)",
            field=field,
            rule="site_not_accredited",
        )


def check_site_accredited(load: Loader, code: str, activity: Activity, at: datetime, *, field: str) -> None:
    """A registered site holding an accreditation for the activity that day."""
    check_covers(registered_site(load, code, field), activity, at, field)
