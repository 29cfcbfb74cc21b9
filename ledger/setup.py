"""Bringing a ledger to life and enrolling the people who sign in it.

``initialise`` is idempotent: run twice, it changes nothing the second time.
The genesis events register the ledger itself as a signer, self-signed by the
ledger key whose public half is written to CUSTODY_HOME/ledger.pub — the trust
anchor a verifier is given.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain.aggregate import Aggregate, Loader
from domain.errors import InvalidInput, NotFound
from domain.events import Actor, Context, Meaning, NewEvent
from domain.staff import StaffMember, decide_staff, staff_id_for
from ledger.catalogue_changes import catalogue_at_initialisation
from ledger.credentials import hasher_for, store_password_hash
from ledger.envelope import Envelope
from ledger.keys import KeyPair, WrongPassword, seal_key, unseal_key
from ledger.ledger_meta import LEDGER_USER
from ledger.migrate import apply_migrations
from ledger.secrets import ensure_master_secret
from ledger.service import CustodyLedger, Head
from ledger.signing_lockout import Channel
from ledger.signing_session import SignatureRefused
from ledger.trust_anchor import LEDGER_PUBLIC_KEY_FILE

MIN_PASSWORD_LENGTH = 8


@dataclass
class InitReport:
    """What ``initialise`` did (so `custody init` can say it)."""

    migrations: list[str] = field(default_factory=list)
    created_master_secret: bool = False
    created_ledger: bool = False
    created_admin: bool = False
    resealed_identities: int = 0
    ledger_id: str = ""
    ledger_key_id: str = ""
    catalogue: str = ""
    """What became of CUSTODY_CATALOGUE_FILE (ledger/catalogue_changes.py); empty when none is configured."""


def check_password(password: str, field_name: str = "password") -> None:
    """Refuse passwords too short to protect a signing key."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"{field_name} must have at least {MIN_PASSWORD_LENGTH} characters",
            field=field_name,
            rule="password_length",
        )


def initialise(ledger: CustodyLedger, admin_password: str, admin_name: str = "Administrator") -> InitReport:
    """Migrations, master secret, ledger key and genesis events, and an admin: each only if missing."""
    settings = ledger.settings
    report = InitReport()
    report.migrations = apply_migrations(settings)
    ledger.store.after_migrations()
    report.created_master_secret = ensure_master_secret(settings.home)
    report.resealed_identities = ledger.identities.reseal_legacy(ledger.clock.now())
    if ledger.meta.get("ledger_key_id") is None:
        _create_ledger_key(ledger)
        report.created_ledger = True
    if ledger.load(staff_id_for(LEDGER_USER)) is None:
        _record_genesis(ledger)
    report.ledger_id = ledger.meta.ledger_id()
    report.ledger_key_id = ledger.meta.ledger_key_id()
    write_trust_anchor(ledger)
    if ledger.load(staff_id_for("admin")) is None:
        check_password(admin_password, "admin password")
        register_staff(ledger, "admin", admin_name, "admin", admin_password, registrar=LEDGER_USER)
        report.created_admin = True
    report.catalogue = catalogue_at_initialisation(ledger, report.created_ledger)
    return report


def _create_ledger_key(ledger: CustodyLedger) -> None:
    pair = KeyPair.generate()
    ledger.keys.put(LEDGER_USER, ledger.meta.seal_ledger_key(pair), ledger.clock.now())
    ledger.meta.put("ledger_id", str(uuid.uuid4()))
    ledger.meta.put("ledger_key_id", pair.key_id)


def _record_genesis(ledger: CustodyLedger) -> None:
    """The ledger registers itself and its key, self-signed: the root of the key history."""
    pair = ledger.meta.ledger_key_pair()
    actor = Actor(user_id=LEDGER_USER, name="Custody Ledger", role="system")
    staff_id = staff_id_for(LEDGER_USER)
    now = ledger.clock.now()
    heads: dict[uuid.UUID, Head] = {}
    events = _registration_events(
        staff_id, LEDGER_USER, "Custody Ledger", "system", pair, actor, now, _tracking_loader(ledger, heads)
    )
    ledger.append_signed(events, actor, pair, heads, now)


def _tracking_loader(ledger: CustodyLedger, heads: dict[uuid.UUID, Head]) -> Loader:
    """Load as ``record`` does, noting each head seen: the events then land on exactly those versions.

    A registration claims its printed name on the version of the name's aggregate it read
    (domain/printed_names.py), so a concurrent claim of the same name is refused by the store.
    """

    def load(target: uuid.UUID) -> Aggregate | None:
        aggregate, heads[target] = ledger.replay(ledger.history(target))
        return aggregate

    return load


def _registration_events(
    staff_id: uuid.UUID,
    username: str,
    name: str,
    role: str,
    pair: KeyPair,
    actor: Actor,
    now: datetime,
    load: Loader,
) -> list[NewEvent]:
    ctx = Context(actor=actor, occurred_at=now, now=now, meaning=Meaning.APPROVED)
    events = decide_staff(
        "StaffMemberRegistered", staff_id, {"username": username, "name": name, "role": role}, ctx, load
    )
    registered = StaffMember(staff_id)
    registered.username, registered.name, registered.role = username, name, role
    events += decide_staff("SigningKeyRegistered", staff_id, _key_payload(pair), ctx, {staff_id: registered}.get)
    return events


def _key_payload(pair: KeyPair) -> dict[str, str]:
    """How a public key is written into a SigningKeyRegistered event."""
    return {"key_id": pair.key_id, "public_key": base64.b64encode(pair.public_key).decode()}


def replacement_events(
    member: StaffMember, pair: KeyPair, old_keys: Sequence[str], actor: Actor, now: datetime, *, reason: str = "rotated"
) -> list[NewEvent]:
    """Register ``pair`` and revoke each of ``old_keys`` for one staff member, as signed events: a key rotation,
    or a re-enrolment (ledger/reenrolment.py). The new key comes first, so the person never has no active key."""
    ctx = Context(actor=actor, occurred_at=now, now=now, meaning=Meaning.APPROVED)
    events = decide_staff("SigningKeyRegistered", member.id, _key_payload(pair), ctx, {member.id: member}.get)
    for old_key in old_keys:
        revocation = {"key_id": old_key, "reason": reason}
        events += decide_staff("SigningKeyRevoked", member.id, revocation, ctx, {member.id: member}.get)
    return events


def register_staff(
    ledger: CustodyLedger,
    username: str,
    name: str,
    role: str,
    password: str,
    *,
    registrar: str,
    registrar_password: str | None = None,
    channel: Channel = "cli",
    must_change_password: bool = False,
) -> list[Envelope]:
    """Create a person's key pair, seal it under their password, and record who they are.

    ``must_change_password``: ``password`` is a one-time enrolment secret an administrator hands
    over, which the person must replace before it signs anything (ledger/password_enrolment.py) —
    what `custody staff add` and ``POST /staff`` do. Left False, the password is the person's own:
    the administrator's at `custody init`, and the demonstration's and the tests' people, whose
    passwords are published with them and who must be able to sign at once.
    """
    check_password(password)
    actor, member = ledger.actor(registrar)
    signer = ledger.signer_for(member, registrar_password, channel=channel)
    staff_id = staff_id_for(username)
    heads: dict[uuid.UUID, Head] = {}
    load = _tracking_loader(ledger, heads)
    if load(staff_id) is not None:
        raise InvalidInput(f"staff member {username!r} is already registered", field="username", rule="already_exists")
    pair = KeyPair.generate()
    now = ledger.clock.now()
    events = _registration_events(staff_id, username, name, role, pair, actor, now, load)
    ledger.keys.put(username, seal_key(pair, password, ledger.kdf), now)
    encoded = hasher_for(ledger.kdf).hash(password)
    store_password_hash(ledger.store, username, encoded, now, must_change=must_change_password)
    return ledger.append_signed(events, actor, signer, heads, now)


def revoke_key(
    ledger: CustodyLedger, username: str, reason: str, *, by: str, password: str | None = None
) -> list[Envelope]:
    """Revoke a person's active key: their later signatures with it will fail verification."""
    member = ledger.load(staff_id_for(username))
    if not isinstance(member, StaffMember) or not member.active_keys:
        raise NotFound(f"{username!r} has no active key", field="username")
    return ledger.record(
        "SigningKeyRevoked",
        member.id,
        {"key_id": member.active_keys[-1], "reason": reason},
        user=by,
        meaning="approved",
        password=password,
    )


def rotate_key(
    ledger: CustodyLedger, username: str, password: str, *, by: str, by_password: str | None = None
) -> list[Envelope]:
    """Give a person a new key sealed under the same password and revoke the old one, in one transaction.

    Events signed with the old key before the rotation stay valid; the old key signs nothing after it.
    The person's password is checked by unsealing the old key first: nobody rotates a key they cannot open.
    """
    member = ledger.load(staff_id_for(username))
    if not isinstance(member, StaffMember) or not member.active_keys:
        raise NotFound(f"{username!r} has no active key to rotate", field="username")
    old_key = member.active_keys[-1]
    sealed = ledger.keys.get(old_key)
    if sealed is None:
        raise NotFound(f"the sealed key of {username!r} is not held by this ledger", field="username")
    try:
        unseal_key(sealed, password)
    except WrongPassword:
        raise SignatureRefused(f"wrong password for {username}: the key was not rotated") from None
    actor, registrar = ledger.actor(by)
    signer = ledger.signer_for(registrar, by_password)
    pair = KeyPair.generate()
    now = ledger.clock.now()
    events = replacement_events(member, pair, (old_key,), actor, now)
    ledger.keys.put(username, seal_key(pair, password, ledger.kdf), now)
    _, head = ledger.replay(ledger.history(member.id))
    ledger.sessions.close(username)
    return ledger.append_signed(events, actor, signer, {member.id: head}, now)


def rotate_ledger_key(ledger: CustodyLedger) -> list[Envelope]:
    """Give the ledger a new key, registered and the old one revoked by the old key itself.

    Events and checkpoints signed before stay valid; later ones are signed with the new key.
    The new public key is appended to ``ledger.pub``; verifiers keep trusting the genesis key,
    from which the signed key history leads to every later one.
    """
    old = ledger.meta.ledger_key_pair()
    member = ledger.load(staff_id_for(LEDGER_USER))
    if not isinstance(member, StaffMember) or old.key_id not in member.active_keys:
        raise NotFound("the ledger's own key is not registered: run `custody init`", field="ledger")
    pair = KeyPair.generate()
    now = ledger.clock.now()
    ledger.keys.put(LEDGER_USER, ledger.meta.seal_ledger_key(pair), now)
    actor = Actor(user_id=LEDGER_USER, name=member.name, role="system")
    events = replacement_events(member, pair, (old.key_id,), actor, now)
    _, head = ledger.replay(ledger.history(member.id))
    envelopes = ledger.append_signed(events, actor, old, {member.id: head}, now)
    write_trust_anchor(ledger)
    return envelopes


def write_trust_anchor(ledger: CustodyLedger) -> None:
    """Write every public key the ledger ever had, genesis first, to CUSTODY_HOME/ledger.pub."""
    keys = [
        str(envelope.body["payload"]["public_key"])
        for envelope in ledger.history(staff_id_for(LEDGER_USER))
        if envelope.type == "SigningKeyRegistered"
    ]
    (ledger.settings.home / LEDGER_PUBLIC_KEY_FILE).write_text("".join(key + "\n" for key in keys))
