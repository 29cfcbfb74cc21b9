"""Training records over HTTP: qualifications and specialties, beside the other staff administration.

Each change is a signed event on the person's staff record (ledger/staff_training.py),
made by an administrator with a Part 11 signature; reading a record judges each
qualification on the clock's date (valid, expiring within 60 days, expired, not yet
valid, withdrawn), as `custody staff show` does. A person may read their own record;
administrators and auditors read everyone's.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.rest import access
from api.rest.access import allow, forbidden
from api.rest.access_log import note_change
from api.rest.context import ApiContext, context
from api.rest.problems import responses
from api.rest.security import authenticated
from api.rest.tokens import Principal
from api.rest.writes import WriteResult
from domain.events import Role
from domain.staff_qualification import Specialty
from ledger.envelope import Envelope
from ledger.staff_training import (
    describe_staff,
    record_qualification,
    record_specialties,
    staff_record,
    withdraw_qualification,
)

router = APIRouter(tags=["administration"])
STAFF_RECORD_READERS = frozenset({Role.ADMIN.value, Role.AUDITOR.value})
"""Who reads anyone's training record (everyone reads their own)."""

_SIGNER_PASSWORD = "Your password, for your signature on the record (21 CFR 11.200)."


class NewQualification(BaseModel):
    """A training record: named steps or the whole role, its evidence, and its validity (both days included)."""

    reference: str = Field(min_length=1, max_length=200, examples=["TR-2026-014"])
    evidence: str = Field(min_length=1, max_length=4000, examples=["CAR-T thawing and infusion course, 2026-01-12"])
    valid_from: str | None = Field(default=None, description="YYYY-MM-DD; today when left out.")
    valid_until: str = Field(examples=["2027-01-31"])
    events: list[str] = Field(default_factory=list, max_length=200, examples=[["Thawed", "Infused"]])
    role_wide: bool = False
    signer_password: str | None = Field(default=None, description=_SIGNER_PASSWORD)

    model_config = {"extra": "forbid"}


class QualificationWithdrawal(BaseModel):
    """From which day the qualification stops covering anything, and why."""

    effective_on: str | None = Field(default=None, description="YYYY-MM-DD; today when left out.")
    reason: str = Field(min_length=1, max_length=4000, examples=["competency assessment failed"])
    signer_password: str | None = Field(default=None, description=_SIGNER_PASSWORD)

    model_config = {"extra": "forbid"}


class NewSpecialties(BaseModel):
    """A physician's medical specialties and what shows them."""

    specialties: list[str] = Field(
        min_length=1, max_length=20, json_schema_extra={"items": {"enum": [s.value for s in Specialty]}}
    )
    evidence: str = Field(min_length=1, max_length=4000, examples=["RPPS register extract"])
    signer_password: str | None = Field(default=None, description=_SIGNER_PASSWORD)

    model_config = {"extra": "forbid"}


def _written(envelopes: list[Envelope]) -> dict[str, Any]:
    return {
        "aggregate_id": str(envelopes[0].aggregate_id),
        "version": envelopes[-1].version,
        "events": [envelope.to_json() for envelope in envelopes],
    }


def _noted(request: Request, result: dict[str, Any]) -> dict[str, Any]:
    note_change(request, aggregate_id=result["aggregate_id"], event_types=[e["body"]["type"] for e in result["events"]])
    return result


@router.post(
    "/staff/{username}/qualifications",
    status_code=201,
    response_model=WriteResult,
    responses=responses(401, 403, 404, 409, 422, 503),
    summary="Record or renew a person's qualification",
)
async def add_qualification(
    request: Request,
    username: str,
    new: NewQualification,
    principal: Annotated[Principal, Depends(allow("record qualifications", access.STAFF_ADMINS))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> Any:
    """What the person is trained for and until when; the same reference renews it. Signed by you."""

    def store() -> dict[str, Any]:
        valid_from = new.valid_from or ctx.ledger.clock.now().date().isoformat()
        return _written(
            record_qualification(
                ctx.ledger,
                username,
                reference=new.reference,
                evidence=new.evidence,
                valid_from=valid_from,
                valid_until=new.valid_until,
                events=new.events,
                role_wide=new.role_wide,
                by=principal.username,
                password=new.signer_password,
                session=principal.session,
                channel="rest",
            )
        )

    return _noted(request, await run_in_threadpool(store))


@router.post(
    "/staff/{username}/qualifications/{reference}/withdrawal",
    status_code=201,
    response_model=WriteResult,
    responses=responses(401, 403, 404, 409, 422, 503),
    summary="Withdraw a person's qualification from a day on",
)
async def withdraw(
    request: Request,
    username: str,
    reference: str,
    withdrawal: QualificationWithdrawal,
    principal: Annotated[Principal, Depends(allow("withdraw qualifications", access.STAFF_ADMINS))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> Any:
    """The qualification covers nothing from ``effective_on``; signed by you."""

    def store() -> dict[str, Any]:
        effective_on = withdrawal.effective_on or ctx.ledger.clock.now().date().isoformat()
        return _written(
            withdraw_qualification(
                ctx.ledger,
                username,
                reference=reference,
                effective_on=effective_on,
                reason=withdrawal.reason,
                by=principal.username,
                password=withdrawal.signer_password,
                session=principal.session,
                channel="rest",
            )
        )

    return _noted(request, await run_in_threadpool(store))


@router.post(
    "/staff/{username}/specialties",
    status_code=201,
    response_model=WriteResult,
    responses=responses(401, 403, 404, 409, 422, 503),
    summary="Record a physician's medical specialties",
)
async def add_specialties(
    request: Request,
    username: str,
    new: NewSpecialties,
    principal: Annotated[Principal, Depends(allow("record specialties", access.STAFF_ADMINS))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> Any:
    """Specialties join those on the record; signed by you."""

    def store() -> dict[str, Any]:
        return _written(
            record_specialties(
                ctx.ledger,
                username,
                new.specialties,
                evidence=new.evidence,
                by=principal.username,
                password=new.signer_password,
                session=principal.session,
                channel="rest",
            )
        )

    return _noted(request, await run_in_threadpool(store))


@router.get(
    "/staff/{username}",
    responses=responses(401, 403, 404),
    summary="A person's role, specialties and qualifications, each judged today",
)
async def show_staff(
    username: str,
    principal: Annotated[Principal, Depends(authenticated)],
    ctx: Annotated[ApiContext, Depends(context)],
) -> Any:
    """Each qualification with its state today: valid, expiring (within 60 days), expired, not yet valid, withdrawn."""
    if principal.username != username and principal.role not in STAFF_RECORD_READERS:
        raise forbidden(principal, "read another person's staff record", STAFF_RECORD_READERS)

    def read() -> dict[str, Any]:
        return describe_staff(staff_record(ctx.ledger, username), ctx.ledger.clock.now().date())

    return await run_in_threadpool(read)
