"""Hash chains checked as the log streams past, holding one (version, hash) per aggregate.

Each event names the hash of its aggregate's previous version (README, "How the ledger
proves nothing was altered"). A ledger appends an aggregate's versions 1, 2, 3… in log
order, so the previous hash is all the check needs: memory stays O(aggregates) however
long the log. An aggregate whose versions do not arrive that way (one deleted, moved,
duplicated or inserted out of turn — only tampering does that) is *irregular*: its chain is
judged again at the end from all its rows, read a second time (``links_of``), with the
same rules, so the findings are exactly those of a verifier holding every row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple, Protocol

from ledger.verify_failure import Failure


class Linked(Protocol):
    """Any checked event (``Link``, ledger/row_check.py ``Checked``): position, aggregate, version and hashes."""

    @property
    def position(self) -> int:
        """Log position."""
        ...

    @property
    def aggregate_id(self) -> str:
        """Dashed aggregate id."""
        ...

    @property
    def version(self) -> int:
        """Version in the aggregate."""
        ...

    @property
    def hash(self) -> str | None:
        """The event's hash; None when its row could not be opened."""
        ...

    @property
    def prev_hash(self) -> str | None:
        """The hash it links to."""
        ...


class Link(NamedTuple):
    """What a chain check needs of one event: where it is stored, its hash and the hash it links to."""

    position: int
    aggregate_id: str
    version: int
    hash: str | None
    prev_hash: str | None


class ChainCheck:
    """Every aggregate's latest (version, hash) in log order, the broken links found, the irregular aggregates."""

    def __init__(self) -> None:
        self.latest: dict[str, tuple[int, str | None]] = {}
        self.irregular: set[str] = set()
        self.failures: list[Failure] = []

    def add(self, link: Linked) -> None:
        """The next event of the log (any aggregate)."""
        aggregate_id, version = link.aggregate_id, link.version
        previous_version, previous_hash = self.latest.get(aggregate_id, (0, None))
        self.latest[aggregate_id] = (version, link.hash)
        if version != previous_version + 1:
            self.irregular.add(aggregate_id)
            return
        if link.hash is None:
            return  # undecodable: already reported
        if version > 1 and previous_hash is None:
            return  # the undecodable predecessor is already reported
        if link.prev_hash != previous_hash:
            self.failures.append(_broken(link, previous_hash))

    def __len__(self) -> int:
        """How many aggregates the log holds."""
        return len(self.latest)

    def findings(self, irregular_links: Iterable[Linked] = ()) -> list[Failure]:
        """The broken links of the regular aggregates, then every chain failure of the irregular ones.

        ``irregular_links`` are the irregular aggregates' rows in log order (a later row of the
        same version replaces an earlier one, as a verifier keeping a map of versions would).
        """
        found = [failure for failure in self.failures if failure.aggregate_id not in self.irregular]
        chains: dict[str, dict[int, Linked]] = {}
        for link in irregular_links:
            chains.setdefault(link.aggregate_id, {})[link.version] = link
        for aggregate_id, versions in chains.items():
            found.extend(chain_failures(aggregate_id, versions))
        return found


def chain_failures(aggregate_id: str, versions: Mapping[int, Linked]) -> Iterator[Failure]:
    """Gaps in the version sequence and links that do not point at the previous hash."""
    for version in range(1, max(versions) + 1):
        checked = versions.get(version)
        if checked is None:
            following = versions.get(version + 1)
            yield Failure(
                following.position if following else 0,
                aggregate_id,
                version,
                "missing_version",
                f"version {version} of {aggregate_id} is missing from the log",
            )
            continue
        if checked.hash is None:
            continue  # undecodable: already reported
        previous = versions.get(version - 1)
        expected = None if version == 1 else (previous.hash if previous else None)
        if version > 1 and expected is None:
            continue  # the gap or the undecodable predecessor is already reported
        if checked.prev_hash != expected:
            yield _broken(checked, expected)


def _broken(link: Linked, expected: str | None) -> Failure:
    return Failure(
        link.position,
        link.aggregate_id,
        link.version,
        "broken_link",
        f"prev_hash {link.prev_hash} does not match the hash of version {link.version - 1} ({expected})",
    )
