"""`custody followup` and `custody pathway`: the care pathway on the command line.

Thin, like the other read commands: check the arguments, call ``projections`` or load
the pathway, print text or one JSON line. Pathway steps themselves are recorded with
`custody record` on the pathway id this module prints. Pseudonyms only, never identity.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from api.cli_projections import projected_ledger
from domain.errors import NotFound
from domain.pathway import PatientPathway, pathway_id_for
from ledger.settings import Settings
from projections import followup_query


def add_commands(sub: Any) -> None:
    """Register the pathway subcommands on the `custody` parser."""
    followup = sub.add_parser("followup", help="follow-up worklist: visits overdue, due, or due within 30 days")
    followup.add_argument("--overdue", action="store_true", help="only visits past their last on-time day")
    followup.add_argument("--json", action="store_true", help="one JSON object with a `visits` list")
    followup.set_defaults(handler=followup_command)

    pathway = sub.add_parser("pathway", help="a patient's care pathway: id, pair, RCP, decision, consent")
    pathway.add_argument("patient", metavar="PSEUDONYM", help="the patient's pseudonym")
    pathway.add_argument("--json", action="store_true")
    pathway.set_defaults(handler=pathway_command)


def followup_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody followup`: the visits the unit must see to, most urgent first."""
    with projected_ledger(settings) as ledger:
        today = ledger.clock.now().date()
        rows = followup_query.worklist(ledger.store, today, overdue_only=args.overdue)
    if args.json:
        print(json.dumps({"today": today.isoformat(), "overdue_only": args.overdue, "visits": rows}))
        return 0
    print(f"{len(rows)} follow-up visit(s) " + ("overdue" if args.overdue else "to see to") + f" on {today}")
    for row in rows:
        print(
            f"  {row['status']:<8}  {row['patient_pseudonym']:<14} {row['coi']}  {row['visit']:<9} "
            f"due {row['due_on']}, on time until {row['latest_on']}"
        )
    return 0


def pathway_state(pathway: PatientPathway) -> dict[str, Any]:
    """What a pathway says now, JSON-safe."""
    proposal = pathway.proposal
    return {
        "pathway_id": str(pathway.id),
        "patient_pseudonym": pathway.pseudonym,
        "diagnosis": pathway.diagnosis,
        "pair": [{"user_id": user_id, "name": name} for user_id, name in pathway.pair.items()],
        "rcp_outcome": pathway.rcp_outcome,
        "treatment_decision": None
        if proposal is None
        else {
            "therapy": proposal.therapy,
            "product_code": proposal.product_code,
            "proposed_by": proposal.by_user_id,
            "cosigned_by": proposal.cosigned_by,
        },
        "consent_signed": pathway.consent_signed,
        "consent_withdrawn": pathway.consent_withdrawn,
        "lymphodepletions": [
            {"started_on": c.started_on.isoformat(), "ended_on": c.ended_on.isoformat()}
            for c in pathway.lymphodepletions
        ],
        "order": None
        if pathway.order is None
        else {
            "manufacturer": pathway.order.manufacturer,
            "apheresis_on": pathway.order.apheresis_on,
            "slot_on": pathway.order.slot_on,
            "infusion_on": pathway.order.infusion_on,
            "ordered_at_version": pathway.order.version,
        },
        "version": pathway.version,
    }


def pathway_command(args: argparse.Namespace, settings: Settings) -> int:
    """`custody pathway PSEUDONYM`: the pathway's id (for `custody record`) and where it stands."""
    with projected_ledger(settings) as ledger:
        found = ledger.load(pathway_id_for(args.patient))
    if not isinstance(found, PatientPathway):
        raise NotFound(
            f"no care pathway for patient pseudonym {args.patient!r} (record PatientEnrolled on "
            f"{pathway_id_for(args.patient)})",
            field="patient",
        )
    state = pathway_state(found)
    if args.json:
        print(json.dumps(state, ensure_ascii=False))
        return 0
    decision = state["treatment_decision"]
    signed = "none" if decision is None else f"{decision['therapy']} {decision['product_code']}, co-signed: "
    if decision is not None:
        signed += decision["cosigned_by"] or "not yet"
    print(f"patient {found.pseudonym} ({found.diagnosis}), pathway {found.id}")
    print("  pair: " + ", ".join(f"{p['name']} ({p['user_id']})" for p in state["pair"]))
    print(f"  RCP: {found.rcp_outcome or 'no decision'}; treatment decision: {signed}")
    consent = "withdrawn" if found.consent_withdrawn else ("signed" if found.consent_signed else "not signed")
    print(f"  consent: {consent}; lymphodepletion courses: {len(found.lymphodepletions)}")
    return 0
