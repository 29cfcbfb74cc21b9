"""A document an event relies on, bound into its signed payload by hash.

A certificate of analysis, a release certificate, a consent form, a risk assessment,
a data-logger file or a shipping manifest is evidence the step relied on. The event
does not carry the file: it carries its SHA-256, its media type (as read from its
content) and its size, so the signature covers exactly which bytes were relied on and
anyone holding the file can prove it is that one (README, "Documents").

A payload field declares the kinds of document it accepts with ``Accepts``, e.g.
``document: Annotated[DocumentRef, Accepts(DocumentKind.CONSENT_FORM)] | None = None``;
``document_fields`` reads those declarations, so the rules, the verifier and the upload
roles all follow the payload classes and no second table can disagree with them.
"""

from __future__ import annotations

import dataclasses
import types
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

from domain.payloads import Bounds, Sha256Text, parse_payload


class DocumentKind(StrEnum):
    """What a stored document is; the kind is declared when the file is stored."""

    CERTIFICATE_OF_ANALYSIS = "certificate_of_analysis"
    RELEASE_FOR_INFUSION_CERTIFICATE = "release_for_infusion_certificate"
    CONSENT_FORM = "consent_form"
    RISK_ASSESSMENT = "risk_assessment"
    LOGGER_FILE = "logger_file"
    SHIPPING_MANIFEST = "shipping_manifest"
    OTHER = "other"

    @property
    def identifies_patient(self) -> bool:
        """A consent form names the patient: it is sealed with their data key and shredded with their identity."""
        return self is DocumentKind.CONSENT_FORM


class MediaType(StrEnum):
    """The media types a document may have, as found in its content (never taken from a file name)."""

    PDF = "application/pdf"
    PNG = "image/png"
    JPEG = "image/jpeg"
    CSV = "text/csv"


@dataclass(frozen=True)
class DocumentRef:
    """Which file a step relied on: its SHA-256 (of the plaintext, lower-case hex), media type and size in bytes."""

    sha256: Sha256Text
    media_type: MediaType
    size_bytes: Annotated[int, Bounds(above=0)]


class Accepts:
    """The kinds of document a payload field may reference (an ``Annotated`` marker)."""

    def __init__(self, *kinds: DocumentKind) -> None:
        self.kinds = frozenset(kinds)

    def __repr__(self) -> str:
        return f"Accepts({', '.join(sorted(self.kinds))})"


def document_ref_from_json(value: object, *, field: str) -> DocumentRef:
    """A reference read back from a stored payload, checked as on input (``InvalidInput`` naming the field)."""
    return parse_payload(DocumentRef, value, prefix=field)


def _base_and_markers(tp: Any) -> tuple[Any, list[Any]]:
    markers: list[Any] = []
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp, *extra = get_args(tp)
            markers.extend(extra)
        elif origin in (Union, types.UnionType):
            tp = next(arg for arg in get_args(tp) if arg is not type(None))
        else:
            return tp, markers


_FIELDS: dict[type[Any], dict[str, frozenset[DocumentKind]]] = {}


def document_fields(payload_cls: type[Any]) -> dict[str, frozenset[DocumentKind]]:
    """The payload's document fields, by name, with the kinds each accepts (empty: the event references none)."""
    if payload_cls not in _FIELDS:
        _FIELDS[payload_cls] = _find_document_fields(payload_cls)
    return _FIELDS[payload_cls]


def _find_document_fields(payload_cls: type[Any]) -> dict[str, frozenset[DocumentKind]]:
    if not dataclasses.is_dataclass(payload_cls):
        return {}
    hints = get_type_hints(payload_cls, include_extras=True)
    found: dict[str, frozenset[DocumentKind]] = {}
    for spec in dataclasses.fields(payload_cls):
        base, markers = _base_and_markers(hints[spec.name])
        if base is DocumentRef:
            kinds = [marker.kinds for marker in markers if isinstance(marker, Accepts)]
            found[spec.name] = frozenset().union(*kinds) if kinds else frozenset(DocumentKind)
    return found


CertificateOfAnalysis = Annotated[DocumentRef, Accepts(DocumentKind.CERTIFICATE_OF_ANALYSIS)]
ReleaseCertificate = Annotated[DocumentRef, Accepts(DocumentKind.RELEASE_FOR_INFUSION_CERTIFICATE)]
ConsentForm = Annotated[DocumentRef, Accepts(DocumentKind.CONSENT_FORM)]
RiskAssessment = Annotated[DocumentRef, Accepts(DocumentKind.RISK_ASSESSMENT)]
LoggerFile = Annotated[DocumentRef, Accepts(DocumentKind.LOGGER_FILE)]
ShippingManifest = Annotated[DocumentRef, Accepts(DocumentKind.SHIPPING_MANIFEST)]
OtherDocument = Annotated[DocumentRef, Accepts(DocumentKind.OTHER)]
