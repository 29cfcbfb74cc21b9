"""Hash chains checked while streaming: the same findings as a check over every version, kept or not.

The oracle here is a plain reading of the rules on a full map of versions (README, "How
the ledger proves nothing was altered"): version 1 links to nothing, version n to the hash
of version n-1; a missing version is named at its successor's position (0 when none); an
undecodable row (hash None) and a link after a gap or an undecodable row are not judged.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ledger.chain_check import ChainCheck, Link


def oracle(rows: list[Link]) -> set[tuple[str, str, int, int]]:
    chains: dict[str, dict[int, Link]] = {}
    for row in rows:
        chains.setdefault(row.aggregate_id, {})[row.version] = row
    found = set()
    for aggregate, versions in chains.items():
        for version in range(1, max(versions) + 1):
            here = versions.get(version)
            before = versions.get(version - 1)
            if here is None:
                successor = versions.get(version + 1)
                found.add(("missing_version", aggregate, version, successor.position if successor else 0))
            elif here.hash is None:
                continue
            elif (version == 1 and here.prev_hash is not None) or (
                version > 1 and before is not None and before.hash is not None and here.prev_hash != before.hash
            ):
                found.add(("broken_link", aggregate, version, here.position))
    return found


def streamed(rows: list[Link]) -> tuple[ChainCheck, set[tuple[str, str, int, int]]]:
    check = ChainCheck()
    for row in rows:
        check.add(row)
    irregular = [row for row in rows if row.aggregate_id in check.irregular]
    return check, {(f.reason, f.aggregate_id, f.version, f.position) for f in check.findings(irregular)}


def chain(aggregate: str, count: int, first_position: int = 1) -> list[Link]:
    return [
        Link(first_position + v - 1, aggregate, v, f"{aggregate}{v}", None if v == 1 else f"{aggregate}{v - 1}")
        for v in range(1, count + 1)
    ]


def test_an_intact_interleaved_log_is_regular_and_clean() -> None:
    a, b = chain("a", 5), chain("b", 5, first_position=100)
    rows = [row for pair in zip(a, b, strict=True) for row in pair]
    check, found = streamed(rows)
    assert found == set() and check.irregular == set() and len(check) == 2


def test_a_forged_link_is_named_at_its_row_without_a_second_reading() -> None:
    rows = chain("a", 4)
    rows[2] = rows[2]._replace(prev_hash="forged")
    check, found = streamed(rows)
    assert check.irregular == set()
    assert found == {("broken_link", "a", 3, 3)}
    [failure] = check.findings()
    assert failure.detail == "prev_hash forged does not match the hash of version 2 (a2)"


def test_a_deleted_version_makes_the_aggregate_irregular_and_is_named_at_its_successor() -> None:
    rows = [row for row in chain("a", 5) if row.version != 3]
    check, found = streamed(rows)
    assert check.irregular == {"a"}
    assert found == {("missing_version", "a", 3, 4)}


def test_a_broken_link_found_before_the_aggregate_turned_irregular_is_judged_again() -> None:
    rows = chain("a", 3)
    rows[1] = rows[1]._replace(prev_hash="forged")
    rows.append(Link(9, "a", 2, "a2", "a1"))  # the same version stored again, correctly: the later row counts
    _, found = streamed(rows)
    assert found == oracle(rows) == set()


links = st.builds(
    Link,
    position=st.integers(1, 50),
    aggregate_id=st.sampled_from(["a", "b"]),
    version=st.integers(1, 6),
    hash=st.sampled_from([None, "h1", "h2", "h3"]),
    prev_hash=st.sampled_from([None, "h1", "h2", "h3"]),
)


@given(st.lists(links, max_size=14))
def test_any_log_gives_the_findings_of_a_check_over_every_version(rows: list[Link]) -> None:
    _, found = streamed(rows)
    assert found == oracle(rows)
