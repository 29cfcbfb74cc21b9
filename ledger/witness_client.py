"""The ledger's side of tlog-witness: submit a checkpoint with a consistency proof, keep the cosignature.

A witness that answers 409 states the size it last cosigned; the ledger then sends the
proof from that size, once. Anything but a valid cosignature by the configured key is
an error the caller reports; the checkpoint itself stays signed.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from ledger.signed_note import Checkpoint
from ledger.witness import WitnessKey, cosignature_time

Prover = Callable[[int, int], list[bytes]]
"""PROOF(old, new) over the ledger's own tree."""


class WitnessRefused(Exception):
    """A witness did not cosign: its status and its words."""

    rule = "witness_refused"

    def __init__(self, witness: str, status: int, detail: str) -> None:
        super().__init__(f"witness {witness} answered {status}: {detail.strip()[:200]}")
        self.status = status


@dataclass(frozen=True)
class Witness:
    """Where a witness listens and the key its cosignatures must verify with."""

    url: str
    key: WitnessKey


def request_body(old: int, proof: list[bytes], note: str) -> bytes:
    """The add-checkpoint body."""
    lines = [f"old {old}", *(base64.b64encode(node).decode() for node in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode()


def submit(witness: Witness, checkpoint: Checkpoint, old: int, prove: Prover, timeout: float = 10.0) -> str:
    """The witness's cosignature line on ``checkpoint``, sending the proof from ``old`` (or from the size it holds)."""
    url = witness.url.rstrip("/") + "/add-checkpoint"
    for _ in range(2):
        proof = prove(old, checkpoint.size) if 0 < old < checkpoint.size else []
        status, content_type, text = _post(url, request_body(old, proof, checkpoint.note), timeout)
        if status == 409 and content_type.startswith("text/x.tlog.size"):
            held = text.strip()
            if held.isdigit() and int(held) != old and int(held) <= checkpoint.size:
                old = int(held)
                continue
        if status != 200:
            raise WitnessRefused(witness.key.name, status, text)
        line = next((line + "\n" for line in text.splitlines() if line.split(" ")[1:2] == [witness.key.name]), "")
        if not line or cosignature_time(checkpoint.note + line, witness.key) is None:
            raise WitnessRefused(witness.key.name, 200, "no valid cosignature by the configured key")
        return line
    raise WitnessRefused(witness.key.name, 409, "the witness holds another view of the log")


def _post(url: str, body: bytes, timeout: float) -> tuple[int, str, str]:
    """Status, content type and text of one POST; an unreachable witness is status 0."""
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.headers.get("Content-Type", ""), answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as error:
        return 0, "", f"unreachable: {error}"
