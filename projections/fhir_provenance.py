"""One Provenance per signed step, carrying the ledger's proof with the data it vouches for.

A FHIR receiver does not replay the ledger, so each step's Provenance says who signed
(printed name and username), when it happened and when it was recorded, with which
meaning, and carries the step's own Ed25519 signature (``signature.data``, base64 of the
64 signature bytes) with the event's SHA-256 hash, previous hash, version and key id as
extensions. The signature is over the event's canonical JSON body (RFC 8785), not over
the FHIR resources: whoever wants to check it exports the verification bundle
(docs/bundle-format.md, `custody export`) and matches the hash; docs/fhir.md says how.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ledger.envelope import Envelope
from projections import fhir_terms as t

SIGNED_BODY_FORMAT = "application/json"
"""What was signed: the event's canonical JSON body (RFC 8785)."""
SIGNATURE_FORMAT = "application/octet-stream"
"""The raw 64-byte Ed25519 signature; no MIME type names Ed25519 alone."""


def _meaning_codes(meaning: str) -> list[dict[str, Any]]:
    codes = [t.coding(t.SIGNATURE_MEANING, meaning)]
    if meaning in t.ASTM_SIGNATURES:
        code, display = t.ASTM_SIGNATURES[meaning]
        codes.insert(0, t.coding(t.SIGNATURE_TYPE, code, display))
    return codes


def _extensions(envelope: Envelope) -> list[dict[str, Any]]:
    extensions: list[dict[str, Any]] = [
        {"url": t.EVENT_HASH, "valueString": envelope.hash},
        {"url": t.LEDGER_VERSION, "valueInteger": envelope.version},
        {"url": t.KEY_ID, "valueString": envelope.key_id},
    ]
    previous = envelope.body.get("prev_hash")
    if previous:
        extensions.append({"url": t.PREVIOUS_HASH, "valueString": str(previous)})
    return extensions


def provenance(
    product_id: UUID, envelope: Envelope, targets: list[dict[str, Any]], patient: dict[str, Any]
) -> dict[str, Any]:
    """The Provenance of one signed step over the resources it produced (the product when it produced none)."""
    record = envelope.to_record()
    who = t.signer(record.actor.user_id, record.actor.name)
    meaning = str(record.meaning)
    participant = t.PARTICIPANTS.get(meaning, "performer")
    return {
        "resourceType": "Provenance",
        "id": t.resource_id(product_id, f"provenance/{record.version}"),
        "extension": _extensions(envelope),
        "target": [t.reference(target) for target in targets],
        "occurredDateTime": t.when(record.occurred_at),
        "recorded": t.when(record.recorded_at),
        "activity": t.concept(t.EVENT_TYPE, record.type, record.type),
        "patient": t.reference(patient),
        "agent": [
            {
                "type": t.concept(t.PARTICIPANT_TYPE, participant, participant),
                "role": [{"text": record.actor.role}],
                "who": who,
            }
        ],
        "signature": [
            {
                "type": _meaning_codes(meaning),
                "when": t.when(record.recorded_at),
                "who": who,
                "targetFormat": SIGNED_BODY_FORMAT,
                "sigFormat": SIGNATURE_FORMAT,
                "data": envelope.signature,
            }
        ],
    }
