"""RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, inclusion and consistency proofs.

Leaves are ``SHA-256(0x00 ‖ data)`` and interior nodes ``SHA-256(0x01 ‖ left ‖ right)``;
the split point of ``D[n]`` is the largest power of two smaller than ``n``. The
functions work on the *leaf hashes* of a log, addressed by index range, so a
proof never copies the log. Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2
step by step and refuses any malformed proof (wrong length, size or index)
rather than guessing. Kept small and self-contained: no maintained Python
library offered RFC 9162 proofs over a tree stored in our own tables.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from itertools import pairwise

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """The hash of one log entry: SHA-256(0x00 ‖ data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_root(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]) over leaf hashes, iteratively on the complete left subtrees."""
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    # Fold perfect subtrees left to right (the RFC's recursive split yields the same tree).
    stack: list[tuple[int, bytes]] = []
    for index in range(start, end):
        size, value = 1, leaves[index]
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            size, value = left_size + size, node_hash(left, value)
        stack.append((size, value))
    size, value = stack.pop()
    while stack:
        _, left = stack.pop()
        value = node_hash(left, value)
    return value


def roots_at(leaves: Sequence[bytes], sizes: Iterable[int]) -> dict[int, bytes]:
    """MTH(D[size]) for several sizes in one pass over the leaves (checkpoint verification)."""
    wanted = sorted(set(sizes))
    found: dict[int, bytes] = {}
    stack: list[tuple[int, bytes]] = []
    if wanted and wanted[0] == 0:
        found[0] = EMPTY_ROOT
    for index, leaf in enumerate(leaves[: wanted[-1] if wanted else 0], start=1):
        size, value = 1, leaf
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            size, value = left_size + size, node_hash(left, value)
        stack.append((size, value))
        if index in wanted:
            folded = stack[-1][1]
            for _, left in reversed(stack[:-1]):
                folded = node_hash(left, folded)
            found[index] = folded
    return found


def event_leaf(stored: bytes) -> bytes:
    """The leaf of one stored event: the RFC 9162 leaf hash of SHA-256(its stored envelope bytes)."""
    return leaf_hash(hashlib.sha256(stored).digest())


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]): the root of a tree over all given leaf hashes."""
    return subtree_root(leaves, 0, len(leaves))


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose subtree hashes make PATH(index, D[size]), in proof order (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < size:
        raise ValueError(f"no leaf {index} in a tree of {size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose subtree hashes make PROOF(old_size, D[new_size]), in proof order (§2.1.4.1)."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size}")
    ranges: list[tuple[int, int]] = []
    start, end, m, complete = 0, new_size, old_size, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def complete_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """The complete subtrees (level, index) that tile [start, end), left to right, largest first.

    A subtree at ``level`` and ``index`` covers leaves [index·2^level, (index+1)·2^level). Every
    range a proof asks for starts on a boundary at least as large as itself, so its tiles shrink
    left to right and folding them right to left gives MTH of the range: a log of n leaves
    answers any proof from O(log n) stored hashes.
    """
    if not 0 <= start <= end:
        raise ValueError(f"no leaf range [{start}, {end})")
    tiles: list[tuple[int, int]] = []
    first = start
    while start < end:
        level = (end - start).bit_length() - 1
        while start % (1 << level):
            level -= 1
        tiles.append((level, start >> level))
        start += 1 << level
    if any(later[0] > earlier[0] for earlier, later in pairwise(tiles)):
        raise ValueError(f"[{first}, {end}) is not a range of the RFC 9162 tree")
    return tiles


def fold_subtrees(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its complete subtrees' hashes (as ``complete_subtrees`` orders them)."""
    if not hashes:
        return EMPTY_ROOT
    value = hashes[-1]
    for left in reversed(hashes[:-1]):
        value = node_hash(left, value)
    return value


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) (RFC 9162 §2.1.3.1) over leaf hashes held in memory."""
    if not 0 <= index < size <= len(leaves):
        raise ValueError(f"no leaf {index} in a tree of {size}")
    return [subtree_root(leaves, start, end) for start, end in inclusion_ranges(index, size)]


def consistency_proof(leaves: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[new_size]) (RFC 9162 §2.1.4.1) over leaf hashes held in memory."""
    if not 0 < old_size <= new_size <= len(leaves):
        raise ValueError(f"no consistency proof from {old_size} to {new_size}")
    return [subtree_root(leaves, start, end) for start, end in consistency_ranges(old_size, new_size)]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes) -> bool:
    """True when ``proof`` shows the leaf hash at ``index`` in the tree of ``size`` with ``expected_root``."""
    if not 0 <= index < size or any(len(p) != 32 for p in proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == expected_root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """True when ``proof`` shows the tree (old_size, old_root) is a prefix of (new_size, new_root)."""
    if old_size <= 0 or old_size > new_size or any(len(p) != 32 for p in proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0
