"""Which key was valid when: rebuilt from the signed staff events alone.

A key counts only if its registration is itself signed by a key that was valid
at that moment and belongs to an administrator or to the ledger. The chain of
trust starts at the ledger's genesis key, which must be one the verifier was
given (CUSTODY_HOME/ledger.pub, or a file an auditor keeps).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.envelope import Opened, signing_message


@dataclass
class KnownKey:
    """One registered public key and its validity window."""

    key_id: str
    public_key: bytes
    owner: str
    valid_from: datetime
    revoked_at: datetime | None = None
    revoked_position: int | None = None
    registered_position: int = 0
    genesis: bool = False

    @cached_property
    def verifier(self) -> Ed25519PublicKey:
        """The parsed public key, built once per key rather than once per event."""
        return Ed25519PublicKey.from_public_bytes(self.public_key)

    def verifies(self, signature: bytes, message: bytes) -> bool:
        """True when ``signature`` over ``message`` was made with this key."""
        try:
            self.verifier.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass
class KeyHistory:
    """Keys by id, who owns them, owners' roles, and the problems found while building it."""

    keys: dict[str, KnownKey] = field(default_factory=dict)
    usernames: dict[UUID, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[int, Opened, str, str]] = field(default_factory=list)
    genesis_seen: bool = False

    def check(self, opened: Opened, position: int | None = None) -> tuple[str, str] | None:
        """Why this event's signature is not acceptable, as (reason, detail), or None.

        A revoked key fails for any event signed after the revocation time *or* stored
        after the revocation in the log: a backdated ``recorded_at`` does not help. (A key
        may sign its own revocation, in the same transaction, as the ledger key does.)
        """
        body = opened.envelope.body
        key = self.keys.get(body["key_id"])
        if key is None:
            return "unknown_key", f"key {body['key_id']} was never validly registered"
        recorded = opened.envelope.recorded_at
        if recorded < key.valid_from:
            return "key_not_yet_valid", f"key {key.key_id} was registered at {key.valid_from.isoformat()}"
        if key.revoked_at is not None and (
            recorded > key.revoked_at
            or (position is not None and key.revoked_position is not None and position > key.revoked_position)
        ):
            return "revoked_key", f"key {key.key_id} was revoked at {key.revoked_at.isoformat()}"
        if body["actor"]["user_id"] != key.owner:
            return (
                "signer_mismatch",
                f"key {key.key_id} belongs to {key.owner}, not {body['actor']['user_id']}",
            )
        if not key.verifies(opened.signature, signing_message(opened.digest)):
            return "bad_signature", "the Ed25519 signature does not match the event"
        return None

    def checkpoint_signers(
        self, owner: str, size: int, leaf_of: Callable[[int], int | None] = lambda position: position
    ) -> list[bytes]:
        """The public keys of ``owner`` that may sign a checkpoint of ``size`` leaves.

        A key counts from the first tree that holds its registration (the genesis key
        from the first tree of all: it signs the events before its own registration)
        up to the last tree without its revocation. ``leaf_of`` turns the positions the
        history was built with into leaf indexes (the identity when they already are).
        """
        keys = []
        for key in self.keys.values():
            if key.owner != owner:
                continue
            registered = leaf_of(key.registered_position)
            if registered is None or (not key.genesis and size <= registered):
                continue
            if key.revoked_position is not None:
                revoked = leaf_of(key.revoked_position)
                if revoked is None or size > revoked:
                    continue
            keys.append(key.public_key)
        return keys

    def registrar_problem(self, opened: Opened, position: int | None = None) -> tuple[str, str] | None:
        """Why the signer of a staff event may not register people or keys, or None."""
        problem = self.check(opened, position)
        if problem:
            return problem
        from domain.staff import REGISTRARS  # here: verification workers unpickle this module and never register

        signer = opened.envelope.body["actor"]["user_id"]
        if self.roles.get(signer) not in REGISTRARS:
            return "unauthorised_key_registration", f"{signer} is not an administrator"
        return None


def build_key_history(staff_events: Iterable[tuple[int, Opened]], trusted: set[bytes] | None) -> KeyHistory:
    """Replay staff events (with their log positions) in log order, admitting only properly signed people and keys."""
    history = KeyHistory()
    for position, opened in staff_events:
        envelope = opened.envelope
        payload = envelope.body["payload"]
        if envelope.type == "StaffMemberRegistered":
            # The ledger registers itself before its key exists: that first event is
            # checked like any other in the verifier's main pass, once the key is known.
            problem = history.registrar_problem(opened, position) if history.genesis_seen else None
            if problem:
                history.problems.append((position, opened, *problem))
                continue
            history.usernames[envelope.aggregate_id] = str(payload["username"])
            history.roles[str(payload["username"])] = str(payload["role"])
        elif envelope.type == "SigningKeyRegistered":
            _register(history, opened, position, trusted)
        elif envelope.type == "SigningKeyRevoked":
            problem = history.registrar_problem(opened, position)
            key = history.keys.get(str(payload["key_id"]))
            if problem:
                history.problems.append((position, opened, *problem))
            elif key is not None and key.revoked_at is None:
                key.revoked_at, key.revoked_position = envelope.recorded_at, position
    return history


def _register(history: KeyHistory, opened: Opened, position: int, trusted: set[bytes] | None) -> None:
    from ledger.keys import key_id_for, verify_signature  # here: verification workers only check signatures

    envelope = opened.envelope
    payload = envelope.body["payload"]
    try:
        public_key = base64.b64decode(str(payload["public_key"]), validate=True)
    except (binascii.Error, ValueError):
        history.problems.append((position, opened, "undecodable_record", "the registered public key is not base64"))
        return
    if key_id_for(public_key) != payload["key_id"]:
        history.problems.append(
            (position, opened, "unknown_key", "the registered key id does not match its public key")
        )
        return
    owner = history.usernames.get(envelope.aggregate_id)
    if owner is None:
        history.problems.append((position, opened, "unknown_key", "key registered for a staff member never registered"))
        return
    genesis = not history.genesis_seen
    if genesis:
        # The first key registration of the log is the genesis: whatever its fate, later
        # registrations are judged as ordinary ones (signed by a known administrator key).
        history.genesis_seen = True
        if trusted is not None and public_key not in trusted:
            history.problems.append(
                (position, opened, "untrusted_ledger_key", "the genesis key is not the trusted ledger key")
            )
            return
        self_signed = envelope.key_id == payload["key_id"] and verify_signature(
            public_key, opened.signature, signing_message(opened.digest)
        )
        if not self_signed:
            history.problems.append(
                (position, opened, "bad_signature", "the genesis key registration is not self-signed")
            )
            return
    else:
        problem = history.registrar_problem(opened, position)
        if problem:
            history.problems.append((position, opened, *problem))
            return
    history.keys[str(payload["key_id"])] = KnownKey(
        key_id=str(payload["key_id"]),
        public_key=public_key,
        owner=owner,
        valid_from=envelope.recorded_at,
        registered_position=position,
        genesis=genesis,
    )
