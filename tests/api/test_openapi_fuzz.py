"""Schemathesis over the HTTP API's own OpenAPI document: no 5xx, and every answer is one the document declares.

Each operation of the document is one test per backend. Its cases (the document's examples, the coverage
phase's boundary values, then random positive and negative cases) are each sent as four signed-in users: the
nurse and the pharmacist (who records pharmacy steps and reads the audit trail, metrics and the verification),
the QP (batches) and the admin (sites, trials, staff). Each has signed once already, so a generated step needs no
password and can really be stored. The store holds a product stored in LN2 under a fixed COI, and the generator
is given that COI, the product's id, the patient's pseudonym and the trial's protocol for some of the path, query
and payload values, so that reads find something and steps reach the domain's rules instead of stopping at an
unknown reference; a few values hold a NUL character, which PostgreSQL cannot take in a text.

Every answer must not be a server error and must match the document: a documented status, the declared media
type (``application/problem+json`` for refusals) and the declared body schema. Generation is bounded and
deterministic (fixed seed, derandomised, no example database), so a failure reproduces.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import demo_journeys as j
from api.rest.app import create_app
from domain.identifiers import allocate_coi, product_id_for
from ledger.settings import Settings
from tests.api.conftest import START, password
from tests.integration.journeys import PATIENT, Recorder, ready

TRIAL = "FUZZ-TRIAL-01"  # not the demo trial, which the patient's pathway fixture registers
COI = allocate_coi(Settings().facility, START.year, "FUZZ01")
PRODUCT = product_id_for(COI)
NOTE = {"type": "AnnotationAdded", "meaning": "authored", "payload": {"text": "fuzzing the HTTP API"}}
TRIAL_REGISTERED = {
    "type": "TrialRegistered",
    "meaning": "approved",
    "payload": {"protocol": TRIAL, "sponsor": "Academic sponsor (AP-HP)", "title": "Anti-CD19 CAR-T"},
}
# Who sends every case, and the first signed step that opens their signing session.
USERS = {
    "nurse": (f"/products/{PRODUCT}/events", NOTE),
    "pharmacist": (f"/products/{PRODUCT}/events", NOTE),
    "qp": (f"/products/{PRODUCT}/events", NOTE),
    "admin": (f"/trials/{TRIAL}/events", TRIAL_REGISTERED),
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 15
CONFIG = {
    "seed": 20260302,
    "generation": {"mode": "all", "deterministic": True, "database": "none", "max-examples": MAX_EXAMPLES},
    # The document declares no links, so there is no stateful phase to run.
    "phases": {"stateful": {"enabled": False}},
    # The coverage phase sends its hundreds of body variants to the one path it builds ("/products/0/events"),
    # which is refused at the reference before the body is read: the fuzzing phase reaches the bodies instead.
    "operations": [{"include-path-regex": "/events$", "phases": {"coverage": {"enabled": False}}}],
    "dictionaries": {
        "references": {"values": [COI.value, str(PRODUCT), PATIENT, TRIAL]},
        "cois": {"values": [COI.value]},
        "patients": {"values": [PATIENT, "PSN\x00"]},
        "sites": {"values": [j.PHARMACY, "CHU\x00F9999"]},
        "users": {"values": list(USERS)},
    },
    "parameters": {
        "path.reference": {"dictionary": "references", "probability": 0.5},
        "path.pseudonym": {"dictionary": "patients", "probability": 0.5},
        "query.site": {"dictionary": "sites", "probability": 0.5},
        "query.user": {"dictionary": "users", "probability": 0.5},
        "body.payload.scanned_coi": {"dictionary": "cois", "probability": 0.5},
        "body.payload.scanned_patient": {"dictionary": "patients", "probability": 0.5},
    },
}
# The document does not depend on the store: it is read from an application that is never started. (The lazy
# `schemathesis.pytest.from_fixture` loader would read it per backend, but it sets `Node._nodeid`, gone in pytest 9.2.)
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi(), config=schemathesis.Config.from_dict(CONFIG))


@pytest.fixture
def stored_product(team: Recorder) -> None:
    """A CAR-T product under ``COI``: enrolled, collected, manufactured, released, shipped and stored in LN2."""
    ready(team, START, PATIENT)
    j.enrol_car_t(team, COI, PATIENT, "systemic_lupus_erythematosus", START)
    qc_at = j.collect_and_manufacture(team, PRODUCT, COI, "G123426000001", START + timedelta(days=1))
    j.qc(team, PRODUCT, qc_at)
    team("qp", "ProductReleased", PRODUCT, qc_at + timedelta(days=1), "released", certificate_id="CoR-1")
    j.ship_to_pharmacy(team, [(PRODUCT, COI)], qc_at + timedelta(days=2))
    j.store(team, PRODUCT, qc_at + timedelta(days=3), "A1")


@pytest.fixture
def http(settings: Settings, stored_product: None) -> Iterator[requests.Session]:
    """A client of a fresh application on the fixtures' store: Schemathesis' ASGI client, which runs its lifespan."""
    try:
        with asgi.get_client(create_app(settings)) as session:
            yield session
    finally:
        # Close the application's ledger while the store is still there.
        asgi.shutdown_lifespans()


@pytest.fixture
def bearers(http: requests.Session, sign_in: Any) -> dict[str, dict[str, str]]:
    """Each user's Authorization header, after a first signature with the password on the fuzzed application."""
    headers = {}
    for user, (path, step) in USERS.items():
        headers[user] = dict(sign_in(user).headers)
        answer = http.post(path, json={**step, "password": password(user)}, headers=headers[user])
        assert answer.status_code == 201, answer.text
    return headers


@schema.parametrize()
# The store and the application are shared by every case of an operation on purpose: the server must cope with
# whatever the earlier cases stored.
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_no_server_error_and_every_answer_matches_the_document(
    case: schemathesis.Case, http: requests.Session, bearers: dict[str, dict[str, str]]
) -> None:
    for user, headers in bearers.items():
        try:
            case.call_and_validate(session=http, headers=headers, checks=CHECKS)
        except Exception as failure:
            failure.add_note(f"Sent as the {user}.")
            raise
