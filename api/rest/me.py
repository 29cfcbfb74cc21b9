"""The signed-in person's own account: ``POST /me/password`` replaces their password.

21 CFR Part 11 §11.300: a person chooses their own password and can change it. The
body carries the current password and the new one (never a URL or a query string,
which end up in logs). The change re-seals the person's signing key under the new
password in the same transaction that replaces the sign-in hash and appends the audit
row (ledger/password_change.py); the key id does not change. A token given for an
enrolment secret opens this endpoint and nothing else; after the change, sign in
again with the new password for an ordinary token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.rest.context import ApiContext, context
from api.rest.problems import ApiProblem, responses
from api.rest.security import may_change_password
from api.rest.tokens import Principal
from ledger.password_change import PasswordChanged, change_password
from ledger.password_policy import MAX_LENGTH, MIN_LENGTH
from ledger.signing_session import WrongSigningPassword

router = APIRouter(tags=["authentication"])


class PasswordChange(BaseModel):
    """Your current password (or enrolment secret) and the one you choose."""

    old_password: str = Field(min_length=1, max_length=1024, description="Your current password or enrolment secret.")
    new_password: str = Field(
        min_length=1,
        max_length=1024,
        description=f"At least {MIN_LENGTH} and at most {MAX_LENGTH} characters; not your username or name; not "
        "a common or easily guessed password (rules password_too_short, password_too_long, password_contains_name, "
        "password_common, password_guessable, password_unchanged).",
    )

    model_config = {"extra": "forbid"}


class PasswordChangedOut(BaseModel):
    """The change made: whose password, which signing keys were re-sealed, when."""

    username: str
    resealed_keys: list[str] = Field(description="Key ids now sealed under the new password (unchanged ids).")
    replaced_enrolment_secret: bool
    changed_at: datetime
    next: str = Field(description="What to do now.", examples=["sign in again at POST /auth/token"])


@router.post(
    "/me/password",
    response_model=PasswordChangedOut,
    responses=responses(401, 422, 503),
    summary="Change your password",
)
async def change_my_password(
    change: PasswordChange,
    principal: Annotated[Principal, Depends(may_change_password)],
    ctx: Annotated[ApiContext, Depends(context)],
) -> PasswordChangedOut:
    """Replace your password (or the enrolment secret you were given); your signing key is re-sealed, same key id."""

    def store() -> PasswordChanged:
        try:
            return change_password(
                ctx.ledger, principal.username, change.old_password, change.new_password, channel="rest"
            )
        except WrongSigningPassword as wrong:
            raise ApiProblem(401, "Wrong password", str(wrong), rule="wrong_password", field="old_password") from None

    done = await run_in_threadpool(store)
    return PasswordChangedOut(
        username=done.username,
        resealed_keys=list(done.resealed),
        replaced_enrolment_secret=done.replaced_enrolment_secret,
        changed_at=done.changed_at,
        next="sign in again at POST /auth/token with your new password",
    )
