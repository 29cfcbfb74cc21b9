"""The demonstration's care pathways: registries, selection by the RCP, the pair's decision, consent, conditioning.

Recorded before the custody journeys of api/demo.py, because a patient on a pathway
is collected only after an eligible RCP decision, the pair's two signatures and
consent, and only at accredited sites. Each patient walks one path:
- SLE: eligible at the first meeting; conditioning four days before the CAR-T infusion
  (her visits then show one done, one overdue and one due; her CRS is graded);
- SSc: eligible for MSC; the dose given three weeks ago has its day-7 visit overdue;
- vasculitis: deferred until the evaluation is completed, then eligible;
- myopathy: the first decision is refused because the muscle MRI is older than three
  months (shown and caught: nothing is stored), then taken on a fresh MRI.
Times are offsets from each journey's start in api/demo.py, so the two stay in step.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from api import demo_journeys as j
from api import demo_trial_sites
from domain.errors import TimeRuleViolation
from domain.pathway import pathway_id_for
from domain.site import site_id_for
from domain.staff import StaffMember, staff_id_for
from domain.trial import trial_id_for
from ledger.ledger_meta import LEDGER_USER

DISEASE_SPECIALIST = "internist"
CELL_THERAPY_SPECIALIST = "physician"
USERS = {DISEASE_SPECIALIST: ("Dr Hélène Robert", "physician")}
"""The disease specialist of every demo patient's pair (the demo's physician is the cell-therapy specialist)."""
TRIAL_PROTOCOL = "CART-AUTOIMMUNE-01"
TRIAL_SPONSOR = "Academic sponsor (AP-HP)"
SITES = {
    j.APHERESIS_SITE: ["collection"],
    j.UNIT: ["infusion"],
    j.MANUFACTURER: ["processing"],
    j.PHARMACY: ["storage"],
}
# Journey starts in api/demo.py, in days before now: SLE 60, SSc 40, vasculitis 45, myopathy 30.
SLE_START, SSC_START, VAS_START, MYO_START = 60, 40, 45, 30


def _registry(rec: j.Recorder, event_type: str, target: Any, when: datetime, **payload: Any) -> None:
    """Registry changes are signed by the ledger itself here, as the demo's staff registrations are."""
    rec.ledger.record(event_type, target, payload, user=LEDGER_USER, meaning="approved", occurred_at=when)


def record_registries(rec: j.Recorder, now: datetime) -> None:
    """The demo's accredited centres, the trial its sponsor user may follow, and its two active sites."""
    since = now - timedelta(days=400)
    for code, scope in SITES.items():
        site = site_id_for(code)
        if rec.ledger.load(site) is not None:
            continue
        _registry(rec, "SiteRegistered", site, since, code=code, name=code, facility="F9999")
        _registry(
            rec, "AccreditationGranted", site, since, accreditor="jacie", reference=f"JACIE-{code[-12:]}",
            scope=scope, valid_from=_day(since), valid_until=_day(now, 700),
        )  # fmt: skip
    trial = trial_id_for(TRIAL_PROTOCOL)
    if rec.ledger.load(trial) is None:
        _registry(
            rec, "TrialRegistered", trial, since, protocol=TRIAL_PROTOCOL, sponsor=TRIAL_SPONSOR,
            title="Anti-CD19 CAR-T cells in refractory systemic autoimmune diseases", eu_ct_number="2025-500123-11-00",
        )  # fmt: skip
        _registry(rec, "SponsorUserAuthorised", trial, since, user_id="sponsor")
    demo_trial_sites.activate_demo_trial_sites(rec, TRIAL_PROTOCOL, since, _day(now, 700))


def _day(moment: datetime, days: int = 0) -> str:
    return (moment + timedelta(days=days)).date().isoformat()


def _staff_name(rec: j.Recorder, username: str) -> str:
    """The printed name a staff member is registered under: the pair is named as their records say."""
    member = rec.ledger.load(staff_id_for(username))
    assert isinstance(member, StaffMember), f"{username} is not registered"
    return member.name


def _enrol(rec: j.Recorder, pseudonym: str, diagnosis: str, when: datetime, prior: list[dict[str, str]]) -> Any:
    pathway = pathway_id_for(pseudonym)
    rec(
        DISEASE_SPECIALIST, "PatientEnrolled", pathway, when, "recorded", patient_pseudonym=pseudonym,
        diagnosis=diagnosis, prior_treatments=prior,
        disease_specialist={"user_id": DISEASE_SPECIALIST, "name": _staff_name(rec, DISEASE_SPECIALIST)},
        cell_therapy_specialist={"user_id": CELL_THERAPY_SPECIALIST, "name": _staff_name(rec, CELL_THERAPY_SPECIALIST)},
    )  # fmt: skip
    return pathway


def _rcp(
    rec: j.Recorder,
    pathway: Any,
    meeting: datetime,
    outcome: str,
    evaluations: list[tuple[str, date, str]],
    **extra: Any,
) -> None:
    rec(
        DISEASE_SPECIALIST, "RcpDecisionRecorded", pathway, meeting, "approved", meeting_at=meeting.isoformat(),
        outcome=outcome,
        participants=[
            {"name": USERS[DISEASE_SPECIALIST][0], "specialty": "internal medicine"},
            {"name": "Dr Anne Durand", "specialty": "haematology, cell therapy"},
            {"name": "Dr Marc Vidal", "specialty": "nephrology"},
        ],
        evaluations=[{"kind": k, "performed_on": d.isoformat(), "description": text} for k, d, text in evaluations],
        **extra,
    )  # fmt: skip


def _decide_and_consent(rec: j.Recorder, pathway: Any, when: datetime, therapy: str, code: str) -> None:
    """The disease specialist proposes, the cell-therapy specialist co-signs, then the patient consents."""
    rec(
        DISEASE_SPECIALIST, "TreatmentDecisionProposed", pathway, when, "authored", therapy=therapy,
        product_code=code, rationale="refractory to reference treatments; eligible at RCP",
    )  # fmt: skip
    proposal = rec.ledger.load(pathway)
    assert proposal is not None
    rec(
        CELL_THERAPY_SPECIALIST, "TreatmentDecisionCosigned", pathway, when + timedelta(days=1), "approved",
        proposal_version=proposal.version,
    )  # fmt: skip
    rec(
        CELL_THERAPY_SPECIALIST, "ConsentSigned", pathway, when + timedelta(days=2), "witnessed",
        form_version="CART-AI-01 v3.1", signed_on=_day(when, 2), document_ref=f"CONSENT-{pathway.hex[:8]}",
        registry_transmission=["descar_t", "ebmt"],
    )  # fmt: skip


def ready_patient(
    rec: j.Recorder, pseudonym: str, diagnosis: str, start: datetime, therapy: str = "car_t",
    code: str = "ACADEMIC-CD19",
) -> None:  # fmt: skip
    """What enrolling a product needs, recorded once: accredited sites and an eligible, co-signed, consented pathway.

    The pathway is decided 30 days before ``start``, well inside the RCP decision's validity.
    """
    record_registries(rec, start)
    if rec.ledger.load(pathway_id_for(pseudonym)) is None:
        _eligible(rec, pseudonym, diagnosis, start, therapy, code)


def _eligible(rec: j.Recorder, pseudonym: str, diagnosis: str, start: datetime, therapy: str, code: str) -> Any:
    prior = PRIOR.get(diagnosis, PRIOR["systemic_lupus_erythematosus"])
    pathway = _enrol(rec, pseudonym, diagnosis, start - timedelta(days=40), prior)
    meeting = start - timedelta(days=30)
    evaluations = _evaluations(meeting, 20)
    rationale = RATIONALE.get(diagnosis, "refractory to reference treatments")
    _rcp(rec, pathway, meeting, "eligible", evaluations, therapy=therapy, rationale=rationale)
    _decide_and_consent(rec, pathway, meeting + timedelta(days=1), therapy, code)
    return pathway


def _evaluations(meeting: datetime, days_before: int, paraclinical_days_before: int | None = None) -> list[Any]:
    clinical = (meeting - timedelta(days=days_before)).date()
    para = (meeting - timedelta(days=paraclinical_days_before or days_before)).date()
    return [
        ("clinical", clinical, "disease activity score, organ involvement"),
        ("paraclinical", para, "imaging, biology"),
    ]


def record_pathways(rec: j.Recorder, now: datetime) -> None:
    """Each demo patient's path to treatment, before their product's custody journey (once per ledger)."""
    if rec.ledger.load(pathway_id_for("PSN-SLE-0001")) is not None:
        return
    sle = _eligible(rec, "PSN-SLE-0001", "systemic_lupus_erythematosus", now - timedelta(days=SLE_START), "car_t",
                    "ACADEMIC-CD19")  # fmt: skip
    # api/demo.py infuses the SLE product 29 days after its journey starts: conditioning ends 4 days before.
    conditioning = now - timedelta(days=SLE_START - 25)
    rec(
        "physician", "LymphodepletionRecorded", sle, conditioning, "performed",
        agents=[
            {"name": "fludarabine", "dose": "25 mg/m²/day × 3"},
            {"name": "cyclophosphamide", "dose": "250 mg/m²/day × 3"},
        ],
        started_on=_day(conditioning, -2), ended_on=_day(conditioning),
    )  # fmt: skip
    _eligible(rec, "PSN-SSC-0002", "systemic_sclerosis", now - timedelta(days=SSC_START), "msc", "MSC-BANK")
    _deferred_then_eligible(rec, now - timedelta(days=VAS_START))
    _refused_then_eligible(rec, now - timedelta(days=MYO_START))


def _deferred_then_eligible(rec: j.Recorder, start: datetime) -> None:
    """Vasculitis: the first meeting defers until the renal evaluation is complete."""
    pathway = _enrol(rec, "PSN-VAS-0003", "vasculitis", start - timedelta(days=60), PRIOR["vasculitis"])
    first = start - timedelta(days=50)
    _rcp(rec, pathway, first, "deferred", _evaluations(first, 5),
         rationale="renal function worsening: complete the evaluation (biopsy) and present again")  # fmt: skip
    second = start - timedelta(days=20)
    _rcp(rec, pathway, second, "eligible", _evaluations(second, 5), therapy="car_t", rationale=RATIONALE["vasculitis"])
    _decide_and_consent(rec, pathway, second + timedelta(days=1), "car_t", "ACADEMIC-CD19")


def _refused_then_eligible(rec: j.Recorder, start: datetime) -> None:
    """Myopathy: a decision relying on a 110-day-old MRI is refused; the RCP decides again on a fresh one."""
    pathway = _enrol(rec, "PSN-MYO-0004", "inflammatory_myopathy", start - timedelta(days=40),
                     PRIOR["inflammatory_myopathy"])  # fmt: skip
    first = start - timedelta(days=20)
    before = rec.ledger.load(pathway)
    try:
        _rcp(rec, pathway, first, "eligible", _evaluations(first, 10, 110), therapy="car_t",
             rationale=RATIONALE["inflammatory_myopathy"])  # fmt: skip
    except TimeRuleViolation as refusal:
        assert refusal.rule == "evaluation_too_old", refusal.rule
    else:  # the demo is wrong if an RCP on a stale evaluation were accepted
        raise AssertionError("an RCP decision on a 110-day-old evaluation was accepted")
    after = rec.ledger.load(pathway)
    assert before is not None and after is not None and after.version == before.version, "a refusal stored something"
    second = start - timedelta(days=10)
    _rcp(rec, pathway, second, "eligible", _evaluations(second, 4, 2), therapy="car_t",
         rationale=RATIONALE["inflammatory_myopathy"] + "; muscle MRI redone")  # fmt: skip
    _decide_and_consent(rec, pathway, second + timedelta(days=1), "car_t", "ACADEMIC-CD19")


PRIOR: dict[str, list[dict[str, str]]] = {
    "systemic_lupus_erythematosus": [
        {"treatment": "mycophenolate mofetil", "failure_reason": "active class IV nephritis after 12 months"},
        {"treatment": "rituximab", "failure_reason": "relapse 6 months after two courses"},
        {"treatment": "belimumab", "failure_reason": "no response at 6 months"},
    ],
    "systemic_sclerosis": [
        {"treatment": "methotrexate", "failure_reason": "progressive skin score"},
        {"treatment": "mycophenolate mofetil", "failure_reason": "declining lung function (FVC −12 %)"},
    ],
    "vasculitis": [
        {"treatment": "cyclophosphamide", "failure_reason": "relapse after induction"},
        {"treatment": "rituximab", "failure_reason": "refractory glomerulonephritis"},
    ],
    "inflammatory_myopathy": [
        {"treatment": "corticosteroids and methotrexate", "failure_reason": "persistent weakness, CK > 10 × ULN"},
        {"treatment": "intravenous immunoglobulin", "failure_reason": "no response after 6 months"},
    ],
}
RATIONALE = {
    "systemic_lupus_erythematosus": "refractory lupus nephritis after three reference treatments",
    "systemic_sclerosis": "diffuse cutaneous disease progressing despite two immunosuppressants",
    "vasculitis": "ANCA vasculitis refractory to cyclophosphamide and rituximab",
    "inflammatory_myopathy": "refractory anti-synthetase myositis",
}
