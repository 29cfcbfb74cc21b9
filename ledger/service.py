"""The application service: load aggregates, let the domain decide, sign and store atomically.

Every write of Custody Ledger — CLI, HTTP, demo — comes through ``record``:
the domain checks the rules, this module adds what only the ledger knows (the
clock, versions, chain links, the signer's key) and stores every resulting
event in one transaction, or none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any
from uuid import UUID

from domain.aggregate import Aggregate
from domain.bedside_identity import IdentityMatch, WristbandScan
from domain.catalogue import Catalogue
from domain.catalogue_events import CATALOGUE_CHANGED_TYPE
from domain.errors import IdentityMismatch, InvalidInput, NotFound, TimeRuleViolation
from domain.events import Actor, Context, Meaning, NewEvent
from domain.pathway_policy import PathwayPolicy, parse_visits
from domain.registry import AGGREGATE_CLASSES, decide
from domain.staff import STAFF_AGGREGATES, STAFF_EVENT_TYPES, StaffMember, decide_staff, staff_id_for
from ledger.catalogue_source import SignedCatalogues
from ledger.clock import Clock, SystemClock
from ledger.documents import DocumentStore, reference_writes
from ledger.envelope import Envelope, event_body, seal
from ledger.identity_store import IdentityStore
from ledger.keys import KdfParameters, KeyPair
from ledger.keystore import KeyStore
from ledger.ledger_meta import LEDGER_USER, LedgerMeta
from ledger.password_enrolment import PasswordChangeRequired, must_change_password
from ledger.recorders import InTransaction
from ledger.restore_hold import ensure_writable
from ledger.settings import Settings, required_document_fields
from ledger.signing_lockout import Channel, SigningLocked, SigningLockout
from ledger.signing_session import SignatureRefused, SigningSessions, WrongSigningPassword
from ledger.store import ConcurrentChange, EventStore
from ledger.wristband import match_wristband

KINDS: dict[str, type[Aggregate]] = {**AGGREGATE_CLASSES, **STAFF_AGGREGATES}
WithEvents = Callable[[list[Envelope]], Sequence[InTransaction]]
DEFAULT_TIME_ATTEMPTS = 2


@dataclass(frozen=True)
class Head:
    """The last stored version and hash of one aggregate: where the next link attaches."""

    version: int
    hash: str | None


def load_pathway_policy(settings: Settings) -> PathwayPolicy:
    """The workshop's pathway figures, overridden by CUSTODY_RCP_EVALUATION_MAX_AGE_DAYS,
    CUSTODY_RCP_DECISION_VALID_DAYS and CUSTODY_MSC_FOLLOW_UP."""
    policy = PathwayPolicy(
        evaluation_max_age_days=settings.rcp_evaluation_max_age_days,
        rcp_decision_valid_days=settings.rcp_decision_valid_days,
    )
    if settings.msc_follow_up:
        visits = parse_visits(settings.msc_follow_up, field="CUSTODY_MSC_FOLLOW_UP")
        policy = replace(policy, msc_visits=visits)
    return policy


class CustodyLedger:
    """Commands and queries over the signed event log."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.store = EventStore(settings)
        self.keys = KeyStore(self.store)
        self.meta = LedgerMeta(self.store, settings)
        self.sessions = SigningSessions(self.clock, timedelta(minutes=settings.signing_idle_minutes))
        self.signing_lockout = SigningLockout(self.store, self.clock, settings.signing_max_failures)
        self.catalogues = SignedCatalogues(self.store, settings)
        self.pathway_policy = load_pathway_policy(settings)
        self.documents_required = required_document_fields(settings.documents_required)

    @property
    def catalogue(self) -> Catalogue:
        """The latest signed catalogue (ledger/catalogue_source.py): what the next step is judged by."""
        return self.catalogues.in_force()

    @property
    def kdf(self) -> KdfParameters:
        """Argon2id cost for newly sealed keys."""
        s = self.settings
        return KdfParameters(s.kdf_time_cost, s.kdf_memory_kib, s.kdf_parallelism)

    @cached_property
    def identities(self) -> IdentityStore:
        """The sealed patient identities (opened on first use: the master secret may not exist before init)."""
        return IdentityStore(self.store, self.settings.home)

    @cached_property
    def documents(self) -> DocumentStore:
        """The content-addressed documents signed steps reference (ledger/documents.py)."""
        return DocumentStore(self.store, self.settings.home, self.identities)

    def match_wristband(self, pseudonym: str, scan: WristbandScan) -> IdentityMatch:
        """The domain's wristband check: compared here, so only the verdict leaves the ledger."""
        return match_wristband(self.identities, pseudonym, scan)

    def close(self) -> None:
        """Release database connections."""
        self.store.close()

    # -- queries ---------------------------------------------------------------------------------

    def history(self, aggregate_id: UUID) -> list[Envelope]:
        """Every envelope of one aggregate, oldest first."""
        return self.store.history(aggregate_id)

    def load(self, aggregate_id: UUID) -> Aggregate | None:
        """Replay one aggregate from its stored history (never from a snapshot)."""
        return self.replay(self.history(aggregate_id))[0]

    def replay(self, envelopes: list[Envelope]) -> tuple[Aggregate | None, Head]:
        if not envelopes:
            return None, Head(0, None)
        kind = str(envelopes[0].body["aggregate_kind"])
        cls = KINDS.get(kind)
        if cls is None:
            raise InvalidInput(f"stored aggregate kind {kind!r} is unknown to this version", field="aggregate_kind")
        aggregate = cls.replay(envelopes[0].aggregate_id, (envelope.to_record() for envelope in envelopes))
        return aggregate, Head(envelopes[-1].version, envelopes[-1].hash)

    def actor(self, username: str) -> tuple[Actor, StaffMember]:
        """The registered staff member behind a username."""
        member = self.load(staff_id_for(username))
        if not isinstance(member, StaffMember):
            raise NotFound(f"no staff member is registered as {username!r}", field="user")
        return Actor(user_id=member.username, name=member.name, role=member.role), member

    # -- commands --------------------------------------------------------------------------------

    def record(
        self,
        event_type: str,
        aggregate_id: UUID,
        payload: Mapping[str, Any],
        *,
        user: str,
        meaning: str | None,
        password: str | None = None,
        occurred_at: datetime | None = None,
        expected_version: int | None = None,
        session: str | None = None,
        with_events: WithEvents | None = None,
        channel: Channel = "cli",
    ) -> list[Envelope]:
        """Record one step: check it, sign every resulting event as ``user``, store all or nothing.

        A refused identity check is itself recorded (signed by the same user) before
        the refusal is raised, so near misses reach the audit trail. ``expected_version``
        is the version the user saw: if the target has moved on since, nothing is
        decided and ``ConcurrentChange`` is raised (the storing transaction refuses a
        change that slips in between). ``session`` names the user's signing session when
        one person may hold several (one per API sign-in). ``with_events`` builds, from
        the sealed envelopes, side-table writes stored in the same transaction (the
        answer a retried HTTP request will get). ``channel`` says where the password was typed
        (``cli``, ``rest``, ``web``), for the audit row of a wrong one (ledger/signing_lockout.py).

        When the user gives no ``occurred_at``, the step happens "now": now is read at
        decision time, after the key is unsealed, and read again if a colleague's step
        landed between that reading and the load — the user never sent a time, so they
        are never refused for one; a step that still lands first is a ``ConcurrentChange``.
        """
        if event_type != CATALOGUE_CHANGED_TYPE:
            self.catalogues.ensure_file_applied()
        actor, member = self.actor(user)
        signer = self.signer_for(member, password, session, channel=channel)
        for attempt in range(DEFAULT_TIME_ATTEMPTS):
            now = self.clock.now()
            try:
                return self._decide_and_store(
                    event_type, aggregate_id, payload, actor, signer, now,
                    occurred_at if occurred_at is not None else now, meaning, expected_version, with_events,
                    signer_record=member,
                )  # fmt: skip
            except TimeRuleViolation as refusal:
                if occurred_at is not None or refusal.rule != "before_previous_step":
                    raise
                if attempt == DEFAULT_TIME_ATTEMPTS - 1:
                    raise ConcurrentChange(
                        "another step was recorded on this product at the same moment; reload it and try again"
                    ) from refusal
        raise AssertionError("unreachable")  # the loop returns or raises

    def _decide_and_store(
        self,
        event_type: str,
        aggregate_id: UUID,
        payload: Mapping[str, Any],
        actor: Actor,
        signer: KeyPair,
        now: datetime,
        occurred_at: datetime,
        meaning: str | None,
        expected_version: int | None,
        with_events: WithEvents | None,
        *,
        signer_record: StaffMember | None = None,
    ) -> list[Envelope]:
        ctx = Context(
            actor=actor,
            occurred_at=occurred_at,
            now=now,
            meaning=_meaning(meaning),
            catalogue=self.catalogue,
            pathway=self.pathway_policy,
            identity=self.match_wristband,
            bedside_check_valid_minutes=self.settings.bedside_check_valid_minutes,
            signer=signer_record,
            documents=self.documents.lookup,
            documents_required=self.documents_required,
            document_bytes=self.documents.readable,
        )
        heads: dict[UUID, Head] = {}

        def load(target: UUID) -> Aggregate | None:
            aggregate, head = self.replay(self.history(target))
            heads[target] = head
            if target == aggregate_id and expected_version is not None and head.version != expected_version:
                raise ConcurrentChange(
                    f"{aggregate_id} is at version {head.version}, not {expected_version} as expected: "
                    "someone recorded a step since; reload it and decide again"
                )
            return aggregate

        try:
            if event_type in STAFF_EVENT_TYPES:
                new_events = decide_staff(event_type, aggregate_id, payload, ctx, load)
            else:
                new_events = decide(event_type, aggregate_id, payload, ctx, load)
        except IdentityMismatch as mismatch:
            if mismatch.safety_events:
                self.append_signed(mismatch.safety_events, actor, signer, heads, now)
            raise
        return self.append_signed(new_events, actor, signer, heads, now, with_events)

    def signer_for(
        self, member: StaffMember, password: str | None, session: str | None = None, *, channel: Channel = "cli"
    ) -> KeyPair:
        """The key ``member`` signs with now, through the signing lockout.

        A locked person is refused before their key is tried; a wrong password is counted
        (and may lock); the right one resets the count. The ledger's own key is unlocked by
        the master secret, not a password, so no lockout applies to it.
        """
        if member.role == "system":
            return self.meta.ledger_key_pair()
        active = member.active_keys
        if not active:
            raise SignatureRefused(f"{member.username} has no active signing key")
        key_id = active[-1]
        if password is not None and must_change_password(self.store, member.username):
            raise PasswordChangeRequired(member.username)  # an enrolment secret signs nothing
        try:
            state = self.signing_lockout.check(member.username, channel)
            try:
                pair = self.sessions.signer(
                    _holder(member.username, session), key_id, lambda: self.keys.get(key_id), password
                )
            except WrongSigningPassword as wrong:
                failures = self.signing_lockout.failed(member.username, channel)
                raise WrongSigningPassword(
                    f"{wrong} ({failures} of {self.signing_lockout.max_failures} wrong passwords in a row lock signing)"
                ) from None
        except SigningLocked:
            self.sessions.close(member.username)  # no open session of a locked person signs either
            raise
        if password is not None:
            self.signing_lockout.succeeded(state)
        return pair

    def signature_needs_password(self, username: str, session: str | None = None) -> bool:
        """Would the next signature of ``username`` (in ``session``) ask for the password? What a dialog shows."""
        member = self.load(staff_id_for(username))
        if not isinstance(member, StaffMember) or not member.active_keys:
            return True
        return not self.sessions.open_for(_holder(username, session), member.active_keys[-1])

    def end_signing_session(self, username: str, session: str | None = None) -> None:
        """Forget the unsealed key of one signing session (at sign-out)."""
        self.sessions.close(_holder(username, session))

    def append_signed(
        self,
        new_events: list[NewEvent],
        actor: Actor,
        signer: KeyPair,
        heads: dict[UUID, Head],
        now: datetime,
        with_events: WithEvents | None = None,
    ) -> list[Envelope]:
        envelopes = []
        by_ledger: tuple[Actor, KeyPair] | None = None
        for event in new_events:
            signed_as, key = actor, signer
            if event.by_ledger:  # a fact the ledger judged from figures: signed by the ledger itself
                by_ledger = by_ledger or (self.actor(LEDGER_USER)[0], self.meta.ledger_key_pair())
                signed_as, key = by_ledger
            head = heads.get(event.aggregate_id)
            if head is None:
                head = self.replay(self.history(event.aggregate_id))[1]
            body = event_body(
                ledger_id=self.meta.ledger_id(),
                aggregate_id=event.aggregate_id,
                aggregate_kind=event.aggregate_kind,
                version=head.version + 1,
                event_type=event.type,
                payload=event.payload,
                occurred_at=event.occurred_at,
                recorded_at=now,
                actor=signed_as,
                meaning=str(event.meaning),
                prev_hash=head.hash,
                key_id=key.key_id,
            )
            envelope = seal(body, key)
            heads[event.aggregate_id] = Head(envelope.version, envelope.hash)
            envelopes.append(envelope)
        ensure_writable(self.store)
        side_writes = [*reference_writes(envelopes), *(with_events(envelopes) if with_events is not None else ())]
        self.store.append(envelopes, side_writes)
        return envelopes


def _holder(username: str, session: str | None) -> str:
    """The signing-session key: one per person, or one per sign-in when the caller names its session."""
    return username if session is None else f"{username}/{session}"


def _meaning(value: str | None) -> Meaning | None:
    if value is None or value == "":
        return None
    try:
        return Meaning(value)
    except ValueError:
        raise InvalidInput(
            f"meaning {value!r} is not a signature meaning; use one of {', '.join(m.value for m in Meaning)}",
            field="meaning",
            rule="meaning_not_allowed",
        ) from None
