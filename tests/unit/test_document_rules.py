"""The domain's document rules, with a lookup written by hand: no store, no ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from domain.document_ref import DocumentKind, DocumentRef, MediaType, document_fields
from domain.document_rules import StoredDocument, check_documents, parse_required
from domain.errors import CustodyError, InvalidInput
from domain.events import Actor, Context
from domain.pathway import PatientPathway
from domain.payloads import parse_payload
from domain.registry import EVENT_TYPES

SHA = "0123456789abcdef" * 4
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
COA = StoredDocument(SHA, DocumentKind.CERTIFICATE_OF_ANALYSIS, "application/pdf", 1234)
QC = EVENT_TYPES["QcResultsRecorded"]
CONSENT = EVENT_TYPES["ConsentSigned"]

EXPECTED_FIELDS = {
    "AnnotationAdded": {"document": {"other"}},
    "BatchQcRecorded": {"document": {"certificate_of_analysis"}},
    "BatchReleased": {"document": {"release_for_infusion_certificate"}},
    "ConsentSigned": {"document": {"consent_form"}},
    "ExceptionalReleaseApproved": {"document": {"release_for_infusion_certificate"}},
    "ExceptionalReleaseRequested": {"document": {"risk_assessment"}},
    "ProductReleased": {"document": {"release_for_infusion_certificate"}},
    "QcResultsRecorded": {"document": {"certificate_of_analysis"}},
    "ShipmentReceived": {"document": {"logger_file"}, "manifest": {"shipping_manifest"}},
    "ShipmentLoggerFileImported": {"document": {"logger_file"}},
    "StorageLoggerFileImported": {"document": {"logger_file"}},
}
"""Which steps reference which kinds of document: written by hand, compared with the payload classes."""


def test_the_document_fields_of_every_event_type_are_the_expected_ones() -> None:
    found = {
        name: {field: {str(kind) for kind in kinds} for field, kinds in document_fields(spec.payload).items()}
        for name, spec in EVENT_TYPES.items()
        if document_fields(spec.payload)
    }
    assert found == EXPECTED_FIELDS


def ctx(*held: StoredDocument, required: frozenset[str] = frozenset(), lookup: bool = True) -> Context:
    store = {document.sha256: document for document in held}
    return Context(
        actor=Actor("qc", "Quinn Qc", "qp"),
        occurred_at=NOW,
        now=NOW,
        documents=store.get if lookup else None,
        documents_required=required,
    )


def qc_payload(**document: Any) -> Any:
    raw: dict[str, Any] = {
        "tests": [{"name": "sterility", "result": "no growth", "specification": "x", "in_spec": True}]
    }
    if document:
        raw["document"] = {"sha256": SHA, "media_type": "application/pdf", "size_bytes": 1234, **document}
    return parse_payload(QC.payload, raw)


def rule_of(action: Any) -> tuple[str, str | None]:
    with pytest.raises(CustodyError) as caught:
        action()
    return caught.value.rule, caught.value.field


def test_a_reference_the_store_backs_is_accepted() -> None:
    check_documents(QC, qc_payload(sha256=SHA.upper()), ctx(COA), None)
    assert qc_payload(sha256=SHA.upper()).document == DocumentRef(SHA, MediaType.PDF, 1234)


@pytest.mark.parametrize(
    ("document", "held", "expected"),
    [
        ({"sha256": "f" * 64}, (COA,), ("document_not_stored", "payload.document.sha256")),
        ({"size_bytes": 1235}, (COA,), ("document_mismatch", "payload.document")),
        ({"media_type": "image/png"}, (COA,), ("document_mismatch", "payload.document")),
        ({"sha256": SHA}, (StoredDocument(SHA, DocumentKind.RISK_ASSESSMENT, "application/pdf", 1234),),
         ("document_wrong_kind", "payload.document")),
        ({"sha256": SHA}, (), ("document_not_stored", "payload.document.sha256")),
    ],
)  # fmt: skip
def test_a_reference_the_store_cannot_back_is_refused(
    document: dict[str, Any], held: tuple[StoredDocument, ...], expected: tuple[str, str]
) -> None:
    assert rule_of(lambda: check_documents(QC, qc_payload(**document), ctx(*held), None)) == expected


def test_without_a_store_to_ask_any_reference_is_refused() -> None:
    assert rule_of(lambda: check_documents(QC, qc_payload(sha256=SHA), ctx(COA, lookup=False), None)) == (
        "document_not_stored",
        "payload.document.sha256",
    )


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"sha256": "0" * 63}, ("invalid_sha256", "payload.document.sha256")),
        ({"sha256": "g" * 64}, ("invalid_sha256", "payload.document.sha256")),
        ({"size_bytes": 0}, ("out_of_range", "payload.document.size_bytes")),
        ({"size_bytes": 1.5}, ("wrong_type", "payload.document.size_bytes")),
        ({"media_type": "application/zip"}, ("invalid_choice", "payload.document.media_type")),
    ],
)
def test_a_malformed_reference_names_its_field(document: dict[str, Any], expected: tuple[str, str]) -> None:
    assert rule_of(lambda: qc_payload(**document)) == expected


def test_a_document_is_optional_unless_the_site_requires_it() -> None:
    check_documents(QC, qc_payload(), ctx(), None)
    required = frozenset({"QcResultsRecorded.document"})
    assert rule_of(lambda: check_documents(QC, qc_payload(), ctx(required=required), None)) == (
        "document_required",
        "payload.document",
    )
    check_documents(QC, qc_payload(sha256=SHA), ctx(COA, required=required), None)


def _pathway(pseudonym: str) -> PatientPathway:
    pathway = PatientPathway(uuid4())
    pathway.pseudonym = pseudonym
    return pathway


def test_a_patients_document_is_referenced_on_their_own_pathway_only() -> None:
    form = StoredDocument(SHA, DocumentKind.CONSENT_FORM, "application/pdf", 1234, patient="PSN-1")
    payload = parse_payload(
        CONSENT.payload,
        {
            "form_version": "v3",
            "signed_on": "2026-03-01",
            "document_ref": "CF-1",
            "document": {"sha256": SHA, "media_type": "application/pdf", "size_bytes": 1234},
        },
    )
    check_documents(CONSENT, payload, ctx(form), _pathway("PSN-1"))
    assert rule_of(lambda: check_documents(CONSENT, payload, ctx(form), _pathway("PSN-2"))) == (
        "document_other_patient",
        "payload.document",
    )


def test_the_required_setting_names_event_types_or_fields() -> None:
    assert parse_required(" QcResultsRecorded , ShipmentReceived.manifest,", EVENT_TYPES) == {
        "QcResultsRecorded.document",
        "ShipmentReceived.manifest",
    }
    assert parse_required("ShipmentReceived", EVENT_TYPES) == {"ShipmentReceived.document", "ShipmentReceived.manifest"}
    assert parse_required("", EVENT_TYPES) == frozenset()


@pytest.mark.parametrize("text", ["Infused", "QcResultsRecorded.manifest", "qcresultsrecorded", "Nope.document"])
def test_a_required_setting_that_requires_nothing_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_required(text, EVENT_TYPES)
    assert (caught.value.rule, caught.value.field) == ("invalid_setting", "CUSTODY_DOCUMENTS_REQUIRED")
