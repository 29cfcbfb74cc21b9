"""The bedside rules: the bag in hand and the patient in the bed, checked twice, shortly before infusion.

Each of the two checks scans the bag's own label (a bag of this product's lot) and the
patient's wristband, compared by the ledger with the patient's sealed identity. A bag or
wristband that does not match is a near miss: refused and recorded, the product
suspended. The checks vouch only for a while (``bedside_check_valid_minutes``): a
patient moved, a bed changed or a shift handed over since then must be checked again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain import product_events as ev
from domain.bedside_identity import WristbandScan, normal_hospital_number, read_birth_date
from domain.errors import BedsideCheckExpired, IdentityMismatch, IdentityNotRegistered, OutOfOrder
from domain.product import BedsideCheckDone, TherapyProduct
from domain.product_exception_events import IdentityMismatchRecorded
from domain.product_specs import IDENTITY_MISMATCH_RECORDED
from domain.spec import Command, derived_event

DEFAULT_VALID_MINUTES = 30
"""How long the bedside checks vouch for the patient in the bed, unless the site sets its own figure."""

_WRISTBAND_FIELDS = {
    "hospital_number": "payload.wristband_hospital_number",
    "birth_date": "payload.wristband_birth_date",
}


def valid_minutes(cmd: Command) -> int:
    """The site's validity window of the bedside checks."""
    configured = cmd.ctx.bedside_check_valid_minutes
    return DEFAULT_VALID_MINUTES if configured is None else configured


def wristband_scan(payload: ev.BedsideCheck) -> WristbandScan:
    """The wristband as scanned, read before any rule so a malformed date is refused with nothing recorded."""
    return WristbandScan(
        hospital_number=normal_hospital_number(payload.wristband_hospital_number),
        birth_date=read_birth_date(payload.wristband_birth_date, field="payload.wristband_birth_date"),
    )


def check_bag_label(cmd: Command, product: TherapyProduct, step: str, scanned: str) -> None:
    """The bag in hand must be a thawed bag of this product (or of its lot); another bag is a near miss."""
    thawed = product.thawed_bags
    known = thawed or product.bags
    if not known or scanned in known:
        return
    expected = f"{'a thawed bag' if thawed else 'a bag'} of this product ({', '.join(known)})"
    raise _near_miss(
        cmd,
        product,
        step,
        "payload.scanned_bag_id",
        expected,
        scanned,
        f"{step} stopped: scanned bag {scanned!r} is not {expected}; do not proceed, the product is suspended "
        "until the mismatch is resolved",
    )


def check_wristband(cmd: Command, product: TherapyProduct, step: str, scan: WristbandScan) -> str:
    """The wristband must match the patient's sealed identity; returns the identity version compared.

    Neither the identity nor the scanned values reach the refusal or the near-miss record:
    only which field disagreed, and which identity record was compared.
    """
    verify = cmd.ctx.identity
    verdict = verify(product.patient_pseudonym, scan) if verify is not None else None
    if verdict is None or not verdict.registered or verdict.version is None:
        raise IdentityNotRegistered(
            f"{step} refused: no identity is registered for patient {product.patient_pseudonym}, so the wristband "
            "cannot be checked; register it (custody patient register) before the bedside check",
            field="patient_identity",
        )
    if not verdict.mismatched:
        return verdict.version
    names = " and ".join(name.replace("_", " ") for name in verdict.mismatched)
    raise _near_miss(
        cmd,
        product,
        step,
        _WRISTBAND_FIELDS[verdict.mismatched[0]],
        f"the sealed identity of {product.patient_pseudonym} (version {verdict.version})",
        "withheld: a wristband's contents are never recorded",
        f"{step} stopped: the wristband's {names} does not match the registered identity of patient "
        f"{product.patient_pseudonym}; do not proceed, the product is suspended until the mismatch is resolved",
    )


def check_first_check_fresh(cmd: Command, first: BedsideCheckDone, step: str) -> None:
    """The second check vouches together with the first only while the first is still valid."""
    limit = valid_minutes(cmd)
    if cmd.occurred_at - first.at > timedelta(minutes=limit):
        raise BedsideCheckExpired(
            f"cannot record {step}: the first bedside check ({first.name}, {first.at.isoformat()}) is more than "
            f"{limit} min old at occurred_at {cmd.occurred_at.isoformat()}; record BedsideCheckPerformed again",
            field="occurred_at",
        )


def check_checks_cover_infusion(cmd: Command, product: TherapyProduct, started: datetime) -> None:
    """Infusion starts after both checks, and within the validity window of the first one."""
    first, second = product.bedside_performed, product.bedside_witnessed
    if first is None or second is None:
        return
    if started < second.at.replace(second=0, microsecond=0):  # people give times to the minute
        raise BedsideCheckExpired(
            f"payload.started_at {started.isoformat()} is before the second bedside check "
            f"({second.name}, {second.at.isoformat()}): infusion starts once both checks are made",
            field="payload.started_at",
            rule="infusion_before_bedside_check",
        )
    limit = valid_minutes(cmd)
    if started - first.at > timedelta(minutes=limit):
        raise BedsideCheckExpired(
            f"payload.started_at {started.isoformat()} is more than {limit} min after the first bedside check "
            f"({first.name}, {first.at.isoformat()}): record BedsideCheckPerformed and BedsideCheckWitnessed again "
            "before infusing",
            field="payload.started_at",
        )


def check_round_open(cmd: Command, product: TherapyProduct) -> None:
    """A first check is recorded once per round; a new round opens only once the last one has lapsed."""
    first = product.bedside_performed
    if first is None or cmd.occurred_at - first.at > timedelta(minutes=valid_minutes(cmd)):
        return
    next_step = "infuse" if product.bedside_witnessed is not None else "a second person records BedsideCheckWitnessed"
    raise OutOfOrder(
        f"the first bedside check was already performed by {first.name} at {first.at.isoformat()}; {next_step} "
        f"(a new round of checks opens {valid_minutes(cmd)} min after it)",
        rule="bedside_check_already_performed",
    )


def _near_miss(
    cmd: Command, product: TherapyProduct, step: str, field: str, expected: str, scanned: str, message: str
) -> IdentityMismatch:
    """The refusal carrying its safety record, which the ledger stores although the step is refused."""
    safety = derived_event(
        IDENTITY_MISMATCH_RECORDED,
        product.id,
        IdentityMismatchRecorded(step=step, field=field, expected=expected, scanned=scanned),
        cmd.occurred_at,
    )
    return IdentityMismatch(message, field=field, safety_events=[safety])
