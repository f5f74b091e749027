"""Merkle tree hash of RFC 6962 (Certificate Transparency), built incrementally.

    leaf hash  = sha256(0x00 || leaf)
    node hash  = sha256(0x01 || left || right)
    empty tree = sha256("")

For n leaves the tree splits at the largest power of two below n, so the
root of every prefix of the log is defined, and ``MerkleAccumulator`` gives
it in one pass: it keeps the roots of the perfect subtrees ("peaks") and
folds them right to left on demand. Anyone can recompute a seal's root with
an RFC 6962 implementation from the leaves ``event_leaf`` describes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["EMPTY_ROOT", "MerkleAccumulator", "event_leaf", "merkle_root"]

EMPTY_ROOT = hashlib.sha256(b"").digest()
_sha256 = hashlib.sha256


def event_leaf(tx_id: int, position: int, event_hash: bytes) -> bytes:
    """The leaf of one event: its transaction id and position (8 bytes each,
    big-endian) and its chain hash, which covers every immutable field."""
    return tx_id.to_bytes(8, "big") + position.to_bytes(8, "big") + event_hash


class MerkleAccumulator:
    __slots__ = ("_heights", "_peaks", "count")

    def __init__(self) -> None:
        self._peaks: list[bytes] = []
        self._heights: list[int] = []
        self.count = 0

    def add(self, leaf: bytes) -> None:
        node = _sha256(b"\x00" + leaf).digest()
        height = 0
        peaks, heights = self._peaks, self._heights
        while heights and heights[-1] == height:
            node = _sha256(b"\x01" + peaks.pop() + node).digest()
            heights.pop()
            height += 1
        peaks.append(node)
        heights.append(height)
        self.count += 1

    def root(self) -> bytes:
        if not self._peaks:
            return EMPTY_ROOT
        node = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            node = _sha256(b"\x01" + peak + node).digest()
        return node


def merkle_root(leaves: Iterable[bytes]) -> bytes:
    accumulator = MerkleAccumulator()
    for leaf in leaves:
        accumulator.add(leaf)
    return accumulator.root()
