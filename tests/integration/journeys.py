"""Helpers for the integration tests: a registered team, realistic journeys, forged events, and a DBA.

Journeys go through ``CustodyLedger.record`` exactly as the CLI and the demo do
(reusing ``api.demo_journeys``); forgeries build envelopes by hand with
``event_body`` and ``seal`` and append them below the domain, as an insider
holding a key could; the ``Dba`` edits the event table directly, as someone with
database rights could, on either backend.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg

from api import demo_journeys as j
from api import demo_pathway
from domain.events import Actor
from domain.identifiers import Coi, product_id_for
from domain.ln2_position import position_id_for
from domain.pathway import pathway_id_for
from domain.staff import staff_id_for
from domain.staff_qualification_rules import SIGNING_ROLES
from ledger.envelope import Envelope, event_body, seal
from ledger.identity_store import IdentityUnavailable, PatientIdentity
from ledger.keys import KeyPair
from ledger.service import CustodyLedger
from ledger.settings import Settings, postgres_parts
from ledger.setup import register_staff
from ledger.staff_training import qualify_role_wide
from ledger.verifier import VerificationReport, VerifyOptions, verify_store
from tests.conftest import postgres_url

TEAM = {
    "nurse": ("Nina Nurse", "nurse"),
    "physician": ("Dr Paul Physician", "physician"),
    "internist": ("Dr Irene Internist", "physician"),
    "pharmacist": ("Phil Pharmacist", "pharmacist"),
    "qp": ("Quentin Qp", "qp"),
    "qc": ("Quinn Qc", "qp"),  # a second QP records QC, so that "qp" may release it (four eyes)
    "courier": ("Carl Courier", "courier"),
    "auditor": ("Audrey Auditor", "auditor"),
}
PATIENT = "PSN-TEST-0001"


def password_of(username: str) -> str:
    """Every test user's password."""
    return f"{username}-password"


def register_team(ledger: CustodyLedger, usernames: tuple[str, ...] = tuple(TEAM)) -> dict[str, str]:
    """Register the named staff (by the ledger itself), trained for their whole role; return their passwords."""
    passwords = {}
    for username in usernames:
        name, role = TEAM[username]
        register_qualified(ledger, username, name, role, password_of(username))
        passwords[username] = password_of(username)
    return passwords


def register_qualified(ledger: CustodyLedger, username: str, name: str, role: str, password: str) -> None:
    """Register a person and, when their role signs custody steps, qualify them for all of it over any test date."""
    register_staff(ledger, username, name, role, password, registrar="ledger", must_change_password=False)  # chosen
    if role in SIGNING_ROLES:
        qualify_role_wide(
            ledger, username, valid_from=date(2000, 1, 1), valid_until=date(2099, 12, 31),
            reference=f"TR-{username}", evidence="Unit training record", by="ledger",
        )  # fmt: skip


class Recorder(j.Recorder):
    """The demo's recorder, but giving the password at every signature and returning the envelopes."""

    def __call__(  # type: ignore[override]
        self, user: str, event_type: str, target: UUID, when: datetime, meaning: str, **payload: Any
    ) -> list[Envelope]:
        return self.ledger.record(
            event_type,
            target,
            payload,
            user=user,
            meaning=meaning,
            password=self.passwords[user],
            occurred_at=when,
        )


def team(ledger: CustodyLedger, usernames: tuple[str, ...] = tuple(TEAM)) -> Recorder:
    """Register a team and return a recorder that signs as any of them."""
    return Recorder(ledger, register_team(ledger, usernames))


@dataclass(frozen=True)
class Journey:
    """One product recorded so far: its id, COI, and the times the tests build on."""

    product: UUID
    coi: Coi
    thawed_at: datetime | None = None
    bag: str | None = None
    ended_at: datetime | None = None


def ready(rec: Recorder, start: datetime, pseudonym: str = PATIENT, *, therapy: str = "car_t",
          code: str = "ACADEMIC-CD19", diagnosis: str = "systemic_lupus_erythematosus") -> None:  # fmt: skip
    """Registered, accredited sites and the patient's eligible, co-signed, consented pathway, before ``start``."""
    for user in ("physician", "internist"):
        if rec.ledger.load(staff_id_for(user)) is None:
            register_team(rec.ledger, (user,))
        rec.passwords.setdefault(user, password_of(user))
    demo_pathway.ready_patient(rec, pseudonym, diagnosis, start, therapy, code)


def enrolled(rec: Recorder, start: datetime, pseudonym: str = PATIENT) -> Journey:
    """A CAR-T product enrolled under a fresh COI, for a patient whose pathway allows it."""
    ready(rec, start, pseudonym)
    coi = j.new_coi(rec.ledger.settings.facility, start.year % 100)
    product = j.enrol_car_t(rec, coi, pseudonym, "systemic_lupus_erythematosus", start)
    return Journey(product, coi)


def enrolled_outside_any_trial(rec: Recorder, start: datetime, pseudonym: str = "PSN-TEST-0009") -> Journey:
    """An academic CAR-T product of no trial: what a sponsor's user must never see (``enrolled``: the demo trial)."""
    ready(rec, start, pseudonym)
    coi = j.new_coi(rec.ledger.settings.facility, start.year % 100)
    product = product_id_for(coi)
    rec(
        "physician", "ProductEnrolled", product, start, "approved", coi=coi.value, product_kind="car_t",
        product_code="ACADEMIC-CD19", patient_pseudonym=pseudonym, indication="systemic_lupus_erythematosus",
        treating_physician="physician", collection_site=j.APHERESIS_SITE,
    )  # fmt: skip
    return Journey(product, coi)


def released_and_stored(rec: Recorder, start: datetime, pseudonym: str = PATIENT) -> Journey:
    """Enrolment, apheresis, manufacturing, QC, release, shipment to the pharmacy and LN2 storage."""
    journey = enrolled(rec, start, pseudonym)
    din = f"G1234{start.year % 100:02d}{uuid.uuid4().int % 1_000_000:06d}"
    qc_at = j.collect_and_manufacture(rec, journey.product, journey.coi, din, start + timedelta(days=1))
    j.qc(rec, journey.product, qc_at)
    rec("qp", "ProductReleased", journey.product, qc_at + timedelta(days=1), "released", certificate_id="CoR-1")
    j.ship_to_pharmacy(rec, [(journey.product, journey.coi)], qc_at + timedelta(days=2))
    j.store(rec, journey.product, qc_at + timedelta(days=3), free_position(rec.ledger))
    return journey


def free_position(ledger: CustodyLedger) -> str:
    """A position of the demo box no bag has used yet (A1…Z99): one bag per position, and test journeys that
    start at different moments never contend for a place's history (a place's steps are in time order too)."""
    for row in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        for number in range(1, 100):
            position = f"{row}{number}"
            if ledger.load(position_id_for(j.PHARMACY, j.LN2_TANK, j.LN2_RACK, j.LN2_BOX, position)) is None:
                return position
    raise AssertionError("the demo box is full")


def conditioned(rec: Recorder, pseudonym: str, infusion: datetime) -> None:
    """The patient's lymphodepletion, ending three days before the infusion day (inside every CAR-T window)."""
    ended = infusion - timedelta(days=3)
    rec(
        "physician", "LymphodepletionRecorded", pathway_id_for(pseudonym), ended, "performed",
        agents=[{"name": "fludarabine", "dose": "25 mg/m²/day × 3"}],
        started_on=(ended - timedelta(days=2)).date().isoformat(), ended_on=ended.date().isoformat(),
    )  # fmt: skip


def thawed(rec: Recorder, start: datetime, pseudonym: str = PATIENT) -> Journey:
    """A stored product of a conditioned patient, dispensed and thawed on the unit, awaiting the bedside checks."""
    journey = released_and_stored(rec, start, pseudonym)
    when = start + timedelta(days=25)
    conditioned(rec, pseudonym, when)
    rec(
        "pharmacist",
        "Dispensed",
        journey.product,
        when,
        "verified",
        to_unit=j.UNIT,
        scanned_coi=journey.coi.value,
        scanned_patient=pseudonym,
        release_verified=True,
    )
    thaw_start = when + timedelta(hours=1)
    done = thaw_start + timedelta(minutes=4)
    bag = f"LOT-{journey.coi.sequence}-B1"
    rec(
        "nurse",
        "Thawed",
        journey.product,
        done,
        "performed",
        method="dry_thawer",
        started_at=j.iso(thaw_start),
        completed_at=j.iso(done),
        bag_id=bag,
    )
    return Journey(journey.product, journey.coi, thawed_at=done, bag=bag)


IDENTITY = PatientIdentity("MARTIN", "Claire", "1979-03-14", "IPP-77001")
"""The identity every test patient's wristband carries, sealed under each pseudonym by ``identified``."""


def identified(ledger: CustodyLedger, pseudonym: str = PATIENT) -> dict[str, str]:
    """Seal the test identity under ``pseudonym`` (once) and return what its wristband scans as."""
    try:
        ledger.identities.get(pseudonym)
    except IdentityUnavailable:
        ledger.identities.put(pseudonym, IDENTITY, ledger.clock.now())
    return j.wristband_of(ledger, pseudonym)


def bedside_checked(rec: Recorder, journey: Journey, pseudonym: str = PATIENT) -> None:
    """The two independent bedside checks (nurse, then physician): COI, bag and the registered patient's wristband."""
    assert journey.thawed_at is not None and journey.bag is not None
    wristband = identified(rec.ledger, pseudonym)
    for user, kind, meaning, offset in (
        ("nurse", "BedsideCheckPerformed", "performed", 6),
        ("physician", "BedsideCheckWitnessed", "witnessed", 7),
    ):
        rec(
            user,
            kind,
            journey.product,
            journey.thawed_at + timedelta(minutes=offset),
            meaning,
            scanned_coi=journey.coi.value,
            scanned_bag_id=journey.bag,
            **wristband,
        )


def infused(rec: Recorder, start: datetime, pseudonym: str = PATIENT) -> Journey:
    """A whole journey, enrolment to infusion and a follow-up visit."""
    journey = released_and_stored(rec, start, pseudonym)
    identified(rec.ledger, pseudonym)
    conditioned(rec, pseudonym, start + timedelta(days=25))
    end = j.administer(
        rec, journey.product, journey.coi, pseudonym, f"LOT-{journey.coi.sequence}-B1", start + timedelta(days=25)
    )
    rec(
        "physician",
        "FollowUpRecorded",
        journey.product,
        end + timedelta(days=7),
        "reviewed",
        visit="day 7",
        findings="no CRS, no ICANS",
    )
    return Journey(journey.product, journey.coi, ended_at=end)


# -- verification ------------------------------------------------------------------------------------


def verify(ledger: CustodyLedger, trusted: set[bytes] | None = None) -> VerificationReport:
    """Verify the whole store against the ledger's published key (or the given trust anchor)."""
    anchor = {ledger.meta.ledger_key_pair().public_key} if trusted is None else trusted
    return verify_store(ledger.store, VerifyOptions(trusted=anchor, ledger_id=ledger.meta.ledger_id()))


def failures(report: VerificationReport) -> set[tuple[str, str, int, int]]:
    """Every failure as (reason, aggregate id, version, position)."""
    return {(f.reason, f.aggregate_id, f.version, f.position) for f in report.failures}


# -- forgery -----------------------------------------------------------------------------------------


def actor_of(ledger: CustodyLedger, username: str) -> Actor:
    """The actor a registered user signs as."""
    return ledger.actor(username)[0]


def key_pair_of(ledger: CustodyLedger, username: str) -> KeyPair:
    """The user's unsealed signing key (as an insider who knows the password holds it)."""
    _, member = ledger.actor(username)
    return ledger.signer_for(member, password_of(username))


def forge(
    ledger: CustodyLedger,
    aggregate_id: UUID,
    event_type: str,
    payload: Mapping[str, Any],
    *,
    actor: Actor,
    signer: KeyPair,
    aggregate_kind: str = "product",
    meaning: str = "recorded",
) -> tuple[Envelope, int]:
    """Sign an event by hand, chained correctly to the aggregate's head, and append it below the domain."""
    history = ledger.history(aggregate_id)
    now = ledger.clock.now()
    body = event_body(
        ledger_id=ledger.meta.ledger_id(),
        aggregate_id=aggregate_id,
        aggregate_kind=aggregate_kind,
        version=(history[-1].version if history else 0) + 1,
        event_type=event_type,
        payload=payload,
        occurred_at=now,
        recorded_at=now,
        actor=actor,
        meaning=meaning,
        prev_hash=history[-1].hash if history else None,
        key_id=signer.key_id,
    )
    envelope = seal(body, signer)
    [position] = ledger.store.append([envelope])
    return envelope, position


def staff(username: str) -> UUID:
    """A staff member's aggregate id."""
    return staff_id_for(username)


# -- the insider with database rights ----------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One stored event row as the database holds it."""

    position: int
    aggregate_id: UUID
    version: int
    topic: str
    state: bytes


class Dba:
    """Direct SQL on the event table, immutability triggers on or off, on either backend."""

    def __init__(self, settings: Settings) -> None:
        self.backend = settings.backend
        if self.backend == "sqlite":
            self.sqlite = sqlite3.connect(settings.sqlite_path, isolation_level=None, timeout=10)
        else:
            assert settings.database_url is not None
            schema = postgres_parts(settings.database_url)["schema"]
            self.pg = psycopg.connect(postgres_url(), autocommit=True)
            self.pg.execute(psycopg.sql.SQL("SET search_path TO {}").format(psycopg.sql.Identifier(schema)))

    def close(self) -> None:
        """Drop the connection."""
        if self.backend == "sqlite":
            self.sqlite.close()
        else:
            self.pg.close()

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.backend == "sqlite":
            return self.sqlite.execute(sql.replace("%s", "?"), params).fetchall()
        cursor = self.pg.execute(sql.encode(), params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []

    @property
    def _table(self) -> str:
        return "stored_events" if self.backend == "sqlite" else "custody_events"

    @property
    def _position(self) -> str:
        return "rowid" if self.backend == "sqlite" else "notification_id"

    def _id(self, aggregate_id: UUID) -> Any:
        return aggregate_id.hex if self.backend == "sqlite" else aggregate_id

    def disable_immutability(self) -> None:
        """What a DBA would do before editing history."""
        if self.backend == "sqlite":
            self._run("DROP TRIGGER stored_events_refuse_update")
            self._run("DROP TRIGGER stored_events_refuse_delete")
        else:
            self._run("ALTER TABLE custody_events DISABLE TRIGGER USER")

    def rows(self) -> list[Row]:
        """Every stored row, in log order."""
        found = self._run(
            f"SELECT {self._position}, originator_id, originator_version, topic, state FROM {self._table} "
            f"ORDER BY {self._position}"
        )
        return [Row(int(p), UUID(str(o)), int(v), str(t), bytes(s)) for p, o, v, t, s in found]

    def row(self, aggregate_id: UUID, version: int) -> Row:
        """One stored row."""
        [found] = [r for r in self.rows() if r.aggregate_id == aggregate_id and r.version == version]
        return found

    def set_state(self, aggregate_id: UUID, version: int, state: bytes) -> None:
        """Overwrite a row's stored bytes."""
        self._run(
            f"UPDATE {self._table} SET state = %s WHERE originator_id = %s AND originator_version = %s",
            (state, self._id(aggregate_id), version),
        )

    def delete(self, aggregate_id: UUID, version: int) -> None:
        """Remove one row."""
        self._run(
            f"DELETE FROM {self._table} WHERE originator_id = %s AND originator_version = %s",
            (self._id(aggregate_id), version),
        )

    def insert(self, aggregate_id: UUID, version: int, topic: str, state: bytes) -> int:
        """Add a row at the end of the log; return its position."""
        self._run(
            f"INSERT INTO {self._table} (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)",
            (self._id(aggregate_id), version, topic, state),
        )
        return self.row(aggregate_id, version).position


@contextmanager
def dba(settings: Settings) -> Iterator[Dba]:
    """A DBA session, closed afterwards."""
    session = Dba(settings)
    try:
        yield session
    finally:
        session.close()
