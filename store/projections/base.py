"""What a projection is: its tables, an incremental apply and a full build.

Both take a ``suffix`` for the table names, so one code path writes the live
tables (``""``), a rebuild (``"_rebuild"``) and a check's scratch copy
(``"_check"``); both compute rows with the same pure function of events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from store.reading import Checkpoint
from store.records import RecordedEvent

__all__ = ["Apply", "Build", "Progress", "Projection"]

# Called with the number of events just folded into a build.
Progress = Callable[[int], None]
# (conn, suffix, batch, bound): recompute the rows the batch touches, from events <= bound.
Apply = Callable[[Connection, str, Sequence[RecordedEvent], Checkpoint], None]
# (conn, suffix, bound, progress): fill empty tables from every event <= bound.
Build = Callable[[Connection, str, Checkpoint, Progress], None]


@dataclass(frozen=True, slots=True)
class Projection:
    name: str
    tables: tuple[str, ...]  # in the order a comparison reports them
    keys: tuple[tuple[str, ...], ...]  # each table's primary key, for ordered comparison
    apply: Apply
    build: Build
    # Makes an ``apply`` that remembers between batches (one per runner); None: ``apply``.
    remembering: Callable[[], Apply] | None = None

    def handler(self, suffix: str = "") -> Callable[[Connection, Sequence[RecordedEvent]], None]:
        """The ``Subscription`` handler: apply the batch up to its last event."""
        apply = self.apply if self.remembering is None else self.remembering()

        def handle(conn: Connection, batch: Sequence[RecordedEvent]) -> None:
            if batch:
                apply(conn, suffix, batch, Checkpoint.after(batch[-1]))

        return handle
