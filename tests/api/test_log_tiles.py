"""The log over HTTP as C2SP tlog-tiles: a monitor rebuilds the signed root and each event's leaf from tiles alone."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from ledger.merkle_log import checkpoint
from ledger.service import CustodyLedger
from ledger.verifier import stored_bytes


def _mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, written out here as the oracle."""
    if len(leaves) == 1:
        return leaves[0]
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:split]) + _mth(leaves[split:])).digest()


def _read_note(note: str) -> tuple[int, bytes]:
    """The size and root of a checkpoint note (origin, size, base64 root, then extensions and signatures)."""
    lines = note.split("\n")
    return int(lines[1]), base64.b64decode(lines[2])


def _path(index: int) -> str:
    groups = f"{index:03d}"
    assert index < 1000, "the test ledger is small"
    return groups


def test_a_monitor_rebuilds_the_checkpoint_root_and_every_leaf_from_tiles_and_entries(
    sign_in: Any, ledger: CustodyLedger
) -> None:
    made = checkpoint(ledger)
    session = sign_in("auditor")
    answer = session.get("/log/checkpoint")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.text == made.note
    size, root = _read_note(answer.text)
    assert size == made.size > 0

    leaves: list[bytes] = []
    entries: list[bytes] = []
    for index in range((size + 255) // 256):
        width = min(256, size - index * 256)
        suffix = "" if width == 256 else f".p/{width}"
        tile = session.get(f"/log/tile/0/{_path(index)}{suffix}")
        bundle = session.get(f"/log/tile/entries/{_path(index)}{suffix}")
        assert tile.status_code == bundle.status_code == 200, (tile.text, bundle.text)
        assert tile.headers["content-type"] == "application/octet-stream"
        assert len(tile.content) == 32 * width
        leaves += [tile.content[at : at + 32] for at in range(0, len(tile.content), 32)]
        data, at = bundle.content, 0
        while at < len(data):
            length = int.from_bytes(data[at : at + 2], "big")
            entries.append(data[at + 2 : at + 2 + length])
            at += 2 + length
    assert _mth(leaves) == root
    assert [hashlib.sha256(b"\x00" + entry).digest() for entry in entries] == leaves
    first_event = ledger.store.raw_rows(1, 1)[0].state
    assert entries[0] == hashlib.sha256(stored_bytes(first_event)).digest()


def test_tiles_stop_at_the_signed_size_and_bad_paths_name_the_rule(sign_in: Any, ledger: CustodyLedger) -> None:
    size = checkpoint(ledger).size
    session = sign_in("nurse")
    beyond = session.get(f"/log/tile/0/000.p/{size + 1}" if size < 255 else "/log/tile/0/x001/000")
    assert beyond.status_code == 404, beyond.text
    assert beyond.json()["rule"] == "tile_beyond_checkpoint"
    for path in ("0/7", "99/000", "0/000.p/0", "entries/x000/001"):
        refused = session.get(f"/log/tile/{path}")
        assert refused.status_code == 422, (path, refused.text)
        assert (refused.json()["field"], refused.json()["rule"]) == ("path", "invalid_tile_path")


def test_a_partial_tile_is_not_cached_for_good_as_it_will_grow(sign_in: Any, ledger: CustodyLedger) -> None:
    size = checkpoint(ledger).size
    session = sign_in("auditor")
    partial = session.get(f"/log/tile/0/000.p/{min(size, 255)}")
    assert partial.status_code == 200
    assert "immutable" not in partial.headers["cache-control"]


def test_the_tiles_need_a_signed_in_reader(client: Any, ledger: CustodyLedger) -> None:
    checkpoint(ledger)
    assert client.get("/log/checkpoint").status_code == 401
    assert client.get("/log/tile/0/000.p/1").status_code == 401


def test_before_any_checkpoint_there_is_nothing_to_serve(sign_in: Any) -> None:
    session = sign_in("auditor")
    assert session.get("/log/checkpoint").status_code == 404
    assert session.get("/log/tile/0/000.p/1").status_code == 404
