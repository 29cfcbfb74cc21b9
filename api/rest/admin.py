"""Administration over HTTP: registering staff, unlocking signing. An administrator does it; no clinical step.

A new person gets a fresh Ed25519 key sealed under a one-time enrolment secret, which
they replace by a password of their own at first sign-in (ledger/password_enrolment.py);
the administrator's signature on the registration
is a Part 11 signature like any other, so it asks for the administrator's
password at the first signature after signing in. Unlocking a person's signing after
repeated wrong signing passwords (ledger/signing_lockout.py) asks for the same proof and
is recorded in the audit log, with the reason. Re-enrolling a person who forgot their password
(ledger/reenrolment.py) replaces their key by one sealed under a new enrolment secret.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.rest import access
from api.rest.access import allow
from api.rest.access_log import note_change
from api.rest.context import ApiContext, context
from api.rest.problems import responses
from api.rest.tokens import Principal
from api.rest.writes import WriteResult
from domain.events import Role
from ledger.password_enrolment import new_enrolment_secret
from ledger.reenrolment import Reenrolled, reenrol
from ledger.setup import register_staff
from ledger.signing_unlock import unlock_signing

router = APIRouter(tags=["administration"])
REGISTRABLE = sorted(r.value for r in Role if r is not Role.SYSTEM)


class NewStaff(BaseModel):
    """A person to register, their first password, and the administrator's signature password."""

    username: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$", examples=["nurse2"])
    name: str = Field(min_length=1, max_length=200, examples=["Léa Bernard"])
    role: str = Field(json_schema_extra={"enum": list[Any](REGISTRABLE)}, examples=["nurse"])
    password: str = Field(
        min_length=1,
        description="A one-time enrolment secret for the new person (seals their key until they replace it): "
        "signing in with it answers 403 password_change_required, and it signs nothing until they choose "
        "their own password at POST /me/password (21 CFR 11.300).",
    )
    signer_password: str | None = Field(
        default=None, description="Your password, for your signature on the registration (21 CFR 11.200)."
    )

    model_config = {"extra": "forbid"}


@router.post(
    "/staff",
    status_code=201,
    response_model=WriteResult,
    responses=responses(401, 403, 409, 422, 503),
    summary="Register a staff member",
)
async def add_staff(
    request: Request,
    response: Response,
    new: NewStaff,
    principal: Annotated[Principal, Depends(allow("register staff", access.STAFF_ADMINS))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> Any:
    """Register a person with a new signing key sealed by their password, signed by you."""

    def store() -> dict[str, Any]:
        envelopes = register_staff(
            ctx.ledger, new.username, new.name, new.role, new.password,
            registrar=principal.username, registrar_password=new.signer_password, channel="rest",
            must_change_password=True,
        )  # fmt: skip
        aggregate_id = envelopes[0].aggregate_id
        return {
            "aggregate_id": str(aggregate_id),
            "version": envelopes[-1].version,
            "events": [envelope.to_json() for envelope in envelopes],
        }

    result = await run_in_threadpool(store)
    note_change(request, aggregate_id=result["aggregate_id"], event_types=[e["body"]["type"] for e in result["events"]])
    return result


class SigningUnlock(BaseModel):
    """Why the person may sign again, and the administrator's signature password."""

    reason: str = Field(min_length=1, max_length=4000, examples=["identity confirmed in person; password reset"])
    signer_password: str | None = Field(
        default=None, description="Your password, proving who unlocks (as for a signature, 21 CFR 11.200)."
    )

    model_config = {"extra": "forbid"}


class SigningUnlocked(BaseModel):
    """The lock lifted: whose, by whom, and what it was."""

    username: str
    unlocked_by: str
    locked_at: str | None
    consecutive_failures: int


@router.post(
    "/staff/{username}/signing-unlock",
    response_model=SigningUnlocked,
    responses=responses(401, 403, 404, 409, 422, 503),
    summary="Unlock a person's signing after repeated wrong signing passwords",
)
async def unlock_staff_signing(
    username: str,
    unlock: SigningUnlock,
    principal: Annotated[Principal, Depends(allow("unlock signing", access.STAFF_ADMINS))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> Any:
    """Let a locked person sign again; the unlock, who did it and why go to the audit log (GET /audit)."""

    def store() -> SigningUnlocked:
        before = unlock_signing(
            ctx.ledger, username, by=principal.username, password=unlock.signer_password,
            reason=unlock.reason, channel="rest", session=principal.session,
        )  # fmt: skip
        return SigningUnlocked(
            username=username, unlocked_by=principal.username, locked_at=before.locked_at,
            consecutive_failures=before.failures,
        )  # fmt: skip

    return await run_in_threadpool(store)


class Reenrolment(BaseModel):
    """Why a person is re-enrolled, the secret to hand them (or none: one is generated), your signature password."""

    reason: str = Field(
        max_length=4000,
        description="Why, and how the person was identified; required (rule required), kept in the audit log.",
        examples=["forgot her password; identity checked in person with her hospital badge"],
    )
    enrolment_secret: str | None = Field(
        default=None,
        max_length=1024,
        description="The one-time enrolment secret that seals the new key (at least 8 characters). Omitted: one is "
        "generated and returned once in the answer. It signs nothing until the person replaces it (POST /me/password).",
    )
    signer_password: str | None = Field(
        default=None, description="Your password, for your signature on the key events (21 CFR 11.200)."
    )

    model_config = {"extra": "forbid"}


class LiftedLock(BaseModel):
    """The signing lock a re-enrolment lifted (recorded as ``signing_unlocked`` in the audit log)."""

    locked_at: str | None
    consecutive_failures: int


class ReenrolledOut(BaseModel):
    """The re-enrolment made: the new key, the keys revoked, the lock lifted, the signed events."""

    username: str
    reenrolled_by: str
    new_key: str
    revoked_keys: list[str]
    signing_lock_lifted: LiftedLock | None
    signing_failures_reset: int
    enrolment_secret: str | None = Field(
        default=None, description="Only when generated: shown this once; hand it over in person."
    )
    events: list[dict[str, Any]]
    next: str


@router.post(
    "/staff/{username}/reenrol",
    response_model=ReenrolledOut,
    response_model_exclude_none=True,
    responses=responses(401, 403, 404, 409, 422, 503),
    summary="Re-enrol a person who forgot their password: new key, new enrolment secret, old key revoked",
)
async def reenrol_staff(
    request: Request,
    response: Response,
    username: str,
    body: Reenrolment,
    principal: Annotated[Principal, Depends(allow("re-enrol staff", access.STAFF_ADMINS))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> Any:
    """Revoke the person's active keys and register a new one sealed under a one-time enrolment secret, in one
    transaction (ledger/reenrolment.py); another administrator than the person does it (rule reenrol_self)."""
    generated = body.enrolment_secret is None
    secret = new_enrolment_secret() if body.enrolment_secret is None else body.enrolment_secret

    def store() -> Reenrolled:
        return reenrol(
            ctx.ledger, username, secret, by=principal.username, password=body.signer_password,
            reason=body.reason, channel="rest", session=principal.session,
        )  # fmt: skip

    done = await run_in_threadpool(store)
    note_change(request, aggregate_id=str(done.envelopes[0].aggregate_id),
                event_types=[envelope.type for envelope in done.envelopes])  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    lock = done.lifted_lock
    return ReenrolledOut(
        username=done.username,
        reenrolled_by=done.by,
        new_key=done.key_id,
        revoked_keys=list(done.revoked),
        signing_lock_lifted=None if lock is None else LiftedLock(locked_at=lock.locked_at,
                                                                 consecutive_failures=lock.failures),
        signing_failures_reset=done.failures_reset,
        enrolment_secret=secret if generated else None,
        events=[envelope.to_json() for envelope in done.envelopes],
        next=f"{done.username} signs in with the enrolment secret and chooses a password at POST /me/password",
    )  # fmt: skip
