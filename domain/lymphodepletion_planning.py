"""Planning the lymphodepletion: only once the product's release is confirmed, unless the site decided otherwise.

CAR-T labels advise starting the conditioning chemotherapy only when the product is known
to be available: a patient conditioned for a lot that then fails QC has had the toxicity
for nothing. ``LymphodepletionPlanned`` names the product (its COI) and the first day;
it is refused while the product is not released (by the QP, or exceptionally), unless
the product's hospital (its collection site) has signed ``EarlyLymphodepletionAllowed`` (some centres start while
release testing ends, knowing the risk); the plan then says so. The course actually
given stays ``LymphodepletionRecorded``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from domain.errors import InvalidInput, OutOfOrder, RuleViolation, TimeRuleViolation
from domain.events import Meaning as M
from domain.events import NewEvent
from domain.events import Role as R
from domain.identifiers import parse_coi, product_id_for
from domain.pathway import PatientPathway
from domain.pathway_gates import check_treatment_allowed
from domain.payloads import CoiText, DateText, FreeText, parse_date
from domain.product import TherapyProduct
from domain.site import Site, site_id_for
from domain.spec import Command, Decider, EventSpec


@dataclass(frozen=True)
class LymphodepletionPlanned:
    """The conditioning of this patient for this product is planned to start on a day."""

    coi: CoiText
    starts_on: DateText
    before_release: bool | None = None
    """Set by the ledger: true when planned before release under the site's EarlyLymphodepletionAllowed."""


@dataclass(frozen=True)
class EarlyLymphodepletionAllowed:
    """The site allows planning conditioning before the product's release is confirmed, and says why."""

    reason: FreeText


@dataclass(frozen=True)
class EarlyLymphodepletionRevoked:
    """Conditioning is again planned only after release."""

    reason: FreeText


_SETTERS = frozenset({R.ADMIN})
PLANNING_SPECS = (
    EventSpec(
        "LymphodepletionPlanned",
        "pathway",
        LymphodepletionPlanned,
        (M.APPROVED, M.AUTHORED),
        frozenset({R.PHYSICIAN}),
        "A physician plans the CAR-T patient's conditioning for a product (COI) and a first day; refused until the "
        "product is released, unless its site signed EarlyLymphodepletionAllowed.",
    ),
    EventSpec(
        "EarlyLymphodepletionAllowed",
        "site",
        EarlyLymphodepletionAllowed,
        (M.APPROVED,),
        _SETTERS,
        "An administrator declares, with a reason, that the site may plan conditioning before release is confirmed; "
        "each such plan says so.",
    ),
    EventSpec(
        "EarlyLymphodepletionRevoked",
        "site",
        EarlyLymphodepletionRevoked,
        (M.APPROVED,),
        _SETTERS,
        "Ends that setting: conditioning is planned only once the product is released.",
    ),
)


def plan_lymphodepletion(cmd: Command) -> list[NewEvent]:
    """The patient's own released CAR-T product (or the site's allowance), a first day not in the past."""
    pathway = cmd.current
    assert isinstance(pathway, PatientPathway)
    payload: LymphodepletionPlanned = cmd.payload
    if payload.before_release is not None:
        raise InvalidInput(
            "payload.before_release is set by the ledger, not given", field="payload.before_release",
            rule="set_by_ledger",
        )  # fmt: skip
    check_treatment_allowed(pathway, "LymphodepletionPlanned")
    product = cmd.load(product_id_for(parse_coi(payload.coi, field="payload.coi")))
    if not isinstance(product, TherapyProduct) or product.patient_pseudonym != pathway.pseudonym:
        raise RuleViolation(
            f"payload.coi {payload.coi} is not a product of patient {pathway.pseudonym}",
            field="payload.coi",
            rule="not_this_patients_product",
        )
    if product.product_kind != "car_t":
        raise OutOfOrder("lymphodepletion precedes a CAR-T infusion, not an MSC dose", rule="car_t_only")
    if parse_date(payload.starts_on, field="payload.starts_on") < cmd.occurred_at.date():
        raise TimeRuleViolation(
            f"payload.starts_on {payload.starts_on} is before the plan is made ({cmd.occurred_at.date().isoformat()})",
            field="payload.starts_on",
            rule="planned_in_the_past",
        )
    if product.released:
        return [cmd.record()]
    if not _site_allows(cmd, str(product.effective_payload(1).get("collection_site", ""))):
        raise OutOfOrder(
            f"product {payload.coi} is not released yet: conditioning is planned once release is confirmed (the "
            "product label's advice), or the site signs EarlyLymphodepletionAllowed",
            rule="release_not_confirmed",
        )
    return [cmd.record(replace(payload, before_release=True))]


def _site_allows(cmd: Command, code: str) -> bool:
    site = cmd.load(site_id_for(code)) if code.strip() else None
    return isinstance(site, Site) and site.early_lymphodepletion_allowed


DECIDERS: Mapping[str, Decider] = {
    "LymphodepletionPlanned": plan_lymphodepletion,
    "EarlyLymphodepletionAllowed": lambda cmd: [cmd.record()],
    "EarlyLymphodepletionRevoked": lambda cmd: [cmd.record()],
}
