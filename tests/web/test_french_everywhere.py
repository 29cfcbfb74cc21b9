"""French everywhere: every code the ledger stores is shown in the unit's words on a French page.

The completeness checks read what needs French from the code itself (the spec registry, the payload classes, the
enums, every ``rule=`` of the source tree), never from the catalogue they check; the page checks compare with
French written out by hand.
"""

from __future__ import annotations

import ast
import dataclasses
import html
import re
import types
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, TypeGuard, Union, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from freezegun import freeze_time

from api.web.i18n import context_messages, messages, number, plural_messages, translator, when
from domain.events import Role
from domain.product import ProductState
from domain.registry import EVENT_TYPES
from ledger.service import CustodyLedger
from tests.api.conftest import START, Session, password
from tests.integration.journeys import Recorder, enrolled, released_and_stored

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
POSITIONAL_RULE = {"_refuse": 2, "_unauthenticated": 1, "_normalise": 2}
"""Helpers that take the rule code as a positional argument, and its position."""
RULE_ENUMS = ("DutyRule", "DocumentState")
"""Enums whose values are refusal codes (a four-eyes rule a step breaks; why a document cannot be read)."""
DEADLINES = ("thaw_to_infusion", "fresh_shipping_window")
"""The windows projections/product_status.py runs (written out: the projection names them in code, not a table)."""
NOT_CHOICES = ("Role", "Meaning", "Format", "ProductState", "MediaType", "QualificationState", "Status")
"""Enums shown through their own words (roles, states, signature meanings) or never offered in a form."""


# -- what needs French, read from the code -------------------------------------------------------------------


def _called(node: ast.Call) -> str:
    return node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")


def _constant(node: ast.expr) -> TypeGuard[ast.Constant]:
    return isinstance(node, ast.Constant)


def rule_codes() -> set[str]:
    """Every refusal code the source tree can raise: ``rule=`` literals, ``rule`` class attributes and the rest."""
    codes: set[str] = set()
    for package in ("domain", "ledger", "api", "projections"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call):
                    codes |= {str(kw.value.value) for kw in node.keywords if kw.arg == "rule" and _constant(kw.value)}
                    at = POSITIONAL_RULE.get(_called(node))
                    given = node.args[at] if at is not None and len(node.args) > at else None
                    if isinstance(given, ast.Constant):
                        codes.add(str(given.value))
                elif isinstance(node, ast.ClassDef):
                    for statement in node.body:
                        value = getattr(statement, "value", None)
                        target = statement.target if isinstance(statement, ast.AnnAssign) else None
                        names = {t.id for t in getattr(statement, "targets", [target]) if isinstance(t, ast.Name)}
                        if isinstance(value, ast.Constant) and ("rule" in names or (node.name in RULE_ENUMS and names)):
                            codes.add(str(value.value))
                elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                    name = node.targets[0].id
                    if name.endswith("RULE") and isinstance(node.value, ast.Constant):
                        codes.add(str(node.value.value))
                    if name.endswith("RULES") and isinstance(node.value, ast.Dict):
                        codes |= {str(v.value) for v in node.value.values if isinstance(v, ast.Constant)}
                elif isinstance(node, ast.Return) and path.name == "text.py" and isinstance(node.value, ast.Tuple):
                    first = node.value.elts[0]
                    if isinstance(first, ast.Constant):
                        codes.add(str(first.value))
    return {code for code in codes if CODE.match(code)}


def problem_titles() -> set[str]:
    """The titles of the problem answers (api/rest, the storage faults)."""
    titles: set[str] = set()
    for path in [*(ROOT / "api").rglob("*.py"), ROOT / "ledger" / "storage_faults.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                title = node.args[1] if len(node.args) > 1 else None
                if _called(node) in ("ApiProblem", "problem_response") and isinstance(title, ast.Constant):
                    titles.add(str(title.value))
                if path.name == "storage_faults.py":
                    titles |= {str(kw.value.value) for kw in node.keywords if kw.arg == "title" and _constant(kw.value)}
            if isinstance(node, ast.FunctionDef) and node.name == "status_of":
                for found in ast.walk(node):
                    if isinstance(found, ast.Return) and isinstance(found.value, ast.Tuple):
                        titles.add(str(ast.literal_eval(found.value.elts[1])))
    return titles


def _parts(hint: Any) -> list[Any]:
    """The types a field's hint is made of (Optional, list, Annotated unwrapped)."""
    if get_origin(hint) in (Union, types.UnionType, list) or hasattr(hint, "__metadata__"):
        return [part for arg in get_args(hint) for part in _parts(arg)]
    return [hint]


def payload_vocabulary() -> tuple[set[str], set[str]]:
    """Every field name of every step's payload (and of the records inside it), and every enum value it offers."""
    fields: set[str] = set()
    choices: set[str] = set()
    seen: set[type] = set()

    def walk(record: type) -> None:
        if record in seen:
            return
        seen.add(record)
        hints = get_type_hints(record, include_extras=True)
        for field in dataclasses.fields(record):
            fields.add(field.name)
            for part in _parts(hints[field.name]):
                if isinstance(part, type) and issubclass(part, Enum) and part.__name__ not in NOT_CHOICES:
                    choices.update(str(member.value) for member in part)
                elif isinstance(part, type) and dataclasses.is_dataclass(part):
                    walk(part)

    for spec in EVENT_TYPES.values():
        walk(spec.payload)
    return fields, choices


def missing(context: str, wanted: set[str]) -> list[str]:
    french = context_messages("fr", context)
    return sorted(code for code in wanted if not french.get(code))


# -- completeness ---------------------------------------------------------------------------------------------


def test_every_step_has_a_french_name_and_description() -> None:
    assert missing("step", set(EVENT_TYPES)) == []
    descriptions = context_messages("fr", "step description")
    assert sorted(name for name, spec in EVENT_TYPES.items() if spec.description not in descriptions) == []


def test_every_field_label_state_role_choice_and_deadline_has_french() -> None:
    fields, choices = payload_vocabulary()
    assert len(fields) > 140 and {"max_c", "excursion_min", "bag_ids"} <= fields, "the walk reads the payloads"
    assert "water_bath" in choices and "to_pharmacy" in choices
    assert missing("field", fields) == []
    assert missing("choice", choices) == []
    assert missing("state", {str(state.value) for state in ProductState}) == []
    assert missing("role", {str(role.value) for role in Role}) == []
    assert missing("deadline", set(DEADLINES)) == []
    assert missing("hold", {"suspension", "quarantine"}) == []


def test_every_rule_code_and_problem_title_has_french() -> None:
    codes = rule_codes()
    assert len(codes) > 300 and {"out_of_order", "custody_error", "invalid_unicode", "witness_is_destroyer"} <= codes
    assert missing("rule", codes) == []
    titles = problem_titles()
    assert {"Conflict with the current state", "Database unavailable", "Not found"} <= titles
    french = messages("fr")
    assert sorted(title for title in titles if title not in french) == []


def test_the_unit_s_words_written_out_by_hand() -> None:
    t = translator("fr")
    assert t.step("BedsideCheckPerformed") == "Contrôle au lit du patient"
    assert t.step("ShipmentReceived") == "Réception de l'expédition"
    assert t.state("thawed") == "décongelé" and t.state("qc_out_of_spec") == "contrôle qualité hors spécification"
    assert t.state("received_at_pharmacy") == "reçu à la PUI"
    assert t.role("qp") == "Personne qualifiée" and t.choice("water_bath") == "bain-marie"
    assert t.deadline("thaw_to_infusion") == "délai décongélation-perfusion"
    assert t.field("max_c", "Max c") == "Température max. (°C)"
    assert t.field("excursion_min", "Excursion min") == "Durée d'excursion (min)"
    assert t.field("bag_ids", "Bag IDs") == "ID des poches"
    assert t.next_step("ProductDestroyed or ProductReturned") == "Destruction du produit ou Retour du produit"
    assert t.next_step("ShipmentDispatched (to_pharmacy)") == "Expédition (vers la PUI)"
    assert t("Conflict with the current state") == "Conflit avec l'état actuel"
    assert t.rule("required", "payload.bag_id") == "« ID de la poche » (payload.bag_id) est obligatoire."
    assert t.rule("out_of_order") == "Cette étape n'est pas permise dans l'état actuel du produit."


def test_english_keeps_the_codes_and_the_derived_labels() -> None:
    english = translator("en")
    assert english.step("BedsideCheckPerformed") == "BedsideCheckPerformed" and english.state("thawed") == "thawed"
    assert english.field("max_c", "Max c") == "Max c" and english.rule("out_of_order") is None


def test_plurals_and_agreement_follow_french_rules() -> None:
    t = translator("fr")
    assert [t.plural("{n} overdue follow-up visit", "{n} overdue follow-up visits", n) for n in (1, 2)] == [
        "1 visite de suivi en retard",
        "2 visites de suivi en retard",
    ]
    assert f"1 {t.plural('checkpoint', 'checkpoints', 1)}" == "1 point de contrôle"
    assert f"3 {t.plural('checkpoint', 'checkpoints', 3)}" == "3 points de contrôle"
    assert t.plural("{n} day late", "{n} days late", 0) == "0 jour de retard"
    assert t("none") == "aucun" and t.ctx("feminine", "none") == "aucune"
    assert plural_messages("fr")["event"] == ("événement", "événements")


# -- French pages ---------------------------------------------------------------------------------------------

ENGLISH_STATES = tuple(str(state.value) for state in ProductState if "_" in str(state.value))
"""State codes no French sentence contains (``stored`` or ``thawed`` are English words a code can hide behind)."""


def shown_text(page: str) -> str:
    """What a person reads: tags, attributes, scripts and the folded English wording of the ledger left out."""
    page = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page, flags=re.S)
    page = re.sub(r'<span lang="en">.*?</span>', " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def english_names_in(page: str) -> list[str]:
    text = shown_text(page)
    words = set(re.findall(r"[A-Za-z0-9_]+", text))
    return sorted(code for code in (*EVENT_TYPES, *ENGLISH_STATES) if code in words)


def french(client: TestClient) -> TestClient:
    client.cookies.set("lang", "fr")
    return client


def test_the_worklist_and_the_product_page_show_steps_and_states_in_french(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = released_and_stored(team, START)
    client = french(browser_of("pharmacist"))
    worklist = client.get("/ui/").text
    assert english_names_in(worklist) == []
    assert "Dispensation" in shown_text(worklist) and "stocké en azote liquide" in shown_text(worklist)
    page = client.get(f"/ui/products/{journey.product}").text
    assert english_names_in(page) == []
    shown = shown_text(page)
    assert "stocké en azote liquide" in shown and "Stockage en azote liquide" in shown
    assert "Libération pharmaceutique" in shown and "Inscription du produit" in shown, "the timeline's steps"
    assert re.search(r"Déviations ouvertes\s+aucune", shown), "a deviation is feminine: aucune"
    assert re.search(r"Blocages\s+aucun\b", shown)


def test_a_step_form_shows_french_labels_choices_and_description(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = released_and_stored(team, START)
    page = french(browser_of("nurse")).get(f"/ui/products/{journey.product}/steps/Thawed").text
    shown = shown_text(page)
    assert english_names_in(page) == []
    assert "Décongélation" in shown and "le délai décongélation-perfusion du produit court" in shown
    assert "Méthode" in shown and "bain-marie" in shown and "décongélateur à sec" in shown
    assert "water_bath" not in shown and "Bag ID" not in shown and "Started at" not in shown
    receipt = french(browser_of("pharmacist")).get(f"/ui/products/{journey.product}/steps/StoredInLN2").text
    assert "Température (°C)" in shown_text(receipt) and "Cuve d'azote" in shown_text(receipt)


def test_a_refusal_after_a_bad_submission_is_in_french_and_stores_nothing(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = released_and_stored(team, START)
    client = french(browser_of("nurse"))
    url = f"/ui/products/{journey.product}/steps/Thawed"
    form = client.get(url).text
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', form)
    assert token
    size = ledger.store.size()
    answer = client.post(
        url,
        data={
            "csrf": token.group(1), "method": "water_bath", "started_at": "2026-03-27T09:00",
            "completed_at": "2026-03-27T09:04", "meaning": "performed", "password": password("nurse"),
        },
    )  # fmt: skip
    assert answer.status_code == 409
    assert ledger.store.size() == size, "a refusal stores nothing"
    shown = shown_text(answer.text)
    assert "Conflit avec l'état actuel" in shown
    assert "Cette étape n'est pas permise dans l'état actuel du produit." in shown
    assert "Conflict with the current state" not in shown
    assert english_names_in(answer.text) == []
    assert 'id="problem"' in answer.text and "<code>wrong_state</code>" in answer.text, "the rule code is kept"


def test_the_history_and_the_product_page_show_paris_time_to_the_minute(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = enrolled(team, START)
    odd = START + timedelta(hours=5, minutes=7, seconds=5, microseconds=123456)  # 13:07:05.123456 UTC
    with freeze_time("2026-03-02 15:00:00"):
        team("nurse", "AnnotationAdded", journey.product, odd, "authored", text="étiquette relue")
        client = french(browser_of("nurse"))
        product = client.get(f"/ui/products/{journey.product}").text
        history = client.get("/ui/patients/PSN-TEST-0001").text
    for page in (product, history):
        shown = shown_text(page)
        assert "02/03/2026 14:07" in shown, "Paris is UTC+1 in March"
        assert "13:07" not in shown and "123456" not in shown and "14:07:05" not in shown
        assert "Annotation" in shown and english_names_in(page) == []


@pytest.mark.parametrize("accept", [None, "en-GB,en;q=0.8"])
def test_the_api_keeps_its_english_detail_by_default(
    client: TestClient, team: Recorder, ledger: CustodyLedger, accept: str | None
) -> None:
    journey = enrolled(team, START)
    session = Session(client, "nurse")
    body = {"type": "Infused", "meaning": "performed", "payload": {}, "password": password("nurse")}
    headers = {"Accept-Language": accept} if accept else {}
    problem = session.post(f"/products/{journey.product}/events", body, headers=headers).json()
    assert problem["title"] in ("Conflict with the current state", "Invalid request")
    assert "Cette" not in problem["detail"] and "Content-Language" not in problem


def test_the_api_answers_in_french_when_asked_and_keeps_the_rule(
    client: TestClient, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = released_and_stored(team, START)
    session = Session(client, "nurse")
    body = {
        "type": "Thawed",
        "meaning": "performed",
        "password": password("nurse"),
        "payload": {
            "method": "water_bath",
            "started_at": "2026-03-27T08:00:00Z",
            "completed_at": "2026-03-27T08:04:00Z",
        },
    }
    size = ledger.store.size()
    answer = session.post(f"/products/{journey.product}/events", body, headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert answer.status_code == 409 and answer.headers["content-language"] == "fr"
    problem = answer.json()
    assert problem["rule"] == "wrong_state" and problem["type"].endswith(":wrong_state")
    assert problem["title"] == "Conflit avec l'état actuel"
    assert problem["detail"] == "Cette étape n'est pas permise dans l'état actuel du produit."
    assert ledger.store.size() == size
    english = session.post(f"/products/{journey.product}/events", body).json()
    assert english["rule"] == "wrong_state" and english["title"] == "Conflict with the current state"
    assert "Thawed" in english["detail"], "the ledger's own English detail, unchanged"


def test_dates_and_numbers_as_the_unit_writes_them() -> None:
    paris = ZoneInfo("Europe/Paris")
    assert when("2026-07-14T06:30:59.999999+00:00", paris, "fr") == "14/07/2026 08:30", "summer: UTC+2, no seconds"
    assert when(datetime(2026, 1, 5, 23, 30, tzinfo=UTC), paris, "fr") == "06/01/2026 00:30", "the next day in Paris"
    assert when(None, paris, "fr") == "—"
    assert number(1234.5, "fr") == "1\u202f234,5" and number(1234.5, "en") == "1,234.5"
