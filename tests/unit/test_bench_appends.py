"""`custody bench`'s append comparison: paired blocks, the first of each pair alternating, the median ratio."""

from __future__ import annotations

from typing import Any

from ledger.bench import bench_appends, signed_over_bare_ceiling


class Timed:
    """An append path that takes a fixed time per block of aggregates and records when it ran."""

    def __init__(self, name: str, seconds: list[float], calls: list[tuple[str, int, int]]) -> None:
        self.name, self.seconds, self.calls = name, seconds, calls

    def block(self, first: int, aggregates: int) -> float:
        self.calls.append((self.name, first, aggregates))
        return self.seconds[len([call for call in self.calls if call[0] == self.name]) - 1]


def test_each_pair_of_blocks_starts_with_the_other_path_than_the_pair_before() -> None:
    calls: list[tuple[str, int, int]] = []
    bare: Any = Timed("bare", [1.0, 1.0, 1.0, 1.0], calls)
    signed: Any = Timed("signed", [2.0, 2.0, 2.0, 2.0], calls)
    assert bench_appends(bare, signed, events=40, blocks=4) == (5.0, 10.0, 0.5)
    assert calls == [
        ("bare", 0, 1), ("signed", 0, 1),
        ("signed", 1, 1), ("bare", 1, 1),
        ("bare", 2, 1), ("signed", 2, 1),
        ("signed", 3, 1), ("bare", 3, 1),
    ]  # fmt: skip


def test_the_figure_is_the_median_of_the_block_ratios_not_the_ratio_of_the_totals() -> None:
    calls: list[tuple[str, int, int]] = []
    bare: Any = Timed("bare", [1.0, 1.0, 9.0], calls)
    signed: Any = Timed("signed", [1.25, 1.0, 1.0], calls)
    # Block ratios 0.8, 1.0 and 9.0: their median is 1.0; the totals (11 s bare, 3.25 s signed) would say 3.385.
    signed_rate, bare_rate, ratio = bench_appends(bare, signed, events=30, blocks=3)
    assert ratio == 1.0
    assert (signed_rate, bare_rate) == (9.2, 2.7)  # 30 events in 3.25 s and in 11 s


def test_the_ceiling_adds_one_signature_to_each_bare_append() -> None:
    # 3,000 bare appends a second take 333 µs each; a 33.3 µs signature makes it 366.7 µs: 10/11 of the rate.
    assert signed_over_bare_ceiling(3000.0, 33.3e-6) == 0.909
    # On a slower disk (1,000 appends a second) the same signature weighs three times less.
    assert signed_over_bare_ceiling(1000.0, 33.3e-6) == 0.968
