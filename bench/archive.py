"""Benchmark of the projections' rebuild against a raw read of the same events.

    uv run python bench/archive.py [--url postgresql://…/postgres] [--events 1000000]
        [--projection NAME …] [--rounds 3] [--keep DATABASE]

Without --url an embedded PostgreSQL (pgserver) starts in a temporary folder:
a server shared with others may have a transaction left open, which holds
back every reader below its snapshot xmin. A fresh database is created and
migrated, and filled with realistic cases: histories driven through the
domain's ``decide`` by random commands (plans, progress, reminders, warnings,
overdue, escalation, extensions, closures sent back, reopening, withdrawal,
transfers, accountability), copied with other ids onto 10 cadres per unit.

At 100k events and at --events events, --rounds times (default 3), each in a fresh
child process (so its peak RSS is its own):

  raw      one ordered read of the events (the columns a build reads) into Python
           tuples, each event's JSON parsed into a dict by pydantic's parser (the
           one the builds use, so neither side has the faster parser)
  rebuild  ``store.projections.rebuild.rebuild`` of each projection, then
           ``rebuild_all`` (what ``zhenggai projections rebuild`` runs: every read model
           from one pass over the log)

and prints events per second (median), ratio = raw time / rebuild time, the raw time
being the mean of the raw reads just before and just after that rebuild (median, and
range over the rounds; goal >= 0.5: this machine's speed drifts by a third within
minutes, so one round says little), and the peak RSS of the process and of its
largest build worker (goal: at the larger size under 1.5x the peak at 100k).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psycopg
import pydantic_core
from psycopg.types.json import set_json_loads
from sqlalchemy import make_url, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.case import CaseState, decide, evolve
from domain.commands import (
    ApplyTolerance,
    Command,
    DenyExtension,
    Escalate,
    GrantExtension,
    MarkOverdue,
    OpenCase,
    RaiseWarning,
    RecordAccountability,
    RecordSatisfaction,
    RejectClosure,
    ReopenCase,
    ReportProgress,
    RequestClosure,
    RequestExtension,
    SendReminder,
    SubmitPlan,
    TransferResponsibility,
    VerifyClosure,
    WithdrawCase,
)
from domain.errors import DomainError
from domain.events import Event
from domain.vocabulary import AccountabilityAction, Actor, CaseKind, Role, Source
from store.engine import make_engine
from store.migrate import upgrade
from store.projections.rebuild import rebuild, rebuild_all
from store.projections.registry import PROJECTIONS

CST = timezone(timedelta(hours=8))
SUP = Actor(user_id="sup", role=Role.SUPERVISOR)
SYS = Actor(user_id="workflow", role=Role.SYSTEM)
UNIT = Actor(user_id="u", role=Role.UNIT, unit_id="UNT0")
TEMPLATES = 300


class _Life:
    """One case driven through ``decide``; a command the rules refuse at that moment
    is skipped, as the API would refuse it."""

    def __init__(self, rng: random.Random, opening: OpenCase, now: datetime) -> None:
        self.rng, self.now = rng, now
        self.events = decide(None, opening, now)
        self.state: CaseState | None = None
        for event in self.events:
            self.state = evolve(self.state, event)

    def later(self, days: int, hours: int = 0) -> None:
        self.now += timedelta(days=days, hours=hours, minutes=self.rng.randint(0, 59))

    def past_deadline(self, days: int) -> None:
        """To ``days`` after the deadline in force (China time), if that is later."""
        deadline = self.state.deadline if self.state is not None else None
        if deadline is not None:
            moment = datetime.combine(deadline, datetime.min.time(), CST)
            self.now = max(self.now, moment + timedelta(days=days, hours=9))

    def before_deadline(self, working_days: int) -> None:
        """To about ``working_days`` working days before the deadline, if that is later."""
        deadline = self.state.deadline if self.state is not None else None
        if deadline is not None:
            moment = datetime.combine(deadline, datetime.min.time(), CST)
            days = working_days * 7 // 5 + (1 if working_days else 0)
            self.now = max(self.now, moment - timedelta(days=days, hours=-9))

    def do(self, command: Command) -> bool:
        try:
            new = decide(self.state, command, self.now)
        except DomainError:
            return False
        for event in new:
            self.state = evolve(self.state, event)
        self.events.extend(new)
        return True


def _progress(life: _Life, reports: int) -> None:
    for _ in range(reports):
        life.later(life.rng.randint(3, 12))
        life.do(
            ReportProgress(
                actor=UNIT,
                text="已完成排查，正在整改，佐证材料见附件",
                percent_complete=life.rng.randint(10, 95),
            )
        )


def _close(life: _Life) -> None:
    """Closure asked for, sometimes sent back once, then verified; a satisfaction visit."""
    rng = life.rng
    life.later(rng.randint(1, 10))
    life.do(RequestClosure(actor=UNIT, summary="已整改完毕，申请销号"))
    if rng.random() < 0.2:
        life.later(rng.randint(1, 5))
        life.do(RejectClosure(actor=SUP, reason="佐证材料不足"))
        _progress(life, 1)
        life.later(rng.randint(1, 5))
        life.do(RequestClosure(actor=UNIT, summary="已补充佐证材料，再次申请销号"))
    life.later(rng.randint(1, 5))
    life.do(VerifyClosure(actor=SUP, comment="经现场核查，整改到位"))
    if rng.random() < 0.6:
        life.later(rng.randint(5, 30))
        life.do(RecordSatisfaction(actor=SUP, score_percent=rng.randint(60, 100)))


def template(rng: random.Random) -> list[Event]:
    """One case's life (about 15 events; ids are placeholders FID, CAD0, UNT0 …):
    a plan, progress reports, reminders; for about a third a warning, overdue and
    escalation, for some an accountability action or tolerance; extensions asked
    for and mostly granted; a transfer of responsibility in one case of ten;
    closure (sometimes sent back once) and a satisfaction visit; a reopening after
    the look-back in one closed case of ten. One case in seven is still open at
    the end, one in twenty-five withdrawn."""
    now = datetime(2025, rng.randint(1, 12), rng.randint(1, 28), 9, tzinfo=CST)
    opening = OpenCase(
        actor=SUP,
        finding_id="FID",
        source=rng.choice(list(Source)),
        title="河道垃圾长期未清理，群众反映强烈",
        description="城东河道沿岸堆积生活垃圾，影响周边居民生活",
        category=rng.choice(["ecology", "livelihood", "economy", "work_style"]),
        unit_id="UNT0",
        cadre_id="CAD0",
        kind=rng.choices([CaseKind.IMMEDIATE, CaseKind.TIME_LIMITED], [1, 3])[0],
    )
    life = _Life(rng, opening, now)
    if rng.random() < 0.04:
        life.later(rng.randint(1, 20))
        life.do(WithdrawCase(actor=SUP, reason="经核实问题不成立"))
        return life.events
    life.later(rng.randint(1, 5))
    life.do(SubmitPlan(actor=UNIT, plan="整改方案：分三步完成，明确责任人和时间节点"))
    _progress(life, rng.randint(1, 3))
    if rng.random() < 0.1:
        life.later(rng.randint(1, 10))
        reason = "职责调整"
        life.do(TransferResponsibility(actor=SUP, unit_id="UNT1", cadre_id="CAD1", reason=reason))
    if rng.random() < 0.25:
        life.later(rng.randint(1, 5))
        deadline = life.state.deadline if life.state is not None else None
        later = (deadline or life.now.date()) + timedelta(days=rng.randint(20, 60))
        reason = "工程量大，需延期"
        if life.do(RequestExtension(actor=UNIT, reason=reason, proposed_deadline=later)):
            life.later(rng.randint(1, 3))
            if rng.random() < 0.75:
                life.do(GrantExtension(actor=SUP, comment="同意延期"))
            else:
                life.do(DenyExtension(actor=SUP, reason="理由不充分"))
    late = rng.random() < 0.35
    if late or rng.random() < 0.5:  # the work runs up to the deadline: reminders
        for before in (5, 3, 1):
            life.before_deadline(before)
            life.do(SendReminder(actor=SYS, working_days_before=before))
    if late:
        life.do(RaiseWarning(actor=SYS))
        life.past_deadline(1)
        life.do(MarkOverdue(actor=SYS))
        top = rng.choices([1, 2, 3, 4], [8, 4, 2, 1])[0]
        for level in range(1, top + 1):
            life.past_deadline(1 + 5 * level)
            life.do(Escalate(actor=SYS, level=level))
        if top >= 3 and rng.random() < 0.5:
            action = rng.choice(list(AccountabilityAction))
            accountable = RecordAccountability(
                actor=SUP, action=action, reason="整改不力", by_decision=top < 4
            )
            life.do(accountable)
        elif top >= 2 and rng.random() < 0.2:
            life.do(ApplyTolerance(actor=SUP, reason="客观原因，容错免责", by_decision=True))
        _progress(life, 1)
    if rng.random() < 0.14:
        return life.events  # still open
    _close(life)
    if rng.random() < 0.1:
        life.later(rng.randint(60, 120))
        if life.do(ReopenCase(actor=SUP, reason="回头看发现问题反弹")):
            _progress(life, rng.randint(1, 2))
            _close(life)
    return life.events


def templates(seed: int) -> list[list[tuple[str, str]]]:
    rng = random.Random(seed)
    return [
        [(e.event_type, json.dumps(e.model_dump(mode="json"), ensure_ascii=False)) for e in t]
        for t in (template(rng) for _ in range(TEMPLATES))
    ]


def generate(url: str, first_case: int, target: int, shapes: list[list[tuple[str, str]]]) -> int:
    """Append whole cases with COPY until ``target`` events; returns the next case number."""
    rng = random.Random(first_case)
    written = 0
    case = first_case
    now = datetime.now(CST)
    with psycopg.connect(url) as conn:
        while written < target:
            streams: list[tuple[str, int]] = []
            rows: list[tuple[str, int, str, str, str, datetime]] = []
            while written < target and len(rows) < 50_000:
                shape = shapes[rng.randrange(len(shapes))]
                unit = case // 40
                ids = {
                    "FID": f"F{case:07d}",
                    "UNT0": f"U{unit:05d}",
                    "UNT1": f"U{(unit + 1) % 1250:05d}",
                    "CAD0": f"C{unit:05d}-{case % 10}",
                    "CAD1": f"C{(unit + 1) % 1250:05d}-{case % 7}",
                }
                stream = f"case-{ids['FID']}"
                for version, (kind, data) in enumerate(shape, start=1):
                    for token, value in ids.items():
                        data = data.replace(f'"{token}"', f'"{value}"')
                    rows.append((stream, version, str(uuid.uuid4()), kind, data, now))
                streams.append((stream, len(shape)))
                written += len(shape)
                case += 1
            with conn.cursor() as cur:
                with cur.copy(
                    "COPY streams (stream_id, type, version, head_hash) FROM STDIN"
                ) as cp:
                    for stream, version in streams:
                        cp.write_row((stream, "case", version, b"\x00" * 32))
                with cur.copy(
                    "COPY events (stream_id, version, event_id, type, schema_version, data, "
                    "metadata, recorded_at, previous_hash, hash) FROM STDIN"
                ) as cp:
                    for stream, version, event_id, kind, data, at in rows:
                        cp.write_row(
                            (stream, version, event_id, kind, 1, data, "{}", at, b"\0", b"\0")
                        )
            conn.commit()
    return case


ALL = "all"  # `zhenggai projections rebuild` without --projection: one pass for every model


def _peak_mib() -> tuple[float, float]:
    """Peak RSS of this process, and of the largest of its (finished) worker processes."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _raw(url: str) -> tuple[float, tuple[float, float], int]:
    start = time.perf_counter()
    count = 0
    with psycopg.connect(url) as conn, conn.cursor(name="raw") as cur:
        # The same JSON parser the builds use (pydantic's), into plain dicts.
        set_json_loads(pydantic_core.from_json, conn)
        cur.itersize = 5000
        cur.execute(
            "SELECT stream_id, version, event_id::text, type, schema_version, data "
            "FROM events ORDER BY stream_id, version"
        )
        for _row in cur:
            count += 1
    return time.perf_counter() - start, _peak_mib(), count


def _rebuild(url: str, name: str) -> tuple[float, tuple[float, float], int]:
    """``name``'s own rebuild, or with ``ALL`` every read model from one pass."""
    engine = make_engine(url, pool_size=1)
    start = time.perf_counter()
    if name == ALL:
        rebuild_all(engine)
    else:
        rebuild(engine, PROJECTIONS[name])
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed, _peak_mib(), 0


def _call(pipe: Connection, target: Any, args: tuple[Any, ...]) -> None:
    pipe.send(target(*args))
    pipe.close()


def _in_child(target: Any, *args: Any) -> tuple[float, tuple[float, float], int]:
    """``target(*args)`` in a fresh process (not a pool's daemon: a build may start
    worker processes of its own)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_call, args=(sender, target, args))
    process.start()
    sender.close()
    result: tuple[float, tuple[float, float], int] = receiver.recv()
    process.join()
    return result


@contextmanager
def server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from pgserver.postgres_server import get_server

    with tempfile.TemporaryDirectory(prefix="zg-bench-archive-") as folder:
        pg = get_server(Path(folder) / "pgdata", cleanup_mode="stop")
        try:
            yield pg.get_uri()
        finally:
            pg.cleanup()


@contextmanager
def database(server_url: str, keep: str | None = None) -> Iterator[str]:
    """A fresh database, dropped afterwards; or ``keep``: that database, made if it does
    not exist and left in place (so repeated runs time the same events)."""
    name = keep or f"zg_bench_archive_{uuid.uuid4().hex[:8]}"
    admin = make_engine(server_url, pool_size=1)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.scalar() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=1)
    upgrade(engine)
    engine.dispose()
    try:
        yield url.replace("postgresql+psycopg://", "postgresql://", 1)
    finally:
        if keep is None:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _stored(url: str) -> tuple[int, int]:
    """(events, cases) already in a kept database."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM streams)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _mib(peaks: tuple[float, float]) -> str:
    own, workers = peaks
    return f"peak {own:6.0f} MiB" + (f" (+ workers {workers:4.0f} MiB each)" if workers else "")


def _settle(url: str, most: float = 120.0) -> None:
    """Wait until no autovacuum works on the server (the tables a rebuild wrote and
    dropped wake it), so it does not share the cores with the next measurement."""
    ends = time.monotonic() + most
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < ends:
            busy = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
            ).fetchone()
            if busy is None or busy[0] == 0:
                return
            time.sleep(0.5)


def _higher(a: tuple[float, float] | None, b: tuple[float, float]) -> tuple[float, float]:
    return b if a is None else (max(a[0], b[0]), max(a[1], b[1]))


def _spread(values: list[float]) -> str:
    """The median, and the range when there are several values."""
    middle = f"{statistics.median(values):4.2f}"
    return middle if len(values) == 1 else f"{middle} ({min(values):.2f}-{max(values):.2f})"


def measure(url: str, names: list[str], rounds: int) -> None:
    """``rounds`` rounds of the raw read and each rebuild in turn, with a raw read before
    the first rebuild and after each: a rebuild's ratio is taken against the mean of the
    raw reads just before and just after it (this machine's speed drifts by a third
    within a minute, and a round at 1M lasts minutes). The median over the rounds is
    printed, with the range."""
    raws: list[float] = []
    took: dict[str, list[float]] = {name: [] for name in names}
    baseline: dict[str, list[float]] = {name: [] for name in names}
    peaks: dict[str, tuple[float, float]] = {}
    count = 0

    def raw_read() -> float:
        nonlocal count
        _settle(url)
        seconds, mib, count = _in_child(_raw, url)
        raws.append(seconds)
        peaks["raw"] = _higher(peaks.get("raw"), mib)
        return seconds

    for _ in range(rounds):
        before = raw_read()
        for name in names:
            _settle(url)
            seconds, mib, _ = _in_child(_rebuild, url, name)
            after = raw_read()
            took[name].append(seconds)
            baseline[name].append((before + after) / 2)
            peaks[name] = _higher(peaks.get(name), mib)
            before = after
    raw_rate = count / statistics.median(raws)
    print(
        f"\n{count:,} events, {rounds} round(s)   raw read {raw_rate:>9,.0f} ev/s"
        f"  {_mib(peaks['raw'])}"
    )
    for name in names:
        label = "all, one pass" if name == ALL else name
        rate = count / statistics.median(took[name])
        ratios = [raw / t for raw, t in zip(baseline[name], took[name], strict=True)]
        print(
            f"  rebuild {label:<13} {rate:>9,.0f} ev/s  ratio {_spread(ratios)}"
            f"  {_mib(peaks[name])}"
        )
    own = [n for n in names if n != ALL]
    if len(own) == len(PROJECTIONS):
        label = "each in a row"  # for comparison: the three own rebuilds one after another
        # Each rebuild's time in raw reads of its own baseline, summed.
        totals = [sum(took[n][i] / baseline[n][i] for n in own) for i in range(rounds)]
        rate = count / statistics.median(sum(took[n][i] for n in own) for i in range(rounds))
        print(f"  rebuild {label:<13} {rate:>9,.0f} ev/s  ratio {_spread([1 / t for t in totals])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=None, help="a PostgreSQL server (default: embedded)")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--projection",
        action="append",
        choices=[*PROJECTIONS, ALL],
        help="rebuild only this projection, or 'all' for every one from one pass "
        "(repeatable; default: each of them, then all)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of measurement at each size; the median ratio is printed (default 3)",
    )
    parser.add_argument(
        "--keep",
        metavar="DATABASE",
        help="use this database and keep it: what it holds is not generated again, and "
        "sizes below what it holds are skipped (needs --url to outlive the run)",
    )
    args = parser.parse_args()
    names = args.projection or [*PROJECTIONS, ALL]
    shapes = templates(args.seed)
    sizes = sorted({min(100_000, args.events), args.events})
    with server(args.url) as server_url, database(server_url, args.keep) as url:
        written, case = _stored(url)
        # A kept database is measured at what it holds when that covers a size (whole
        # cases overshoot a size by a few events); smaller sizes are skipped.
        held = [s for s in sizes if s <= written]
        sizes = held[-1:] + [s for s in sizes if s > written]
        for size in sizes:
            if size > written:
                started = time.perf_counter()
                case = generate(url, case, size - written, shapes)
                written = size
                print(f"generated up to {size:,} events in {time.perf_counter() - started:.0f} s")
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("VACUUM ANALYZE events")
            measure(url, names, args.rounds)


if __name__ == "__main__":
    main()
