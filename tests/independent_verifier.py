"""A second bundle verifier, written from docs/bundle-format.md alone: it imports nothing of the ledger.

Only hashlib, json, base64 and cryptography. The tests give it every bundle they forge and
require the same verdict (intact or not) as ``ledger.bundle_verify``: two readings of one
document that disagree mean the document, or one of them, is wrong.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "custody-ledger/bundle/v2"
TOP = {"format", "ledger_id", "product_id", "checkpoint", "key_events", "events", "heads"}
DOCUMENT_FIELDS = {
    "QcResultsRecorded": ("document",), "BatchQcRecorded": ("document",), "ProductReleased": ("document",),
    "BatchReleased": ("document",), "ExceptionalReleaseApproved": ("document",),
    "ExceptionalReleaseRequested": ("document",), "ShipmentReceived": ("document", "manifest"),
    "ConsentSigned": ("document",), "AnnotationAdded": ("document",),
}  # fmt: skip
EVENT_PREFIX = b"custody-ledger/event/v1\n"
DASH = "\u2014 "


class Refused(Exception):
    """The bundle cannot be trusted (the first reason found)."""


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def node(left: bytes, right: bytes) -> bytes:
    return sha(b"\x01" + left + right)


def included(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0 or len(p) != 32:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node(p, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            r = node(r, p)
        fn, sn = fn // 2, sn // 2
    return sn == 0 and r == root


def ed25519_ok(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def jcs(value: Any) -> str:
    """RFC 8785 for the values an event body holds (no fractional numbers in them)."""
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(jcs(k) + ":" + jcs(value[k]) for k in sorted(value, key=lambda k: k.encode("utf-16-be")))
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return json.dumps(value, ensure_ascii=False)


def strict_json(text: str) -> Any:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            raise Refused("duplicate member name")
        return dict(items)

    def constant(name: str) -> Any:
        raise Refused(f"{name} is not I-JSON")

    return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)


def read_note(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    if not note.endswith("\n") or any(c != "\n" and (ord(c) < 32 or ord(c) == 127) for c in note):
        raise Refused("note: trailing newline / control character")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise Refused("note: no blank line")
    sigs = []
    for line in note[cut + 2 : -1].split("\n"):
        if not line.startswith(DASH) or len(line[2:].split(" ")) != 2:
            raise Refused("note: a line after the blank line is not a signature")
        name, b64 = line[2:].split(" ")
        raw = base64.b64decode(b64, validate=True)
        if len(raw) < 5:
            raise Refused("note: short signature")
        sigs.append((name, raw[:4], raw[4:]))
    return note[: cut + 1], sigs


def note_signed(note: str, name: str, keys: list[bytes]) -> bool:
    text, sigs = read_note(note)
    by_hash = {sha(name.encode() + b"\n\x01" + k)[:4]: k for k in keys}
    good = False
    for sig_name, key_hash, sig in sigs:
        if sig_name == name and key_hash in by_hash:
            if not ed25519_ok(by_hash[key_hash], sig, text.encode()):
                return False
            good = True
    return good


def open_entry(entry: Any, size: int, root: bytes) -> tuple[int, bytes, dict[str, Any], bytes]:
    """(leaf index, stored bytes, body, signature) of a proven, well-formed entry."""
    if not isinstance(entry, dict) or set(entry) != {"leaf_index", "stored", "proof"}:
        raise Refused("entry shape")
    stored = entry["stored"].encode()
    index = entry["leaf_index"]
    path = [base64.b64decode(p, validate=True) for p in entry["proof"]]
    if type(index) is not int or not included(sha(b"\x00" + sha(stored)), index, size, path, root):
        raise Refused("inclusion")
    if not stored.startswith(b'{"body":') or not stored.endswith(b'"}'):
        raise Refused("envelope shape")
    tail = stored.rfind(b',"hash":"')
    body_bytes = stored[8:tail]
    rest = json.loads(b"{" + stored[tail + 1 :])
    if set(rest) != {"hash", "signature"} or sha(body_bytes).hex() != rest["hash"]:
        raise Refused("hash")
    body = strict_json(body_bytes.decode())
    if jcs(body).encode() != body_bytes:
        raise Refused("not canonical")
    signature = base64.b64decode(rest["signature"], validate=True)
    if (
        stored
        != b'{"body":'
        + body_bytes
        + b',"hash":"'
        + rest["hash"].encode()
        + b'","signature":"'
        + rest["signature"].encode()
        + b'"}'
    ):
        raise Refused("envelope shape")
    return index, stored, body, signature


class Keys:
    """Key history per the document: validity by recorded_at and by leaf index."""

    def __init__(self) -> None:
        self.keys: dict[str, dict[str, Any]] = {}
        self.owner_of: dict[str, str] = {}
        self.role_of: dict[str, str] = {}
        self.genesis_leaf: int | None = None

    def valid(self, leaf: int, body: dict[str, Any], signature: bytes, digest: bytes) -> bool:
        key = self.keys.get(body["key_id"])
        if key is None or body["recorded_at"] < key["from"] or body["actor"]["user_id"] != key["owner"]:
            return False
        if key["revoked_leaf"] is not None and (body["recorded_at"] > key["revoked_at"] or leaf > key["revoked_leaf"]):
            return False
        return ed25519_ok(key["public"], signature, EVENT_PREFIX + digest)

    def by_registrar(self, leaf: int, body: dict[str, Any], signature: bytes, digest: bytes) -> bool:
        return self.valid(leaf, body, signature, digest) and self.role_of.get(body["actor"]["user_id"]) in {
            "admin",
            "system",
        }

    def replay(self, entries: list[tuple[int, bytes, dict[str, Any], bytes]], trusted: set[bytes] | None) -> None:
        for leaf, _, body, signature in entries:
            digest, payload, kind = sha(jcs(body).encode()), body["payload"], body["type"]
            if kind == "StaffMemberRegistered":
                if self.genesis_leaf is not None and not self.by_registrar(leaf, body, signature, digest):
                    continue
                self.owner_of[body["aggregate_id"]] = payload["username"]
                self.role_of[payload["username"]] = payload["role"]
            elif kind == "SigningKeyRegistered":
                public = base64.b64decode(payload["public_key"], validate=True)
                owner = self.owner_of.get(body["aggregate_id"])
                if sha(public)[:16].hex() != payload["key_id"] or owner is None:
                    continue
                if self.genesis_leaf is None:
                    self.genesis_leaf = leaf
                    if (trusted is not None and public not in trusted) or body["key_id"] != payload["key_id"]:
                        continue
                    if not ed25519_ok(public, signature, EVENT_PREFIX + digest):
                        continue
                elif not self.by_registrar(leaf, body, signature, digest):
                    continue
                self.keys[payload["key_id"]] = {
                    "public": public, "owner": owner, "from": body["recorded_at"], "leaf": leaf,
                    "genesis": leaf == self.genesis_leaf, "revoked_at": None, "revoked_leaf": None,
                }  # fmt: skip
            elif kind == "SigningKeyRevoked" and self.by_registrar(leaf, body, signature, digest):
                key = self.keys.get(payload["key_id"])
                if key is not None and key["revoked_leaf"] is None:
                    key["revoked_at"], key["revoked_leaf"] = body["recorded_at"], leaf

    def checkpoint_keys(self, size: int) -> list[bytes]:
        return [
            k["public"] for k in self.keys.values()
            if k["owner"] == "ledger" and (k["genesis"] or size > k["leaf"])
            and (k["revoked_leaf"] is None or size <= k["revoked_leaf"])
        ]  # fmt: skip


def check(text: str, trusted: set[bytes] | None) -> None:
    """Raise ``Refused`` unless the bundle verifies."""
    bundle = strict_json(text)
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT or set(bundle) - {"documents"} != TOP:
        raise Refused("format or top-level keys")
    note_text, _ = read_note(bundle["checkpoint"])
    lines = note_text[:-1].split("\n")
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
    if origin != "custody-ledger/" + bundle["ledger_id"] or str(size) != lines[1] or len(root) != 32:
        raise Refused("checkpoint body")
    key_entries = [open_entry(e, size, root) for e in bundle["key_events"]]
    if [e[0] for e in key_entries] != sorted({e[0] for e in key_entries}):
        raise Refused("key events not in leaf order")
    keys = Keys()
    keys.replay(key_entries, trusted)
    if keys.genesis_leaf is None or not any(k["genesis"] for k in keys.keys.values()):
        raise Refused("no trusted genesis")
    for leaf, _, body, signature in key_entries:
        if leaf < keys.genesis_leaf and not keys.valid(leaf, body, signature, sha(jcs(body).encode())):
            raise Refused("an event before the genesis key is not signed by it")
    if not note_signed(bundle["checkpoint"], origin, keys.checkpoint_keys(size)):
        raise Refused("checkpoint signature")
    events = [open_entry(e, size, root) for e in bundle["events"]]
    if not events:
        raise Refused("no event")
    chains: dict[str, list[tuple[int, bytes, dict[str, Any], bytes]]] = {bundle["product_id"]: events}
    for entry in key_entries:
        chains.setdefault(entry[2]["aggregate_id"], []).append(entry)
    for aggregate, chain in chains.items():
        previous = None
        for version, (leaf, _, body, signature) in enumerate(chain, start=1):
            if body["aggregate_id"] != aggregate or body["version"] != version or body["prev_hash"] != previous:
                raise Refused(f"chain of {aggregate}")
            if body["ledger_id"] != bundle["ledger_id"]:
                raise Refused("foreign event")
            digest = sha(jcs(body).encode())
            if aggregate == bundle["product_id"] and not keys.valid(leaf, body, signature, digest):
                raise Refused("event signature")
            previous = digest.hex()
    heads = bundle["heads"]
    if not isinstance(heads, dict) or set(heads) != {"commitment", "proofs"}:
        raise Refused("heads shape")
    leaf, _, body, signature = open_entry(heads["commitment"], size, root)
    payload = body["payload"]
    if leaf != size - 1 or body["type"] != "AggregateHeadsCommitted" or body["actor"]["user_id"] != "ledger":
        raise Refused("commitment is not the ledger's last leaf")
    if body["ledger_id"] != bundle["ledger_id"] or payload["tree_size"] != leaf:
        raise Refused("commitment payload")
    if not keys.valid(leaf, body, signature, sha(jcs(body).encode())):
        raise Refused("commitment signature")
    map_root = base64.b64decode(payload["map_root"], validate=True)
    for aggregate, chain in chains.items():
        last_stored, last_body = chain[-1][1], chain[-1][2]
        data = aggregate.encode() + last_body["version"].to_bytes(8, "big") + sha(last_stored)
        proof = heads["proofs"].get(aggregate)
        if not isinstance(proof, dict) or set(proof) != {"index", "proof"}:
            raise Refused(f"no head proof for {aggregate}")
        path = [base64.b64decode(p, validate=True) for p in proof["proof"]]
        if not included(sha(b"\x00" + data), proof["index"], payload["aggregates"], path, map_root):
            raise Refused(f"{aggregate} is not complete")
    check_documents(bundle.get("documents", []), [body for _, _, body, _ in events])


def media_type(content: bytes) -> str | None:
    """The media type of a document's bytes, by the rules of the format page."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if b"%PDF-" in content[:1024]:
        return "application/pdf"
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if any((ord(c) < 0x20 and c not in "\t\r\n") or ord(c) == 0x7F for c in text):
        return None
    first = text.lstrip("\r\n").split("\n", 1)[0]
    return "text/csv" if any(d in first for d in ",;\t") else None


def check_documents(listing: Any, bodies: list[dict[str, Any]]) -> None:
    """Step 8: the listing is exactly the signed references; every included file is the one referenced."""
    signed = {}
    for body in bodies:
        for field in DOCUMENT_FIELDS.get(body["type"], ()):
            ref = body["payload"].get(field)
            if ref is not None:
                signed[ref["sha256"]] = (ref["media_type"], ref["size_bytes"])
    if [entry["sha256"] for entry in listing] != sorted(signed):
        raise Refused("documents listed are not the referenced ones")
    for entry in listing:
        if set(entry) - {"sha256", "media_type", "size_bytes", "kind", "referenced_by", "content_base64"}:
            raise Refused("document entry keys")
        if (entry["media_type"], entry["size_bytes"]) != signed[entry["sha256"]]:
            raise Refused("document described otherwise than signed")
        if "content_base64" in entry:
            content = base64.b64decode(entry["content_base64"], validate=True)
            if sha(content).hex() != entry["sha256"] or len(content) != entry["size_bytes"]:
                raise Refused("document content does not hash to its reference")
            if media_type(content) != entry["media_type"]:
                raise Refused("document content is not of its media type")


def verify(text: str, trusted: set[bytes] | None) -> list[str]:
    """[] when the bundle verifies, else one reason (any malformation counts as a refusal)."""
    try:
        check(text, trusted)
    except Refused as refusal:
        return [str(refusal)]
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        return [f"malformed: {type(error).__name__}: {error}"]
    return []
