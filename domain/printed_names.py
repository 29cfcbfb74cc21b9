"""Printed names: the name shown beside each signature identifies one person among the active staff.

21 CFR Part 11 §11.100(a): each electronic signature is unique to one individual, and
§11.50 shows the signer's printed name with it. Two active people printed "Claire
Martin" and "CLAIRE  MARTIN" would make a signed history ambiguous to its reader, so a
name is compared after folding case, accents and spacing.

Each folded name has its own small aggregate with a fixed id (uuid5 of the folded
name): registering a person appends a claim to it, in the same transaction as the
registration. Two registrations of the same name at the same moment both append at the
same version of that aggregate, and the store keeps only one: uniqueness needs no
lock and no query across all staff.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from uuid import UUID, uuid5

from domain.aggregate import Aggregate
from domain.events import EventRecord

KIND = "printed_name"
PRINTED_NAME_NAMESPACE = UUID("0f6f3b8e-3d1a-4c55-8a7e-6b2f91c4d7a2")
PRINTED_NAME_EVENT_TYPES = ("PrintedNameClaimed",)
"""Recorded by the domain with a StaffMemberRegistered, never requested on their own."""


def fold_printed_name(name: str) -> str:
    """The form two names are compared in: accents dropped, case folded, runs of spaces made one."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def printed_name_id_for(name: str) -> UUID:
    """The id of the aggregate that holds the claims on this name (any spelling that folds alike)."""
    return uuid5(PRINTED_NAME_NAMESPACE, fold_printed_name(name))


@dataclass(frozen=True)
class PrintedNameClaimed:
    """A person registered under this printed name."""

    name: str
    username: str


class PrintedName(Aggregate):
    """Who registered under one folded printed name, oldest first."""

    kind = KIND

    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(aggregate_id)
        self.holders: list[str] = []

    def when_PrintedNameClaimed(self, record: EventRecord) -> None:
        """One more person registered under the name (whether earlier ones are still active is theirs to say)."""
        self.holders.append(str(record.payload["username"]))
