"""Merkle tree hash of RFC 6962 (Certificate Transparency), built incrementally.

    leaf hash  = sha256(0x00 || leaf)
    node hash  = sha256(0x01 || left || right)
    empty tree = sha256("")

For n leaves the tree splits at the largest power of two below n, so the
root of every prefix of the log is defined, and ``MerkleAccumulator`` gives
it in one pass: it keeps the roots of the perfect subtrees ("peaks") and
folds them right to left on demand. Anyone can recompute a seal's root with
an RFC 6962 implementation from the events' hashes in log order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["EMPTY_ROOT", "MerkleAccumulator", "merkle_root"]

EMPTY_ROOT = hashlib.sha256(b"").digest()
_sha256 = hashlib.sha256


class MerkleAccumulator:
    __slots__ = ("_heights", "_peaks", "count")

    def __init__(self) -> None:
        self._peaks: list[bytes] = []
        self._heights: list[int] = []
        self.count = 0

    def add(self, leaf: bytes) -> None:
        self._push(_sha256(b"\x00" + leaf).digest(), 0)
        self.count += 1

    def extend(self, leaves: list[bytes]) -> None:
        """``add`` of many leaves, a level at a time: each perfect subtree the
        leaves fill (aligned to the count so far) is hashed as one block."""
        nodes = [_sha256(b"\x00" + leaf).digest() for leaf in leaves]
        start, total = 0, len(nodes)
        while start < total:
            # The largest block that fits and starts at a multiple of its size.
            size = 1 << ((total - start).bit_length() - 1)
            if self.count:
                size = min(size, self.count & -self.count)
            block, height = nodes[start : start + size], 0
            while len(block) > 1:
                block = [
                    _sha256(b"\x01" + left + right).digest()
                    for left, right in zip(block[::2], block[1::2], strict=True)
                ]
                height += 1
            self._push(block[0], height)
            self.count += size
            start += size

    def _push(self, node: bytes, height: int) -> None:
        peaks, heights = self._peaks, self._heights
        while heights and heights[-1] == height:
            node = _sha256(b"\x01" + peaks.pop() + node).digest()
            heights.pop()
            height += 1
        peaks.append(node)
        heights.append(height)

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
