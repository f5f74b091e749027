"""The archive runner's memory of folded streams: a batch refolds only the streams
that moved, and whatever path the log took past the runner, its rows stay those of
a rebuild."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import Connection, Engine

from domain.commands import ReportProgress
from store.event_store import EventStore
from store.projections import cadre_archive
from store.projections.check import check
from store.projections.facts_memory import FactsMemory
from store.projections.log import StreamEvent, read_streams
from store.reading import Checkpoint
from store.subscription import Subscription

from .helpers import Case, at, scripted, unit_actor

pytestmark = pytest.mark.integration

PROJECTION = cadre_archive.PROJECTION


def _progress(case: Case, day: int) -> None:
    case.do(ReportProgress(actor=unit_actor("ua"), text=f"进展 {day}"), at(2025, 4, day))


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every set of streams the archive reads from the log, in order."""
    reads: list[list[str]] = []

    def counted(
        conn: Connection, stream_ids: Sequence[str], bound: Checkpoint
    ) -> dict[str, list[StreamEvent]]:
        reads.append(sorted(stream_ids))
        return read_streams(conn, stream_ids, bound)

    monkeypatch.setattr(cadre_archive, "read_streams", counted)
    return reads


def _assert_rebuilt(engine: Engine) -> None:
    report = check(engine, PROJECTION)
    assert report.ok, [d.describe() for d in report.differences]


def test_a_batch_reads_only_the_streams_that_moved(
    engine: Engine, event_store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = [scripted(event_store, f"M{n}", "ua", "cadre-m", []) for n in range(5)]
    handler = PROJECTION.handler()
    reads = _counting_reads(monkeypatch)
    Subscription(engine, PROJECTION.name, handler).run_once()
    assert reads == [sorted(c.stream_id for c in cases)]  # the first batch folds them all

    _progress(cases[2], 1)
    Subscription(engine, PROJECTION.name, handler).run_once()
    assert reads[1:] == [[cases[2].stream_id]]  # the cadre's other four come from memory
    _assert_rebuilt(engine)

    # Without a memory (a handler of its own), every case of the cadre is read again.
    _progress(cases[3], 2)
    Subscription(engine, PROJECTION.name, PROJECTION.handler()).run_once()
    assert reads[2:] == [sorted(c.stream_id for c in cases)]
    _assert_rebuilt(engine)


def test_streams_that_moved_past_the_runner_are_read_again(
    engine: Engine, event_store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild's swap can move the checkpoint past events this runner never saw: the
    head of such a stream is past what the runner remembers, so it is folded again."""
    cases = [scripted(event_store, f"J{n}", "ua", "cadre-j", []) for n in range(3)]
    handler = PROJECTION.handler()
    Subscription(engine, PROJECTION.name, handler).run_once()
    _progress(cases[0], 1)
    # Another runner (a memory of its own) takes this event; ours never sees it.
    Subscription(engine, PROJECTION.name, PROJECTION.handler()).run_once()
    reads = _counting_reads(monkeypatch)
    _progress(cases[1], 2)
    Subscription(engine, PROJECTION.name, handler).run_once()
    assert reads == [sorted([cases[0].stream_id, cases[1].stream_id])]
    _assert_rebuilt(engine)


class _Fails(RuntimeError):
    pass


def test_a_failed_batch_leaves_nothing_remembered(
    engine: Engine, event_store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = [scripted(event_store, f"F{n}", "ua", "cadre-f", []) for n in range(3)]
    handler = PROJECTION.handler()
    Subscription(engine, PROJECTION.name, handler).run_once()

    def failing(*args: object, **kwargs: object) -> None:
        raise _Fails("the rows could not be written")

    _progress(cases[0], 1)
    with monkeypatch.context() as patch:
        patch.setattr(cadre_archive, "_recompute", failing)
        with pytest.raises(_Fails):
            Subscription(engine, PROJECTION.name, handler).run_once()
    reads = _counting_reads(monkeypatch)
    Subscription(engine, PROJECTION.name, handler).run_once()
    assert reads == [sorted(c.stream_id for c in cases)]  # all folded again
    _assert_rebuilt(engine)


class _Driver:
    """Answers the heads query with fixed versions."""

    def __init__(self, heads: dict[str, int]) -> None:
        self.heads = heads
        self.asked: list[list[str]] = []

    def execute(self, sql: str, params: tuple[list[str]]) -> list[tuple[str, int]]:
        self.asked.append(list(params[0]))
        return [(s, self.heads[s]) for s in params[0] if s in self.heads]


def test_memory_answers_only_for_unmoved_heads_and_forgets_the_oldest() -> None:
    memory: FactsMemory[str] = FactsMemory(2)
    memory.at(Checkpoint(10, 0))
    memory.keep("a", 3, "facts a3")
    memory.keep("b", 5, "facts b5")
    driver = _Driver({"a": 3, "b": 6})
    assert memory.fresh(driver, ["a", "b", "c"]) == {"a": "facts a3"}  # b moved, c unknown
    assert driver.asked == [["a", "b"]]  # nothing asked of streams never folded
    memory.keep("c", 1, "facts c1")  # a was used last, so b goes
    assert memory.fresh(_Driver({"a": 3, "b": 5, "c": 1}), ["a", "b", "c"]) == {
        "a": "facts a3",
        "c": "facts c1",
    }
    assert len(memory) == 2
    memory.at(Checkpoint(12, 0))
    assert len(memory) == 2  # bounds that grow keep it
    memory.at(Checkpoint(11, 5))
    assert len(memory) == 0  # a bound behind the last forgets everything
    with pytest.raises(ValueError, match="size"):
        FactsMemory(0)
