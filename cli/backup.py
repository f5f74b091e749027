"""`zhenggai backup` / `zhenggai restore`: both databases of `zhenggai up`'s data dir, together.

    zhenggai backup FILE [--data-dir D]    one archive of D, taken while no `up` runs there
    zhenggai restore FILE --data-dir NEW   unpack it into a new (absent or empty) data dir

The embedded stack keeps its two databases in the data dir: the event store in
PostgreSQL's folder ``pg/`` and Temporal's state (every open case's workflow, its
timers) in ``temporal.sqlite``. They must come back from one moment (see
docs/operations.md). `backup` takes that moment by refusing to run while an `up`
holds the data dir's lock or a process it started still runs: with everything
stopped, neither file changes while it is read, and the pair is consistent by
construction. The archive also holds ``db-roles.json`` (the passwords of the
per-process logins that live in the database) and ``audit/`` (the seals' witness
file); never the logs or the lock.

Production (Temporal on its own PostgreSQL) does the same with ``pg_dump`` of both
servers' databases, the workers stopped (docs/operations.md); `zhenggai restore-drill`
(cli.restore_drill) checks an archive of either kind of restore end to end.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.embedded_postgres import _is_postmaster_of, postmaster_pid
from cli.preflight import UpLock, UsageProblem, exit_with, process_start
from cli.projections_common import load_settings

__all__ = ["MANIFEST", "backup", "read_manifest", "restore", "unpack"]

MANIFEST = "zhenggai-backup.json"
FORMAT = "zhenggai-data-dir"
TEMPORAL_FILES = ("temporal.sqlite", "temporal.sqlite-wal", "temporal.sqlite-shm")
KEPT = ("pg", *TEMPORAL_FILES, "db-roles.json", "audit")
# Files of a running server, never restored: PostgreSQL refuses to start over a stale
# pid file only when its pid is alive, and pgserver reads handle pids as live servers.
NOT_KEPT_IN_PG = {"postmaster.pid", ".handle_pids.json"}

_TEXT: dict[str, tuple[str, str]] = {
    "no_data": (
        "数据目录 {path} 中没有 zhenggai up 的数据（pg/ 与 temporal.sqlite）",
        "the data dir {path} holds no data of zhenggai up (pg/ and temporal.sqlite)",
    ),
    "still_running": (
        "数据目录 {path} 中仍有进程在运行（{names}）：请先运行一次 zhenggai up 再按 Ctrl-C，"
        "让它停止遗留进程",
        "processes still run on the data dir {path} ({names}): run zhenggai up once and"
        " press Ctrl-C, which stops what a killed up left",
    ),
    "backed_up": (
        "已备份 {path}（{size:.1f} MB；事件库与 Temporal 取自同一时刻）",
        "backed up to {path} ({size:.1f} MB; the event store and Temporal from one moment)",
    ),
    "not_empty": (
        "目标数据目录 {path} 不为空：请指定一个新的目录（--data-dir）",
        "the target data dir {path} is not empty: name a new one (--data-dir)",
    ),
    "bad_archive": (
        "{path} 不是 zhenggai backup 生成的备份：{reason}",
        "{path} is not an archive made by zhenggai backup: {reason}",
    ),
    "restored": (
        "已恢复到 {path}（备份于 {made_at}）；启动：zhenggai up --data-dir {path}",
        "restored into {path} (backed up at {made_at}); start it: zhenggai up --data-dir {path}",
    ),
}


def say(key: str, language: str, **values: Any) -> str:
    zh, en = _TEXT[key]
    return (en if language == "en" else zh).format(**values)


def _still_running(data_dir: Path, lock: UpLock) -> list[str]:
    """What a killed `up` left running on ``data_dir``: its recorded processes, and a
    postmaster on ``pg/`` (the lock is free, so any of them is an orphan)."""
    alive = [p for p in lock.previous if p.start and process_start(p.pid) == p.start]
    for process in alive:
        lock.carry(process)  # still listed for the next `up`, which stops them
    names = [f"{p.name} ({p.pid})" for p in alive]
    pid = postmaster_pid(data_dir / "pg")
    if (
        pid is not None
        and process_start(pid) is not None
        and _is_postmaster_of(pid, data_dir / "pg")
    ):
        names.append(f"postgres ({pid})")
    return sorted(set(names))


def _keep(data_dir: Path) -> Callable[[tarfile.TarInfo], tarfile.TarInfo | None]:
    pg = (data_dir / "pg").resolve()

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        path = data_dir / info.name
        if path.parent.resolve() == pg and path.name in NOT_KEPT_IN_PG:
            return None
        if path.name.startswith(".s.PGSQL."):  # the server's socket and its lock
            return None
        return info

    return keep


def write_archive(data_dir: Path, output: Path, language: str) -> Path:
    """The archive of a stopped data dir; UsageProblem when it cannot be taken now."""
    if (
        not (data_dir / "pg" / "PG_VERSION").is_file()
        or not (data_dir / "temporal.sqlite").is_file()
    ):
        raise UsageProblem(say("no_data", language, path=data_dir))
    lock = UpLock.acquire(data_dir, language)  # refuses while an `up` runs there
    try:
        running = _still_running(data_dir, lock)
        if running:
            raise UsageProblem(
                say("still_running", language, path=data_dir, names=", ".join(running))
            )
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "version": 1,
            "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": str(data_dir.resolve()),
            "contents": [name for name in KEPT if (data_dir / name).exists()],
        }
        partial = output.with_name(output.name + ".partial")
        try:
            with tarfile.open(partial, "w:gz", compresslevel=6) as archive:
                blob = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mode = len(blob), 0o600
                info.mtime = int(datetime.now(UTC).timestamp())
                archive.addfile(info, io.BytesIO(blob))
                for name in manifest["contents"]:
                    archive.add(data_dir / name, arcname=name, filter=_keep(data_dir))
            os.replace(partial, output)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise UsageProblem(f"zhenggai backup {output}: {exc}") from exc
    finally:
        lock.release()
    return output


def read_manifest(archive_path: Path, language: str) -> dict[str, Any]:
    try:
        with tarfile.open(archive_path, "r:*") as archive:
            member = archive.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest: dict[str, Any] = json.loads(member.read())
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise UsageProblem(
            say("bad_archive", language, path=archive_path, reason=str(exc) or type(exc).__name__)
        ) from None
    if manifest.get("format") != FORMAT:
        raise UsageProblem(say("bad_archive", language, path=archive_path, reason="format"))
    if not {"pg", "temporal.sqlite"} <= set(manifest.get("contents", [])):
        raise UsageProblem(say("bad_archive", language, path=archive_path, reason="contents"))
    return manifest


def unpack(archive_path: Path, target: Path, language: str) -> dict[str, Any]:
    """Unpacks into ``target`` (absent or empty); returns the archive's manifest."""
    manifest = read_manifest(archive_path, language)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageProblem(say("not_empty", language, path=target))
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageProblem(f"zhenggai restore {target}: {exc}") from exc
    with tarfile.open(archive_path, "r:*") as archive:
        members = [m for m in archive.getmembers() if m.name != MANIFEST]
        if any(m.name.split("/")[0] not in KEPT for m in members):
            raise UsageProblem(say("bad_archive", language, path=archive_path, reason="contents"))
        # "tar": no absolute paths, no way out of target, no setuid bits; and, run as
        # root, the files keep their owner (pgserver runs PostgreSQL as its own user).
        archive.extractall(target, members=members, filter="tar")
    (target / "pg").chmod(0o700)  # PostgreSQL starts only on a folder of its own
    return manifest


def backup(
    output: Annotated[Path, typer.Argument(help="The archive to write (.tar.gz).")],
) -> None:
    """Back up `up`'s data dir, both databases at one moment (no `up` may run there)."""
    try:
        settings = load_settings()
        written = write_archive(settings.data_dir, output, settings.language)
    except UsageProblem as problem:
        raise exit_with(problem) from None
    size = written.stat().st_size / 1e6
    typer.echo(say("backed_up", settings.language, path=written, size=size))


def restore(
    archive: Annotated[Path, typer.Argument(help="An archive made by zhenggai backup.")],
) -> None:
    """Restore an archive of `zhenggai backup` into a new data dir (--data-dir)."""
    try:
        settings = load_settings()
        manifest = unpack(archive, settings.data_dir, settings.language)
    except UsageProblem as problem:
        raise exit_with(problem) from None
    typer.echo(
        say("restored", settings.language, path=settings.data_dir, made_at=manifest["made_at"])
    )
