"""One trial's sites and their readiness on a day, as the CLI, the HTTP API and the web page show it.

Each site opened for the trial lists its status (opened, active, suspended, closed),
whether it is ready that day, and every prerequisite with its state (met, missing,
expiring) and evidence, from the same ``domain.trial_site_readiness`` the activation
and the enrolment gate use. Who signed each attestation (user, name, role) is in the
evidence, the roles that may attest it beside it (domain/trial_site_attesters.py), and
for the named pair the check of their specialties (domain/trial_site_pair.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.errors import NotFound
from domain.trial import Trial, trial_id_for
from domain.trial_prerequisite import Prerequisite
from domain.trial_site import TrialSite
from domain.trial_site_attesters import ATTESTERS
from domain.trial_site_readiness import EXPIRY_NOTICE_DAYS, readiness
from ledger.service import CustodyLedger
from projections.registers import every


def trial_of(ledger: CustodyLedger, protocol: str) -> Trial:
    """The registered trial, or a refusal naming the protocol."""
    found = ledger.load(trial_id_for(protocol)) if protocol.strip() else None
    if not isinstance(found, Trial):
        raise NotFound(f"no trial is registered under protocol {protocol!r}", field="protocol")
    return found


def site_readiness(ledger: CustodyLedger, trial: Trial, day: date) -> dict[str, Any]:
    """Every site opened for ``trial``, by code, with its checklist on ``day``."""
    sites = [site for site in every(ledger.store, ledger.load, "TrialSiteOpened", TrialSite)
             if site.protocol == trial.protocol]  # fmt: skip
    entries = []
    for site in sorted(sites, key=lambda s: s.site_code):
        checks = readiness(site, ledger.load, day)
        entries.append(
            {
                "site_code": site.site_code,
                "trial_site_id": str(site.id),
                "status": site.status.value,
                "activated_at": site.activated_at.isoformat() if site.activated_at else None,
                "ready": all(check.ready for check in checks),
                "product_kind": site.product_kind,
                "activities": site.activities,
                "team": site.team,
                "prerequisites": [_with_attesters(check.to_dict()) for check in checks],
            }
        )
    return {
        "protocol": trial.protocol,
        "sponsor": trial.sponsor,
        "day": day.isoformat(),
        "expiry_notice_days": EXPIRY_NOTICE_DAYS,
        "sites": entries,
    }


def _with_attesters(check: dict[str, Any]) -> dict[str, Any]:
    """The roles that may attest the prerequisite, so a missing one says whom to ask (none for the accreditation,
    read from the site registry)."""
    name = check["prerequisite"]
    if name not in {p.value for p in Prerequisite}:
        return check
    return {**check, "may_attest": sorted(role.value for role in ATTESTERS[Prerequisite(name)].roles)}
