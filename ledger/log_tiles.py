"""The log as C2SP tlog-tiles: fixed 256-hash tiles a monitor fetches and checks without the database.

A monitor that holds a checkpoint (size s, root r) rebuilds r from the tiles, checks
that a later checkpoint extends it, and reads which event digest each leaf commits —
all with plain HTTP GETs of immutable files, never a query to the ledger's database
(docs/bundle-format.md, "The log as tiles").

- A hash tile at level L, index N holds the hashes of the tree's nodes at height 8·L,
  indices 256·N … 256·N + W − 1 (level 0: the leaf hashes). W is 256 for a full tile;
  the rightmost tile of a level may be partial (``.p/W``). A tile's first W hashes never
  change once they exist, so any prefix the log holds can be served.
- An entry bundle N holds the log entries of leaves 256·N …: each entry is the
  SHA-256 digest of one stored event envelope (the leaf is SHA-256(0x00 ‖ digest),
  ledger/merkle.py ``event_leaf``), prefixed by its length as a big-endian uint16.
  The digest, not the event, is the entry: events carry product facts the tile
  reader has no right to, while the digest lets anyone check an event they were given.

Tiles are served up to the latest signed checkpoint's size only, so every byte served
is committed by a signature.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from domain.errors import InvalidInput, NotFound
from ledger.merkle_tree import StoredTree
from ledger.side_cursor import SideCursor
from ledger.store import EventStore
from ledger.verifier import stored_bytes

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
HASH_SIZE = 32

_INDEX_PART = re.compile(r"x\d{3}")
_LAST_PART = re.compile(r"\d{3}")
_LEVEL = re.compile(r"0|[1-9]\d?")
_WIDTH = re.compile(r"[1-9]\d{0,2}")


@dataclass(frozen=True)
class TileRequest:
    """One tile named by its path: a hash tile (level ≥ 0) or an entry bundle (level None), full or partial."""

    level: int | None
    index: int
    width: int | None  # None: the full tile

    @property
    def wanted(self) -> int:
        """How many hashes or entries the tile holds."""
        return self.width or TILE_WIDTH


def encode_index(index: int) -> str:
    """A tile index as C2SP path elements: 1234067 → "x001/x234/067"."""
    if index < 0:
        raise ValueError("a tile index is never negative")
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join([f"x{group}" for group in groups[:-1]] + [groups[-1]])


def tile_path(request: TileRequest) -> str:
    """The path, under the log's prefix, of a tile: ``tile/0/x001/234`` or ``tile/entries/005.p/17``."""
    level = "entries" if request.level is None else str(request.level)
    partial = f".p/{request.width}" if request.width is not None else ""
    return f"tile/{level}/{encode_index(request.index)}{partial}"


def _bad_path(path: str, why: str) -> InvalidInput:
    return InvalidInput(f"path {path!r} is not a tile path: {why}", field="path", rule="invalid_tile_path")


def parse_tile_path(path: str) -> TileRequest:
    """The tile a path names, strictly: canonical index groups, level 0–63, partial width 1–255."""
    parts = path.split("/")
    if len(parts) < 2:
        raise _bad_path(path, "expected <level>/<index>, with level a number or 'entries'")
    level_part, rest = parts[0], parts[1:]
    level: int | None
    if level_part == "entries":
        level = None
    elif _LEVEL.fullmatch(level_part) and int(level_part) <= MAX_LEVEL:
        level = int(level_part)
    else:
        raise _bad_path(path, f"level {level_part!r} must be 0 to {MAX_LEVEL} or 'entries'")
    width: int | None = None
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        if not _WIDTH.fullmatch(rest[-1]) or int(rest[-1]) >= TILE_WIDTH:
            raise _bad_path(path, f"a partial tile's width must be 1 to {TILE_WIDTH - 1}")
        width = int(rest[-1])
        rest = [*rest[:-2], rest[-2][: -len(".p")]]
    if not _LAST_PART.fullmatch(rest[-1]) or not all(_INDEX_PART.fullmatch(part) for part in rest[:-1]):
        raise _bad_path(path, "the index is 3-digit groups, every group but the last prefixed by 'x'")
    index = int("".join(part.lstrip("x") for part in rest))
    if encode_index(index) != "/".join(rest):
        raise _bad_path(path, f"the index is not written canonically (expected {encode_index(index)})")
    return TileRequest(level, index, width)


def available(size: int, level: int) -> int:
    """How many nodes at height 8·level a tree of ``size`` leaves has (complete subtrees only)."""
    return size >> (TILE_HEIGHT * level)


def _check_within(request: TileRequest, size: int) -> None:
    """Refuse a tile the signed tree does not hold whole (a full tile of a partial level is not there yet)."""
    level = request.level or 0
    end = request.index * TILE_WIDTH + request.wanted
    if end > available(size, level):
        what = "entry bundle" if request.level is None else f"level-{level} tile"
        raise NotFound(
            f"{what} {request.index} with {request.wanted} item(s) is beyond the latest checkpoint "
            f"({size} leaves; {available(size, level)} node(s) at that level)",
            field="path",
            rule="tile_beyond_checkpoint",
        )


def hash_tile(cursor: SideCursor, request: TileRequest, size: int) -> bytes:
    """The concatenated node hashes of one hash tile, read from the stored subtree hashes."""
    assert request.level is not None
    _check_within(request, size)
    first = request.index * TILE_WIDTH
    height = TILE_HEIGHT * request.level
    nodes = StoredTree(cursor).nodes((height, first + offset) for offset in range(request.wanted))
    return b"".join(nodes[(height, first + offset)] for offset in range(request.wanted))


def entry_bundle(store: EventStore, cursor: SideCursor, request: TileRequest, size: int) -> bytes:
    """The length-prefixed event digests of one entry bundle, recomputed from the stored rows."""
    assert request.level is None
    _check_within(request, size)
    first = request.index * TILE_WIDTH
    cursor.execute(
        "SELECT leaf_index, position FROM merkle_leaves WHERE leaf_index >= %s AND leaf_index < %s ORDER BY leaf_index",
        (first, first + request.wanted),
    )
    positions = [int(row["position"]) for row in cursor.fetchall()]
    if len(positions) != request.wanted:
        raise LookupError(f"the Merkle follower holds {len(positions)} of the bundle's {request.wanted} leaves")
    rows = {row.id: row for row in store.raw_rows(positions[0], positions[-1] - positions[0] + 1)}
    out = bytearray()
    for position in positions:
        digest = hashlib.sha256(stored_bytes(rows[position].state)).digest()
        out += len(digest).to_bytes(2, "big") + digest
    return bytes(out)
