"""Administration over HTTP: registering staff. An administrator signs it and records no clinical step.

A new person gets a fresh Ed25519 key sealed under their own password (which is
also their sign-in password); the administrator's signature on the registration
is a Part 11 signature like any other, so it asks for the administrator's
password at the first signature after signing in.
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
from ledger.setup import register_staff

router = APIRouter(tags=["administration"])
REGISTRABLE = sorted(r.value for r in Role if r is not Role.SYSTEM)


class NewStaff(BaseModel):
    """A person to register, their first password, and the administrator's signature password."""

    username: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$", examples=["nurse2"])
    name: str = Field(min_length=1, max_length=200, examples=["Léa Bernard"])
    role: str = Field(json_schema_extra={"enum": list[Any](REGISTRABLE)}, examples=["nurse"])
    password: str = Field(min_length=1, description="The new person's password (seals their key).")
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
            registrar=principal.username, registrar_password=new.signer_password,
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
