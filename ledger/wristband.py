"""The wristband check at the bedside: a scan compared with the patient's sealed identity, inside the ledger.

Only the ledger can unseal an identity, and the domain must never hold one, so the
comparison is made here and the domain receives a verdict (``IdentityMatch``): which
fields disagree and which identity version was compared. Nothing of the identity or
of the scan is logged or returned.
"""

from __future__ import annotations

from domain.bedside_identity import IdentityMatch, WristbandScan, normal_hospital_number, read_birth_date
from domain.errors import InvalidInput
from ledger.identity_store import IdentityStore, IdentityUnavailable, PatientIdentity


def compare(identity: PatientIdentity, scan: WristbandScan) -> tuple[str, ...]:
    """The wristband fields that do not match the identity, in the order staff read them."""
    mismatched = []
    if normal_hospital_number(identity.hospital_number) != scan.hospital_number:
        mismatched.append("hospital_number")
    try:
        born = read_birth_date(identity.birth_date, field="identity.birth_date")
    except InvalidInput:
        born = None  # a birth date registered in another form can match nothing scanned
    if born != scan.birth_date:
        mismatched.append("birth_date")
    return tuple(mismatched)


def match_wristband(identities: IdentityStore, pseudonym: str, scan: WristbandScan) -> IdentityMatch:
    """The verdict on one scan: no identity held (never registered, erased, unreadable), or what disagrees."""
    try:
        identity, version = identities.get_versioned(pseudonym)
    except IdentityUnavailable:
        return IdentityMatch(registered=False)
    return IdentityMatch(registered=True, mismatched=compare(identity, scan), version=version)
