"""Who may call what: the role matrix of the HTTP API, in one place, checked before anything else.

Writes follow each event type's own roles (``EventSpec.roles``, the same table the
domain enforces); this module adds the reads and the administrative actions. A
refused role gets 403 before the body is parsed, the product is loaded or the
password is checked, so a refusal reveals nothing about what exists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends

from api.rest.problems import ApiProblem
from api.rest.security import authenticated
from api.rest.tokens import Principal
from domain.events import Role

R = Role
EVERYONE = frozenset(r.value for r in Role if r is not R.SYSTEM)
PRODUCT_READERS = frozenset({R.NURSE, R.PHYSICIAN, R.PHARMACIST, R.QP, R.COURIER, R.SPONSOR, R.AUDITOR, R.ADMIN})
"""A sponsor reads only the products of its own trial (the handler filters)."""
PATIENT_READERS = frozenset({R.NURSE, R.PHYSICIAN, R.PHARMACIST, R.AUDITOR})
REGISTRY_EXPORTERS = frozenset({R.NURSE, R.PHYSICIAN, R.AUDITOR})
"""Registry rows are clinical follow-up: the care team that submits them and auditors who check what was sent."""
PATHWAY_READERS = PATIENT_READERS
"""A care pathway is the patient's clinical record: the care team and auditors, never a sponsor or courier."""
REGISTER_READERS = PRODUCT_READERS
"""Sites, trials, shipments and batches, to find valid codes; a sponsor sees only its trials' (the handlers filter)."""
CATALOGUE_READERS = EVERYONE
"""The signed product catalogue and its history: limits and panels every step is judged by; no patient, no product."""
INVENTORY_READERS = frozenset({R.NURSE, R.PHYSICIAN, R.PHARMACIST, R.QP, R.AUDITOR})
AUDIT_READERS = frozenset({R.PHARMACIST, R.QP, R.AUDITOR, R.ADMIN})
SECURITY_LOG_READERS = frozenset({R.AUDITOR, R.ADMIN})
"""The audit log of people (identity reveals and erasures, wrong signing passwords, signing locks and unlocks,
ledger/audit_log.py): part of the audit trail for the auditor and the administrator only."""
METRICS_READERS = frozenset({R.PHYSICIAN, R.PHARMACIST, R.QP, R.AUDITOR})
VERIFIERS = frozenset({R.PHARMACIST, R.QP, R.AUDITOR, R.ADMIN})
PATIENT_REGISTRARS = frozenset({R.NURSE, R.PHYSICIAN})
STAFF_ADMINS = frozenset({R.ADMIN})


def forbidden(principal: Principal, what: str, allowed: frozenset[str]) -> ApiProblem:
    """The 403 for a role that may not do ``what``."""
    return ApiProblem(
        403,
        "Not allowed for your role",
        f"the role {principal.role} may not {what}; allowed: {', '.join(sorted(allowed))}",
        rule="role_not_allowed",
        field="role",
    )


def allow(what: str, roles: frozenset[str] | frozenset[Role]) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the signed-in person, if their role is one of ``roles``; 403 otherwise."""
    allowed = frozenset(str(role) for role in roles)

    async def check(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if principal.role not in allowed:
            raise forbidden(principal, what, allowed)
        return principal

    check.__doc__ = f"Roles allowed to {what}: {', '.join(sorted(allowed))}."
    return check
