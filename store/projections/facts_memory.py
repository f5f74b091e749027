"""What a projection runner remembers of the streams it folded: each stream's facts at
the version they were folded at, so a batch refolds only the streams that moved.

Facts are a pure function of a stream's events, and the log is append-only, so a
stream's facts stay right for as long as its head is the version they were folded at.
``fresh`` therefore asks ``streams`` for the heads (one primary-key lookup per
stream, no event data) and answers from memory only where the head has not moved.
Folded facts include no event past the batch's bound; a runner's bounds only grow,
and when one does not (a retried batch cut smaller) memory is cleared, as it is when
a batch fails. The runner holds its projection's lock, so it is the only writer of
this memory; one runner, one memory (``Projection.handler``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from store.reading import Checkpoint

__all__ = ["FactsMemory"]

F = TypeVar("F")

_HEADS = "SELECT stream_id, version FROM streams WHERE stream_id = ANY(%s)"


class FactsMemory(Generic[F]):
    """The facts of the ``size`` streams used last, by stream id."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("size must be >= 1")
        self.size = size
        self._kept: OrderedDict[str, tuple[int, F]] = OrderedDict()
        self._bound: Checkpoint | None = None

    def __len__(self) -> int:
        return len(self._kept)

    def clear(self) -> None:
        self._kept.clear()
        self._bound = None

    def at(self, bound: Checkpoint) -> None:
        """A batch up to ``bound`` begins: forget everything if it is behind the last."""
        if self._bound is not None and bound < self._bound:
            self.clear()
        self._bound = bound

    def fresh(self, driver: Any, stream_ids: Sequence[str]) -> dict[str, F]:
        """The remembered facts of those of ``stream_ids`` whose head has not moved."""
        if not self._kept:
            return {}
        asked = [s for s in stream_ids if s in self._kept]
        if not asked:
            return {}
        found: dict[str, F] = {}
        for stream_id, version in driver.execute(_HEADS, (asked,)):
            version_kept, facts = self._kept[stream_id]
            if version_kept == version:
                found[stream_id] = facts
                self._kept.move_to_end(stream_id)
        return found

    def keep(self, stream_id: str, version: int, facts: F) -> None:
        """``facts`` of the stream's events up to ``version`` (its last one read)."""
        self._kept[stream_id] = (version, facts)
        self._kept.move_to_end(stream_id)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)
