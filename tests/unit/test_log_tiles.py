"""C2SP tlog-tiles: tile paths read and written exactly as the spec writes them, tiles cut from the stored tree."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from domain.errors import InvalidInput, NotFound
from ledger.bench_tree import SCHEMA
from ledger.log_tiles import TileRequest, encode_index, hash_tile, parse_tile_path, tile_path
from ledger.merkle_tree import append_leaves
from ledger.side_cursor import SideCursor


@pytest.mark.parametrize(
    ("index", "path"),
    [
        (0, "000"),
        (7, "007"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),
        (5_000_000, "x005/x000/000"),
    ],
)
def test_an_index_is_written_in_3_digit_groups_prefixed_by_x_but_the_last(index: int, path: str) -> None:
    assert encode_index(index) == path
    assert parse_tile_path(f"0/{path}") == TileRequest(0, index, None)


@pytest.mark.parametrize(
    ("path", "request_"),
    [
        ("0/000", TileRequest(0, 0, None)),
        ("3/x001/234", TileRequest(3, 1234, None)),
        ("1/002.p/17", TileRequest(1, 2, 17)),
        ("entries/x001/000.p/255", TileRequest(None, 1000, 255)),
        ("63/000", TileRequest(63, 0, None)),
    ],
)
def test_a_tile_path_names_its_level_index_and_width_and_is_written_back_the_same(
    path: str, request_: TileRequest
) -> None:
    assert parse_tile_path(path) == request_
    assert tile_path(request_) == f"tile/{path}"


@pytest.mark.parametrize(
    "path",
    [
        "0",  # no index
        "64/000",  # level above 63
        "01/000",  # level with a leading zero
        "-1/000",
        "0/7",  # index not 3 digits
        "0/1000",
        "0/001/234",  # inner group without x
        "0/x000/234",  # not canonical: leading zero group
        "0/000.p/0",  # width 0
        "0/000.p/256",  # a full tile is never written as partial
        "0/000.p/017",  # width with a leading zero
        "0/000.p",  # width missing
        "leaves/000",
        "0/000/",
    ],
)
def test_a_path_that_is_not_a_canonical_tile_path_is_refused_naming_the_rule(path: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_tile_path(path)
    assert (refused.value.field, refused.value.rule) == ("path", "invalid_tile_path")


def _mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, written out here as the oracle."""
    if len(leaves) == 1:
        return leaves[0]
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:split]) + _mth(leaves[split:])).digest()


LEAVES = [hashlib.sha256(b"\x00" + bytes([i % 256, i // 256])).digest() for i in range(600)]


@pytest.fixture
def tree() -> SideCursor:
    connection = sqlite3.connect(":memory:")
    connection.row_factory = sqlite3.Row
    for statement in SCHEMA:
        connection.execute(statement)
    connection.executemany(
        "INSERT INTO merkle_leaves (leaf_index, position, leaf_hash) VALUES (?, ?, ?)",
        [(index, index + 1, leaf) for index, leaf in enumerate(LEAVES)],
    )
    cursor = SideCursor(connection.cursor(), "sqlite")
    append_leaves(cursor, 0, LEAVES)
    return cursor


def _hashes(tile: bytes) -> list[bytes]:
    return [tile[offset : offset + 32] for offset in range(0, len(tile), 32)]


def test_level_0_tiles_are_the_leaf_hashes_and_level_1_tiles_the_roots_of_full_level_0_tiles(
    tree: SideCursor,
) -> None:
    size = 600  # two full level-0 tiles and one of 88; two level-1 nodes
    assert _hashes(hash_tile(tree, TileRequest(0, 1, None), size)) == LEAVES[256:512]
    assert _hashes(hash_tile(tree, TileRequest(0, 2, 88), size)) == LEAVES[512:600]
    assert _hashes(hash_tile(tree, TileRequest(0, 2, 5), size)) == LEAVES[512:517]
    level_1 = _hashes(hash_tile(tree, TileRequest(1, 0, 2), size))
    assert level_1 == [_mth(LEAVES[0:256]), _mth(LEAVES[256:512])]


def test_a_monitor_rebuilds_the_signed_root_from_the_tiles_alone(tree: SideCursor) -> None:
    size = 600
    upper = _hashes(hash_tile(tree, TileRequest(1, 0, 2), size))
    tail = _hashes(hash_tile(tree, TileRequest(0, 2, 88), size))
    # MTH over 600 leaves = node(MTH[0:512], MTH[512:600]); MTH[0:512] = node(upper[0], upper[1]).
    left = hashlib.sha256(b"\x01" + upper[0] + upper[1]).digest()
    assert hashlib.sha256(b"\x01" + left + _mth(tail)).digest() == _mth(LEAVES)


@pytest.mark.parametrize(
    "request_",
    [
        TileRequest(0, 2, None),  # the third level-0 tile is not full at 600 leaves
        TileRequest(0, 2, 89),  # one hash more than the tree holds
        TileRequest(1, 0, 3),
        TileRequest(1, 0, None),
        TileRequest(2, 0, 1),  # no node at height 16 below 65,536 leaves
        TileRequest(0, 3, 1),
    ],
)
def test_a_tile_beyond_the_signed_tree_is_not_found(tree: SideCursor, request_: TileRequest) -> None:
    with pytest.raises(NotFound) as refused:
        hash_tile(tree, request_, 600)
    assert refused.value.rule == "tile_beyond_checkpoint"


def test_a_tile_is_served_up_to_the_signed_size_not_the_stored_one(tree: SideCursor) -> None:
    assert _hashes(hash_tile(tree, TileRequest(0, 0, 10), 10)) == LEAVES[:10]
    with pytest.raises(NotFound):
        hash_tile(tree, TileRequest(0, 0, 11), 10)
