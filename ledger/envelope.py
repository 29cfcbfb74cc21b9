"""The signed envelope: the exact bytes stored for every event, and how they are checked.

Stored form (canonical JSON, keys in RFC 8785 order)::

    {"body": {...signed fields...}, "hash": "<hex SHA-256 of canonical body>", "signature": "<base64>"}

The signature is Ed25519 over ``SIGNATURE_CONTEXT + sha256(body)``: the context
string keeps an event signature from ever being replayed as a checkpoint
signature (or the reverse). Because ``body`` is canonical and the outer keys are
already sorted, the stored bytes are themselves canonical: a verifier can demand
byte equality, so any edited byte — even whitespace — is caught.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.events import Actor, EventRecord
from ledger.canonical import CanonicalizationError, canonical_json, is_plainly_canonical, parse_json
from ledger.clock import isoformat, parse_instant

ENVELOPE_FORMAT = "custody-ledger/event/v1"
SIGNATURE_CONTEXT = b"custody-ledger/event/v1\n"
BODY_FIELDS = frozenset(
    {
        "format",
        "ledger_id",
        "aggregate_id",
        "aggregate_kind",
        "version",
        "type",
        "payload",
        "occurred_at",
        "recorded_at",
        "actor",
        "meaning",
        "prev_hash",
        "key_id",
    }
)


class EnvelopeError(ValueError):
    """Stored bytes that are not a well-formed envelope, or that no longer match their hash.

    ``reason`` is the verifier's failure code: ``undecodable_record`` when the bytes are not
    an envelope at all, ``edited_record`` when they are but were changed after hashing.
    """

    def __init__(self, message: str, *, reason: str = "undecodable_record") -> None:
        super().__init__(message)
        self.reason = reason


class Signer(Protocol):
    """Anything that signs with an Ed25519 key the ledger knows by ``key_id``."""

    @property
    def key_id(self) -> str:
        """Identifier of the public key that verifies this signer's signatures."""
        ...

    def sign(self, message: bytes) -> bytes:
        """Ed25519 signature of ``message``."""
        ...


@dataclass(frozen=True)
class Envelope:
    """One stored event with everything an auditor needs to check it offline."""

    body: Mapping[str, Any]
    hash: str
    signature: str
    stored: bytes

    @property
    def aggregate_id(self) -> UUID:
        """The aggregate (product, shipment, batch, staff member) the event belongs to."""
        return UUID(self.body["aggregate_id"])

    @property
    def version(self) -> int:
        """Position of the event in its aggregate's chain, from 1."""
        return int(self.body["version"])

    @property
    def type(self) -> str:
        """Event type name, a fact in the past tense."""
        return str(self.body["type"])

    @property
    def recorded_at(self) -> datetime:
        """Server time the ledger stored the event."""
        return parse_instant(self.body["recorded_at"])

    @property
    def key_id(self) -> str:
        """The signer's key identifier."""
        return str(self.body["key_id"])

    def to_record(self) -> EventRecord:
        """The fact as the domain replays it."""
        body = self.body
        actor = body["actor"]
        return EventRecord(
            aggregate_id=self.aggregate_id,
            version=self.version,
            type=self.type,
            payload=body["payload"],
            occurred_at=parse_instant(body["occurred_at"]),
            recorded_at=parse_instant(body["recorded_at"]),
            actor=Actor(user_id=actor["user_id"], name=actor["name"], role=actor["role"]),
            meaning=body["meaning"],
        )

    def to_json(self) -> dict[str, Any]:
        """The envelope as a JSON object (what exports and --json print)."""
        return {"body": dict(self.body), "hash": self.hash, "signature": self.signature}


def event_body(
    *,
    ledger_id: str,
    aggregate_id: UUID,
    aggregate_kind: str,
    version: int,
    event_type: str,
    payload: Mapping[str, Any],
    occurred_at: datetime,
    recorded_at: datetime,
    actor: Actor,
    meaning: str,
    prev_hash: str | None,
    key_id: str,
) -> dict[str, Any]:
    """Assemble the signed fields of an event in their one JSON shape."""
    return {
        "format": ENVELOPE_FORMAT,
        "ledger_id": ledger_id,
        "aggregate_id": str(aggregate_id),
        "aggregate_kind": aggregate_kind,
        "version": version,
        "type": event_type,
        "payload": dict(payload),
        "occurred_at": isoformat(occurred_at),
        "recorded_at": isoformat(recorded_at),
        "actor": actor.to_dict(),
        "meaning": meaning,
        "prev_hash": prev_hash,
        "key_id": key_id,
    }


def _stored_bytes(body_bytes: bytes, digest_hex: str, signature_b64: str) -> bytes:
    """The canonical outer object, built without re-encoding the body."""
    return b'{"body":%s,"hash":"%s","signature":"%s"}' % (
        body_bytes,
        digest_hex.encode(),
        signature_b64.encode(),
    )


def signing_message(digest: bytes) -> bytes:
    """What the Ed25519 key actually signs for an event whose body hashes to ``digest``."""
    return SIGNATURE_CONTEXT + digest


def seal(body: Mapping[str, Any], signer: Signer) -> Envelope:
    """Hash and sign a body: the one place an event signature is made."""
    try:
        body_bytes = canonical_json(body)
    except CanonicalizationError as error:
        raise EnvelopeError(f"event body cannot be canonicalised: {error}") from error
    digest = hashlib.sha256(body_bytes).digest()
    signature = base64.b64encode(signer.sign(signing_message(digest))).decode()
    digest_hex = digest.hex()
    return Envelope(
        body=body,
        hash=digest_hex,
        signature=signature,
        stored=_stored_bytes(body_bytes, digest_hex, signature),
    )


@dataclass(frozen=True)
class Opened:
    """An envelope read back from stored bytes, with the checks that need no key."""

    envelope: Envelope
    digest: bytes
    signature: bytes


_PREFIX = b'{"body":'
_SUFFIX = re.compile(rb',"hash":"([0-9a-f]{64})","signature":"([A-Za-z0-9+/]{86}==)"\}\Z')
_SUFFIX_LEN = len(b',"hash":"","signature":""}') + 64 + 88


def open_stored(stored: bytes, *, strict: bool = True) -> Opened:
    """Parse stored bytes and check they hash to the recorded hash.

    The hash is taken over the exact body bytes as stored, so any edited byte
    shows. ``strict`` also demands that those bytes are the RFC 8785 form of
    the body they encode (what a third-party verifier that re-canonicalises
    would compute); the bulk verifier may skip that re-encoding, since a
    non-canonical body could only come from the holder of a signing key.
    Raises ``EnvelopeError`` naming what is wrong; signature and chain checks
    are the verifier's, since they need the key history and the neighbours.
    """
    stored = bytes(stored)
    suffix = _SUFFIX.search(stored, len(stored) - _SUFFIX_LEN) if len(stored) > _SUFFIX_LEN else None
    if not stored.startswith(_PREFIX) or suffix is None:
        raise EnvelopeError("undecodable record: not a signed envelope (body, hash, signature)")
    body_bytes = stored[len(_PREFIX) : -_SUFFIX_LEN]
    digest = hashlib.sha256(body_bytes).digest()
    digest_hex, signature_b64 = suffix.group(1).decode(), suffix.group(2).decode()
    if digest.hex() != digest_hex:
        raise EnvelopeError(
            "hash mismatch: the stored body does not hash to the recorded hash (edited record)", reason="edited_record"
        )
    try:
        body, plain = parse_json(body_bytes)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise EnvelopeError(f"undecodable record: {error}") from error
    if not isinstance(body, dict) or body.keys() != BODY_FIELDS:
        raise EnvelopeError("undecodable record: the body does not have the envelope's fields")
    if body["format"] != ENVELOPE_FORMAT:
        raise EnvelopeError(f"unknown envelope format {body['format']!r}")
    if strict and not (plain and is_plainly_canonical(body, body_bytes)):
        try:
            canonical = canonical_json(body)
        except CanonicalizationError as error:
            raise EnvelopeError(f"undecodable record: {error}") from error
        if canonical != body_bytes:
            raise EnvelopeError("the stored body is not in canonical form (RFC 8785)", reason="edited_record")
    envelope = Envelope(body=body, hash=digest_hex, signature=signature_b64, stored=stored)
    # The pattern above admits only base64's own alphabet: binascii decodes it as b64decode would, without its checks.
    return Opened(envelope=envelope, digest=digest, signature=binascii.a2b_base64(signature_b64))
