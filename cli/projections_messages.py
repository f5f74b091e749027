"""Console text of `zhenggai projections` (alias: `archive`) and `zhenggai projector`,
Chinese and English."""

from __future__ import annotations

__all__ = ["text"]

_MESSAGES: dict[str, tuple[str, str]] = {
    "settings_invalid": ("配置有误：{reason}", "invalid settings: {reason}"),
    "no_database_url": (
        "未设置 DATABASE_URL：请设置 DATABASE_URL=postgresql://用户@主机:5432/库名",
        "DATABASE_URL is not set: export DATABASE_URL=postgresql://user@host:5432/db",
    ),
    "unreachable": ("无法连接数据库：{reason}", "cannot reach the database: {reason}"),
    "database_error": (
        "数据库出错（是否已执行 `zhenggai migrate`？）：{reason}",
        "database error (has `zhenggai migrate` been run?): {reason}",
    ),
    "unknown_projection": (
        "没有名为 {name} 的投影：可选 {known}",
        "no projection named {name}: choose one of {known}",
    ),
    "rebuild_busy": (
        "投影 {name} 正在重建中，请稍后再试",
        "projection {name} is already being rebuilt; try again later",
    ),
    "rebuilding": ("正在从事件日志重建 {name}", "rebuilding {name} from the event log"),
    "rebuilding_all": (
        "一次读取事件日志，重建全部读模型：{names}",
        "rebuilding all read models in one pass: {names}",
    ),
    "rebuilt": (
        "{name} 已重建并替换（读取到位置 {position}，替换时补齐 {caught_up} 个事件）",
        "{name} rebuilt and swapped in (read to position {position},"
        " {caught_up} events caught up at the swap)",
    ),
    "checking": ("正在核对 {name}", "checking {name}"),
    "check_ok": (
        "{name} 与事件日志一致（{rows} 行，位置 {position}）",
        "{name} matches the event log ({rows} rows, position {position})",
    ),
    "check_failed": (
        "{name} 与事件日志不一致：{count} 处差异",
        "{name} differs from the event log in {count} row(s)",
    ),
    "check_failed_listed": (
        "{name} 与事件日志不一致：{count} 处差异（每张表列出前 {limit} 处）",
        "{name} differs from the event log in {count} row(s)"
        " (the first {limit} of each table listed)",
    ),
    "row_missing": (
        "{table} [{row}]：实时表缺少此行（按事件日志应为 {rebuilt}）",
        "{table} [{row}]: missing (log: {rebuilt})",
    ),
    "row_extra": (
        "{table} [{row}]：实时表多出此行（事件日志得不出）",
        "{table} [{row}]: extra (not in the log's result)",
    ),
    "row_differs": ("{table} [{row}]：{columns}", "{table} [{row}]: {columns}"),
    "column_differs": (
        "{column} 实时表为 {live}，按事件日志应为 {rebuilt}",
        "{column}: {live} ≠ {rebuilt}",
    ),
    "column_separator": ("；", "; "),
    "events_per_second": ("事件/秒", "events/s"),
    "projector_running": (
        "投影进程已启动：{names}",
        "projector running: {names}",
    ),
}


def text(key: str, language: str = "zh-CN", **values: object) -> str:
    zh, en = _MESSAGES[key]
    return (en if language == "en" else zh).format(**values)
