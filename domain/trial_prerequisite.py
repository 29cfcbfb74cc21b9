"""The prerequisites a site attests before a trial's first patient (README.md, "Preparing a site for a trial").

Its own module so that the table of who may attest each one (domain/trial_site_attesters.py)
and the trial site's events (domain/trial_site.py) share it without importing each other.
The accreditation is not among them: it is read from the site registry.
"""

from __future__ import annotations

from enum import StrEnum


class Prerequisite(StrEnum):
    """What a site attests before a trial's first patient (the accreditation is read from the site registry)."""

    DISEASE_SPECIALIST = "disease_specialist"
    CELL_THERAPY_SPECIALIST = "cell_therapy_specialist"
    PUI_AGREEMENT = "pui_agreement"
    GMO_AUTHORISATION = "gmo_authorisation"
    CONTRACT_SIGNED = "contract_signed"
    INITIATION_VISIT = "initiation_visit"
    STAFF_TRAINING = "staff_training"
    RCP_NAMED = "rcp_named"
    LN2_QUALIFIED = "ln2_qualified"
