"""Console text in Chinese (default) and English: one table, looked up by key."""

from __future__ import annotations

__all__ = ["text"]

_MESSAGES: dict[str, tuple[str, str]] = {
    "port_in_use": (
        "端口 {port}（{what}）已被占用：请停止占用它的程序，或用 {env} 换一个端口",
        "port {port} ({what}) is already in use: stop what holds it, or set {env} to another port",
    ),
    "data_dir_unwritable": (
        "数据目录 {path} 不可写（{reason}）：请用 --data-dir 指定一个可写的目录",
        "data dir {path} is not writable ({reason}): pass --data-dir with a writable folder",
    ),
    "database_unreachable": (
        "无法连接数据库 {url}（{reason}）：请检查 DATABASE_URL，或不设置它以使用内置 PostgreSQL",
        "cannot reach the database {url} ({reason}): check DATABASE_URL, or unset it to use"
        " the embedded PostgreSQL",
    ),
    "database_url_missing": (
        "未设置 DATABASE_URL：请设置 DATABASE_URL=postgresql://用户@主机:5432/库名，"
        "或用 `zhenggai up` 启动内置环境",
        "DATABASE_URL is not set: export DATABASE_URL=postgresql://user@host:5432/db,"
        " or run `zhenggai up` for the embedded stack",
    ),
    "pgserver_missing": (
        "找不到内置 PostgreSQL（pgserver）或 PATH 上的 initdb/pg_ctl：请设置 "
        "DATABASE_URL=postgresql://用户@主机:5432/库名 指向一个 PostgreSQL 服务器",
        "no embedded PostgreSQL (pgserver) and no initdb/pg_ctl on PATH: set"
        " DATABASE_URL=postgresql://user@host:5432/db to a PostgreSQL server",
    ),
    "temporal_unreachable": (
        "无法连接 Temporal {address}（{reason}）：请检查 TEMPORAL_ADDRESS，"
        "或不设置它以使用内置开发服务器",
        "cannot reach Temporal at {address} ({reason}): check TEMPORAL_ADDRESS, or unset it to"
        " use the embedded dev server",
    ),
    "temporal_failed": (
        "Temporal 开发服务器未能启动（{reason}），日志见 {log}",
        "the Temporal dev server did not start ({reason}); its log is {log}",
    ),
    "child_restarted": (
        "{name} 意外退出（退出码 {code}），{delay:g} 秒后已重启（新进程 {pid}，"
        "{window:g} 秒内第 {count} 次崩溃），日志见 {log}",
        "{name} exited unexpectedly (exit code {code}); restarted after {delay:g} s (new pid"
        " {pid}, crash {count} within {window:g} s), log: {log}",
    ),
    "child_gave_up": (
        "{name} 在 {window:g} 秒内崩溃 {count} 次（最后退出码 {code}），不再重启，日志见 {log}；"
        "正在停止全部服务",
        "{name} crashed {count} times within {window:g} s (last exit code {code}); giving up,"
        " log: {log}; stopping everything",
    ),
    "api_not_healthy": (
        "接口在 {seconds:g} 秒内未就绪，仍在等待；日志见 {log}",
        "the API is not healthy after {seconds:g} s, still waiting; log: {log}",
    ),
    "up_running": (
        "数据目录 {path} 已有一个 zhenggai up 在运行（进程 {pid}）：请先在它的终端按 Ctrl-C"
        " 停止它，或用 --data-dir 换一个目录",
        "a zhenggai up is already running on the data dir {path} (pid {pid}): stop it first"
        " (Ctrl-C in its terminal), or pass --data-dir with another folder",
    ),
    "stale_cleaned": (
        "上次的 zhenggai up 未正常退出，已停止它遗留的进程：{names}",
        "the last zhenggai up did not exit cleanly; stopped what it left running: {names}",
    ),
    "stale_stuck": (
        "上次的 zhenggai up 未正常退出，它遗留的进程无法停止：{names}；请手动结束它们后重试",
        "the last zhenggai up did not exit cleanly and what it left running cannot be"
        " stopped: {names}; end these processes by hand and try again",
    ),
    "stop_incomplete": (
        "未能停止：{names}；请手动结束这些进程（下次 zhenggai up 也会再试）。数据保存在 {path}",
        "could not stop: {names}; end these processes by hand (the next zhenggai up will try"
        " again). Data kept in {path}",
    ),
    "settings_invalid": ("配置有误：{reason}", "invalid settings: {reason}"),
    "starting": ("正在启动 zhenggai（数据目录 {path}）…", "starting zhenggai (data dir {path})…"),
    "pg_embedded": ("内置 PostgreSQL 已启动", "embedded PostgreSQL started"),
    "pg_external": ("使用 DATABASE_URL 指定的数据库", "using the database at DATABASE_URL"),
    "migrated": ("数据库结构已是最新版本", "database schema is up to date"),
    "temporal_embedded": (
        "Temporal 开发服务器已启动（数据保存在 {path}）",
        "Temporal dev server started (state kept in {path})",
    ),
    "temporal_external": (
        "使用 TEMPORAL_ADDRESS 指定的 Temporal（{address}）",
        "using Temporal at TEMPORAL_ADDRESS ({address})",
    ),
    "ready": ("zhenggai 已就绪：", "zhenggai is ready:"),
    "url_api": ("  接口      {url}", "  API       {url}"),
    "url_docs": ("  接口文档  {url}", "  API docs  {url}"),
    "url_console": ("  工作台    {url}", "  Console   {url}"),
    "url_temporal_ui": ("  Temporal  {url}", "  Temporal  {url}"),
    "stop_hint": ("按 Ctrl-C 停止。", "Press Ctrl-C to stop."),
    "stopping": ("正在停止…", "stopping…"),
    "stopped": ("已停止。数据保存在 {path}", "stopped; data kept in {path}"),
    "worker_running": (
        "工作进程已连接 Temporal {address}，任务队列 {queue}",
        "worker connected to Temporal at {address}, task queue {queue}",
    ),
}


def text(key: str, language: str = "zh-CN", **values: object) -> str:
    zh, en = _MESSAGES[key]
    return (en if language == "en" else zh).format(**values)
