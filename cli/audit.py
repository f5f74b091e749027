"""`zhenggai audit`: seal the event log, verify it, export the seals.

    zhenggai audit seal                  sign a Merkle root over every finished event
    zhenggai audit verify [--stream ID]  recompute chains and seals; exit 1 on any problem
    zhenggai audit export-seals [--output FILE]   JSON Lines for an inspector to keep

The database is DATABASE_URL, else the one a running `zhenggai up` keeps in
the data dir (``cli.database``). ZHENGGAI_AUDIT_KEY (signs new seals) and
ZHENGGAI_AUDIT_RETIRED_KEYS (a JSON list of keys rotated out, which still
verify the seals they signed) come from ``Settings``; so does the witness
file every new seal is appended to and verify compares with
(ZHENGGAI_AUDIT_WITNESS_FILE; for `up`'s own database, by default
``<data dir>/audit/witness.jsonl``). Bad input (no URL, no key, an
unreachable or unmigrated database, an unreadable witness file) is one line
on stderr and exit code 2; a log that does not verify is exit code 1, and
`seal` refuses (exit 1, the problems printed) to seal over anything `verify`
reports.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from cli import database
from settings import Settings
from store.audit_keys import AuditKeys
from store.errors import SealError
from store.seals import SealRefused, export_seals, seal_log
from store.verify import AuditProblem, VerifyReport, verify_log
from store.witness import WitnessError

__all__ = ["audit_app"]

audit_app = typer.Typer(
    name="audit",
    help="审计：封存、核验事件日志，导出封存记录 / seal and verify the event log.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_TEXT: dict[str, tuple[str, str]] = {
    "settings_invalid": ("配置无效：{reason}", "invalid settings: {reason}"),
    "no_key": (
        "未设置审计密钥：请设置 ZHENGGAI_AUDIT_KEY（至少 16 字节，不要存入数据库）",
        "no audit key: set ZHENGGAI_AUDIT_KEY (16 bytes or more, never kept in the database)",
    ),
    "database_error": (
        "数据库出错（是否已执行 `zhenggai migrate`？）：{reason}",
        "database error (has `zhenggai migrate` been run?): {reason}",
    ),
    "bad_key": ("审计密钥不可用：{reason}", "unusable audit key: {reason}"),
    "unknown_key": (
        "封存 #{seq} 由密钥 {found} 签名，本机未持有该密钥（当前密钥 {current}），未封存："
        "轮换密钥后请把旧密钥放入 ZHENGGAI_AUDIT_RETIRED_KEYS",
        "seal #{seq} was signed with key {found}, which this machine does not hold "
        "(the current key is {current}); nothing sealed: after a rotation, keep the old key "
        "in ZHENGGAI_AUDIT_RETIRED_KEYS",
    ),
    "bad_signature": (
        "封存 #{seq} 的签名无法用其密钥 {found} 验证，未封存：请运行 `zhenggai audit verify`",
        "seal #{seq} does not verify with its key {found}, nothing sealed: "
        "run `zhenggai audit verify`",
    ),
    "broken_seal_chain": (
        "封存 #{seq} 未链接到上一个封存，未封存：请运行 `zhenggai audit verify`",
        "seal #{seq} does not chain to the seal before it, nothing sealed: "
        "run `zhenggai audit verify`",
    ),
    "log_changed": (
        "日志与上一次封存不符，未封存：请运行 `zhenggai audit verify`",
        "the log no longer matches the last seal, nothing sealed: run `zhenggai audit verify`",
    ),
    "broken_links": (
        "哈希链断裂，未封存：{reason}。请运行 `zhenggai audit verify`",
        "a hash chain is broken, nothing sealed: {reason}. Run `zhenggai audit verify`",
    ),
    "refused": (
        "日志未通过核验，未封存（共 {count} 处问题）；请先查明原因：",
        "the log does not verify, nothing sealed ({count} problems); the first:",
    ),
    "witness_unwritten": (
        "封存已写入数据库，但无法写入见证文件：{reason}。下次封存时会补写；请尽快修复",
        "the seal is in the database but the witness file could not be written: {reason}. "
        "The next seal appends it; fix this soon",
    ),
    "bad_witness_file": (
        "无法读取见证文件：{reason}（ZHENGGAI_AUDIT_WITNESS_FILE）",
        "cannot read the witness file: {reason} (ZHENGGAI_AUDIT_WITNESS_FILE)",
    ),
    "sealed": (
        "已封存 #{seq}：共 {count} 个事件（截至位置 {position}），Merkle 根 {root}",
        "sealed #{seq}: {count} events (up to position {position}), Merkle root {root}",
    ),
    "nothing_new": (
        "没有新事件，最近的封存仍是 #{seq}（{count} 个事件）",
        "no new events; the latest seal is still #{seq} ({count} events)",
    ),
    "verified": (
        "核验通过：{events} 个事件，{streams} 个流，{seals} 个封存，均无问题",
        "verified: {events} events, {streams} streams, {seals} seals, nothing wrong",
    ),
    "problems": (
        "发现 {count} 处问题（核验了 {events} 个事件、{seals} 个封存）；第一处：",
        "{count} problems found ({events} events, {seals} seals checked); the first:",
    ),
    "exported": ("已导出 {count} 个封存到 {path}", "exported {count} seals to {path}"),
    "bad_seals_file": (
        "无法读取封存文件 {path}：{reason}",
        "cannot read the seals file {path}: {reason}",
    ),
}

_PROBLEMS: dict[str, tuple[str, str]] = {
    "hash": (
        "流 {stream} 版本 {version}：内容与存储的哈希不符（事件被改动）；"
        "重新计算 {expected}，存储 {found}",
        "stream {stream} version {version}: the content no longer gives the stored hash "
        "(the event was altered); recomputed {expected}, stored {found}",
    ),
    "link": (
        "流 {stream} 版本 {version}：previous_hash 不是上一版本的哈希；"
        "应为 {expected}，实为 {found}",
        "stream {stream} version {version}: previous_hash is not the previous version's hash; "
        "expected {expected}, found {found}",
    ),
    "version": (
        "流 {stream}：版本不连续，应为 {expected}，实为 {found}（事件缺失或被插入）",
        "stream {stream}: versions break, expected {expected}, found {found} "
        "(an event is missing or was inserted)",
    ),
    "head": (
        "流 {stream}：streams 表的头部与最后一个事件不符；应为 {expected}，实为 {found}",
        "stream {stream}: the streams row does not match its last event; "
        "expected {expected}, found {found}",
    ),
    "stream_row": (
        "流 {stream}：streams 表与事件不一致（缺少 {expected}）",
        "stream {stream}: the streams row and the events disagree (no {expected})",
    ),
    "seal_signature": (
        "封存 #{seal}：签名无法用其密钥 {found} 验证（封存记录被改动或伪造）",
        "seal #{seal}: the signature does not verify with its key {found} "
        "(the seal was altered or forged)",
    ),
    "seal_key": (
        "封存 #{seal}：签名所用密钥 {found} 既不是当前密钥，也不在 ZHENGGAI_AUDIT_RETIRED_KEYS 中，"
        "无法核验签名",
        "seal #{seal}: signed with key {found}, which is neither the current key nor in "
        "ZHENGGAI_AUDIT_RETIRED_KEYS, so its signature cannot be checked",
    ),
    "seal_chain": (
        "封存 #{seal}：未链接到上一个封存；应为 {expected}，实为 {found}",
        "seal #{seal}: does not chain to the seal before it; expected {expected}, found {found}",
    ),
    "seal_export": (
        "封存 #{seal}：与外部保存的副本不符（{expected}，实为 {found}）",
        "seal #{seal}: does not match the copy kept outside ({expected}, found {found})",
    ),
    "seal_root": (
        "封存 #{seal}：事件与封存不符；封存时 {expected}，现在 {found}",
        "seal #{seal}: the events no longer match the seal; sealed {expected}, now {found}",
    ),
    "seal_missing": (
        "封存 #{seal}：见证文件中有此封存，数据库中却没有（封存记录被删除）",
        "seal #{seal}: in the witness file but missing from the database (the seal was deleted)",
    ),
    "seal_witness": (
        "封存 #{seal}：与见证文件中的副本不符（不同的字段：{found}）",
        "seal #{seal}: differs from the witness file's copy (fields: {found})",
    ),
    "seal_streams": (
        "封存 #{seal}：对流 {stream} 的封存记录不可信；应为 {expected}，实为 {found}",
        "seal #{seal}: its record of stream {stream} cannot be trusted; "
        "expected {expected}, found {found}",
    ),
    "sealed_event": (
        "案件流 {stream} 版本 {version}：已被封存 #{seal} 封存，但已被改写"
        "（哈希链可能被重新计算）；封存时哈希 {expected}，现在 {found}",
        "case stream {stream} version {version}: sealed by seal #{seal} but rewritten since "
        "(its chain may have been recomputed); sealed hash {expected}, now {found}",
    ),
    "sealed_missing": (
        "案件流 {stream} 版本 {version}：已被封存 #{seal} 封存，但已不存在（事件被删除，流被截短）",
        "case stream {stream} version {version}: sealed by seal #{seal} but gone "
        "(events were deleted, the stream truncated)",
    ),
    "seal_coverage": (
        "案件流 {stream} 版本 {version}：位于封存 #{seal} 的范围内，却不在其记录中"
        "（封存记录被删除，或事件被移入）",
        "case stream {stream} version {version}: inside the range of seal #{seal} but not "
        "named by it (its record was removed, or the event was moved there)",
    ),
}

_NO_STREAM = {
    "seal_streams": (
        "封存 #{seal}：所记录的流与其签名不符；应为 {expected}，实为 {found}（记录被删除或添加）",
        "seal #{seal}: its records of streams no longer match its signature; "
        "expected {expected}, found {found} (a record was removed or added)",
    ),
}


def _say(key: str, language: str, **values: object) -> str:
    zh, en = _TEXT[key]
    return (en if language == "en" else zh).format(**values)


def describe(problem: AuditProblem, language: str) -> str:
    table = _NO_STREAM if problem.stream_id is None and problem.code in _NO_STREAM else _PROBLEMS
    zh, en = table.get(problem.code, ("{code}：{found}", "{code}: {found}"))
    return (en if language == "en" else zh).format(
        stream=problem.stream_id,
        version=problem.version,
        seal=problem.seal_seq,
        expected=problem.expected,
        found=problem.found,
        code=problem.code,
    )


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"zhenggai: {message}", err=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        _fail(_say("settings_invalid", "zh-CN", reason=reasons))


def _keys(settings: Settings) -> AuditKeys:
    keys = settings.audit_keys()
    if keys is None:
        _fail(_say("no_key", settings.language))
    return keys


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return (str(orig or exc).strip().splitlines() or [type(exc).__name__])[0]


@contextmanager
def _database(settings: Settings) -> Iterator[Engine]:
    """DATABASE_URL, else the database of a running `zhenggai up` (``cli.database``)."""
    with database.database_engine(settings) as engine:
        try:
            yield engine
        except DBAPIError as exc:
            _fail(_say("database_error", settings.language, reason=_first_line(exc)))


def witness_file(settings: Settings) -> Path | None:
    """ZHENGGAI_AUDIT_WITNESS_FILE; for the embedded database of `up` (no
    DATABASE_URL), ``<data dir>/audit/witness.jsonl`` by default."""
    if settings.audit_witness_file is not None:
        return settings.audit_witness_file
    if settings.database_url:
        return None
    return settings.data_dir / "audit" / "witness.jsonl"


@audit_app.command()
def seal() -> None:
    """Seal every finished event: a signed Merkle root, chained to the seal before."""
    settings = _settings()
    keys = _keys(settings)
    lang = settings.language
    with _database(settings) as engine:
        try:
            outcome = seal_log(engine, keys, witness=witness_file(settings))
        except WitnessError as exc:
            _fail(_say("bad_witness_file", lang, reason=exc))
        except SealRefused as exc:
            typer.echo(_say("refused", lang, count=exc.report.problem_count), err=True)
            for problem in exc.report.problems[:20]:
                typer.echo("  " + describe(problem, lang), err=True)
            raise typer.Exit(1) from None
        except SealError as exc:
            if exc.reason == "log_changed":
                _fail(_say("log_changed", lang), code=1)
            if exc.reason == "broken_links":
                where = str(exc).split("; run audit verify", 1)[0]
                _fail(_say("broken_links", lang, reason=where), code=1)
            if exc.reason in ("unknown_key", "bad_signature", "broken_seal_chain"):
                values = {"seq": exc.seal_seq, "found": exc.key_id, "current": keys.current_id}
                # A key we lack is configuration (2); a seal failing its own key, tampering (1).
                code = 2 if exc.reason == "unknown_key" else 1
                _fail(_say(exc.reason, lang, **values), code=code)
            _fail(_say("bad_key", lang, reason=exc))
    made = outcome.seal
    if made is None:  # pragma: no cover - seal_log always returns a seal
        return
    values = {
        "seq": made.seq,
        "count": made.event_count,
        "position": made.up_to_position,
        "root": made.merkle_root.hex(),
    }
    typer.echo(_say("sealed" if outcome.created else "nothing_new", lang, **values))
    if outcome.witness_error is not None:
        _fail(_say("witness_unwritten", lang, reason=outcome.witness_error), code=1)


@audit_app.command()
def verify(
    stream: Annotated[
        str | None, typer.Option("--stream", help="Check only this stream's chain.")
    ] = None,
    seals_file: Annotated[
        Path | None,
        typer.Option("--seals", help="Seals kept outside (export-seals output) to compare."),
    ] = None,
) -> None:
    """Recompute every hash chain and seal; report the first broken link; exit 1 if any."""
    settings = _settings()
    keys = _keys(settings)
    lang = settings.language
    exported = [] if seals_file is None else _read_seals(seals_file, lang)
    witness = witness_file(settings)
    with _database(settings) as engine:
        try:
            report = verify_log(engine, keys, stream_id=stream, exported=exported, witness=witness)
        except WitnessError as exc:
            _fail(_say("bad_witness_file", lang, reason=exc))
    _print_report(report, lang)
    if not report.ok:
        raise typer.Exit(1)


def _read_seals(path: Path, lang: str) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        kept = [json.loads(line) for line in lines if line.strip()]
    except (OSError, ValueError) as exc:
        _fail(_say("bad_seals_file", lang, path=path, reason=_first_line(exc)))
    if not all(isinstance(seal, dict) for seal in kept):
        _fail(_say("bad_seals_file", lang, path=path, reason="not JSON Lines of seals"))
    return kept


def _print_report(report: VerifyReport, lang: str) -> None:
    counts = {"events": report.events, "streams": report.streams, "seals": report.seals}
    if report.ok:
        typer.echo(_say("verified", lang, **counts))
        return
    typer.echo(_say("problems", lang, count=report.problem_count, **counts))
    for problem in report.problems[:20]:
        typer.echo("  " + describe(problem, lang))


@audit_app.command("export-seals")
def export_seals_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Write every seal as JSON Lines, to keep outside the system."""
    settings = _settings()
    with _database(settings) as engine:
        seals = export_seals(engine)
    lines = "".join(json.dumps(s, sort_keys=True) + "\n" for s in seals)
    if output is None:
        typer.echo(lines, nl=False)
        return
    try:
        output.write_text(lines, encoding="utf-8")
    except OSError as exc:
        _fail(str(exc))
    typer.echo(_say("exported", settings.language, count=len(seals), path=output), err=True)
