"""Every refusal the domain can make, as one hierarchy callers can catch.

    CustodyError
    ├── InvalidInput                 a field is missing, malformed or out of range
    │   ├── InvalidIdentifier        a COI/DIN is malformed or its check character is wrong
    │   └── UnknownEventType         no such event type
    ├── RuleViolation                the input is well formed but breaks a custody rule
    │   ├── OutOfOrder               the step is not allowed in the current state
    │   ├── TimeRuleViolation        occurred_at in the future, before the previous step,
    │   │                            or outside a window (thaw-to-infusion, shipping…)
    │   │   └── BedsideCheckExpired  the bedside checks are older than the validity window
    │   ├── IdentityMismatch         a scanned label/wristband does not match (near miss:
    │   │                            carries a safety event the ledger records anyway)
    │   ├── IdentityNotRegistered    no sealed identity to check the wristband against
    │   ├── ResolverIsReporter       a near miss resolved by the person whose scan mismatched
    │   ├── ProductOnHold            the product is quarantined or suspended
    │   └── TerminalState            the product is infused/destroyed: only annotations
    └── NotFound                     the aggregate the command names does not exist

Each error names the field (when one is at fault) and the rule, in words a
pharmacist can act on. ``rule`` is a stable machine-readable code.
"""

from __future__ import annotations

from typing import Any


class CustodyError(Exception):
    """Base of every error the domain raises; ``rule`` is a stable code."""

    rule: str = "custody_error"

    def __init__(self, message: str, *, field: str | None = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if rule is not None:
            self.rule = rule

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description, for the CLI's --json output and the HTTP problem body."""
        return {"error": type(self).__name__, "rule": self.rule, "field": self.field, "message": self.message}


class InvalidInput(CustodyError):
    """A field is missing, malformed or out of range."""

    rule = "invalid_input"


class InvalidIdentifier(InvalidInput):
    """A COI or DIN is malformed, or its check character is wrong."""

    rule = "invalid_identifier"


class UnknownEventType(InvalidInput):
    """The event type named is not one the ledger knows."""

    rule = "unknown_event_type"


class RuleViolation(CustodyError):
    """Well-formed input that breaks a custody rule."""

    rule = "rule_violation"


class OutOfOrder(RuleViolation):
    """The step is not allowed in the aggregate's current state."""

    rule = "out_of_order"


class TimeRuleViolation(RuleViolation):
    """A time is in the future, before the previous step, or outside a window."""

    rule = "time_rule"


class ProductOnHold(RuleViolation):
    """The product is quarantined or suspended until the hold is lifted."""

    rule = "product_on_hold"


class TerminalState(RuleViolation):
    """The product reached a terminal state: only annotations may follow."""

    rule = "terminal_state"


class IdentityMismatch(RuleViolation):
    """A scanned identifier does not match the expected one.

    The refusal itself must be visible to auditors: ``safety_events`` holds the
    events (normally one ``IdentityMismatchRecorded``) that the ledger stores
    even though the requested step is refused.
    """

    rule = "identity_mismatch"

    def __init__(self, message: str, *, field: str | None = None, safety_events: list[Any] | None = None) -> None:
        super().__init__(message, field=field)
        self.safety_events = list(safety_events or [])


class NotFound(CustodyError):
    """The aggregate a command names does not exist."""

    rule = "not_found"


class IdentityNotRegistered(RuleViolation):
    """The product's patient has no sealed identity to check the wristband against (never registered, or erased)."""

    rule = "patient_identity_not_registered"


class BedsideCheckExpired(TimeRuleViolation):
    """The bedside checks are too old to vouch for the patient in the bed now: they must be made again."""

    rule = "bedside_check_expired"


class ResolverIsReporter(RuleViolation):
    """The person whose scan mismatched cannot be the one who explains it away."""

    rule = "resolver_is_reporter"
