"""The witness quorum a verifier demands: at least N valid cosignatures, by keys it chose, on one checkpoint.

The keys come from the verifier, never from the ledger or the bundle: a cosignature only
means a second party saw this tree when the verifier trusts that party's key.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.witness import WitnessKey, cosigners

QUORUM_RULE = "witness_quorum_not_met"


@dataclass(frozen=True)
class Quorum:
    """The witness keys a verifier trusts and how many of them must have cosigned."""

    keys: tuple[WitnessKey, ...]
    needed: int

    def problem(self, note: str, size: int) -> str | None:
        """None when enough given witnesses cosigned ``note``; otherwise why not, naming who did."""
        signed = cosigners(note, list(self.keys))
        if len(signed) >= self.needed:
            return None
        return (
            f"the checkpoint of {size} events carries {len(signed)} valid cosignature(s) "
            f"by the given witnesses ({', '.join(signed) or 'none'}), {self.needed} required"
        )
