"""Facts about this ledger instance: its id and its own signing key (unlocked by the master secret)."""

from __future__ import annotations

from functools import cached_property

from eventsourcing.persistence import OperationalError, ProgrammingError

from domain.staff import StaffMember, staff_id_for
from ledger.keys import KdfParameters, KeyPair, SealedKey, WrongPassword, seal_key, unseal_key
from ledger.secrets import derive_key
from ledger.settings import Settings
from ledger.store import EventStore

LEDGER_USER = "ledger"

# The ledger key is unsealed by a random 256-bit derived secret, not a human password:
# a cheap KDF is enough and keeps every process start fast.
LEDGER_KDF = KdfParameters(time_cost=1, memory_kib=8192, parallelism=1)


class NotInitialised(Exception):
    """The store has no ledger yet: run `custody init`."""


class LedgerMeta:
    """Reads (and at initialisation writes) the ``ledger_meta`` side table."""

    def __init__(self, store: EventStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._pairs: dict[str, KeyPair] = {}

    def get(self, name: str) -> str | None:
        """One meta value, or None."""
        try:
            with self.store.side_transaction() as cursor:
                cursor.execute("SELECT value FROM ledger_meta WHERE name = %s", (name,))
                row = cursor.fetchone()
        except (ProgrammingError, OperationalError) as error:
            if "ledger_meta" in str(error):
                raise NotInitialised("this database holds no ledger yet: run `custody init`") from error
            raise
        return None if row is None else str(row["value"])

    def put(self, name: str, value: str) -> None:
        """Write a meta value once (meta values are never changed)."""
        with self.store.side_transaction() as cursor:
            cursor.execute("INSERT INTO ledger_meta (name, value) VALUES (%s, %s)", (name, value))

    @cached_property
    def _ledger_id(self) -> str:
        value = self.get("ledger_id")
        if value is None:
            raise NotInitialised("this store holds no ledger yet: run `custody init`")
        return value

    def ledger_id(self) -> str:
        """The id every envelope of this ledger carries (binds events to one ledger)."""
        return self._ledger_id

    def ledger_key_id(self) -> str:
        """Key id of the ledger's current signing key.

        After a rotation it is the active key of the ``ledger`` staff member, as the signed
        key history says; before the genesis events exist, the key created at initialisation.
        """
        history = self.store.history(staff_id_for(LEDGER_USER))
        if history:
            member = StaffMember.replay(history[0].aggregate_id, (envelope.to_record() for envelope in history))
            if member.active_keys:
                return member.active_keys[-1]
        value = self.get("ledger_key_id")
        if value is None:
            raise NotInitialised("this store holds no ledger key yet: run `custody init`")
        return value

    def _password(self) -> str:
        return derive_key(self.settings.home, "ledger-signing-key").hex()

    def seal_ledger_key(self, pair: KeyPair) -> SealedKey:
        """Seal a new ledger key under the master-derived secret."""
        return seal_key(pair, self._password(), LEDGER_KDF)

    def _unseal(self, key_id: str) -> KeyPair:
        from ledger.keystore import KeyStore

        sealed = KeyStore(self.store).get(key_id)
        if sealed is None:
            raise NotInitialised("the ledger's sealed key is missing from the key store")
        try:
            return unseal_key(sealed, self._password())
        except WrongPassword:
            raise NotInitialised(
                f"the master secret in {self.settings.home} does not unlock this database's ledger key: "
                "CUSTODY_HOME and CUSTODY_DATABASE_URL point at different ledgers"
            ) from None

    def ledger_key_pair(self) -> KeyPair:
        """The unsealed current ledger key (checkpoints, system events), unsealed once per key."""
        key_id = self.ledger_key_id()
        if key_id not in self._pairs:
            self._pairs[key_id] = self._unseal(key_id)
        return self._pairs[key_id]
