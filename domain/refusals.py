"""Running several rules to hear every refusal, where a step stops at the first.

A step is refused for the first rule it breaks; a person about to do something
irreversible (a thaw) is shown every rule that would refuse what comes next. Both
run the same check functions: this module only gathers what they raise.
"""

from __future__ import annotations

from collections.abc import Callable

from domain.errors import CustodyError, IdentityMismatch


def refusals(*checks: Callable[[], object]) -> list[CustodyError]:
    """The refusal of each check that refuses, in order (a check that passes adds nothing).

    A near miss (``IdentityMismatch``) carries a safety record the ledger must store: it
    is never swallowed here, since no check gathered this way scans anything.
    """
    found: list[CustodyError] = []
    for check in checks:
        try:
            check()
        except IdentityMismatch:
            raise
        except CustodyError as refusal:
            found.append(refusal)
    return found
