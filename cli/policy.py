"""`zhenggai policy show|check`: the rules in force, and a policy file checked before use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from domain.policy import Policy, PolicyBook
from domain.vocabulary import CaseKind
from settings import Settings
from settings.policy_file import PolicyFileError, policy_book, read_policy_file

__all__ = ["describe_policy", "policy_app"]

policy_app = typer.Typer(
    help="The rules in force (deadlines, reminders, escalation, unit classes) and checking a"
    " policy file.",
    no_args_is_help=True,
)

_LEVELS_ZH = {1: "催办", 2: "督办", 3: "挂牌督办", 4: "问责建议"}
_LEVELS_EN = {1: "urge", 2: "formal supervision", 3: "listed supervision", 4: "accountability"}


def _language() -> str:
    try:
        return Settings().language
    except ValidationError:
        return "zh-CN"


def _rules(policy: Policy, zh: bool) -> dict[str, str]:
    """One line per rule, keyed so that a class's lines can be compared with the base's."""
    d = policy.deadlines
    reminders = [str(n) for n in policy.reminder_working_days]
    ladder = [(int(s.level), s.working_days_after_deadline) for s in policy.escalation]
    if zh:
        return {
            "deadlines": f"默认整改期限：立行立改 {d.working_days(CaseKind.IMMEDIATE)} 个工作日，"
            f"限期整改 {d.working_days(CaseKind.TIME_LIMITED)} 个工作日，"
            f"长期整改 {d.working_days(CaseKind.LONG_TERM)} 个工作日",
            "reminders": "提醒：期限前 " + "、".join(reminders) + " 个工作日"
            if reminders
            else "提醒：不提醒",
            "yellow": f"黄灯：剩余不超过 {policy.yellow_working_days} 个工作日",
            "escalation": "逾期升级："
            + "；".join(
                f"{level} {_LEVELS_ZH[level]}（逾期 {days} 个工作日）" for level, days in ladder
            ),
            "extension_cap": f"延期次数上限：{policy.extension_cap} 次",
            "look_back": f"回头看：销号后 {policy.look_back_days} 天内可重新打开",
            "duplicate": f"重复问题相似度阈值：{policy.duplicate_threshold}",
        }
    return {
        "deadlines": f"default deadlines: immediate {d.immediate}, time-limited "
        f"{d.time_limited}, long-term {d.long_term} working days",
        "reminders": "reminders: " + ", ".join(reminders) + " working days before the deadline"
        if reminders
        else "reminders: none",
        "yellow": f"yellow light: {policy.yellow_working_days} working days or fewer left",
        "escalation": "escalation: "
        + "; ".join(
            f"{level} {_LEVELS_EN[level]} ({days} working days overdue)" for level, days in ladder
        ),
        "extension_cap": f"extension cap: {policy.extension_cap}",
        "look_back": f"look-back window: {policy.look_back_days} days after closure",
        "duplicate": f"duplicate threshold: {policy.duplicate_threshold}",
    }


def _calendar_line(policy: Policy, operator_years: str, zh: bool) -> str:
    package = policy.calendar.use_package
    if zh:
        source = "chinese-calendar 数据包的官方年份" if package else "不用数据包"
        return (
            f"  日历：{source}；策略文件补充的年份：{operator_years or '无'}；"
            "其余年份为临时日历（zhenggai calendar）"
        )
    source = "the chinese-calendar package" if package else "no package"
    return (
        f"  calendar: {source}; years from the policy file: {operator_years or 'none'};"
        " other years provisional (zhenggai calendar)"
    )


def describe_policy(book: PolicyBook, source: str, language: str) -> list[str]:
    """The rules of a book as lines for an operator, in the given language."""
    zh = language != "en"
    base = book.base
    calendar = base.calendar
    operator_years = ", ".join(str(y.year) for y in sorted(calendar.years, key=lambda y: y.year))
    lines = [
        f"策略：{source}" if zh else f"policy: {source}",
        (
            f"版本：{base.version}　内容哈希：{base.fingerprint()[:16]}"
            if zh
            else f"version: {base.version}  content hash: {base.fingerprint()[:16]}"
        ),
        "基本规则：" if zh else "base rules:",
        *(f"  {line}" for line in _rules(base, zh).values()),
        (
            f"  时区：UTC{base.utc_offset_hours:+d}"
            if zh
            else f"  time zone: UTC{base.utc_offset_hours:+d}"
        ),
        _calendar_line(base, operator_years, zh),
    ]
    if not book.classes:
        lines.append(
            "单位类别：无（所有单位用基本规则）"
            if zh
            else "unit classes: none (every unit uses the base rules)"
        )
        return lines
    lines.append(
        "单位类别（与基本规则不同之处）："
        if zh
        else "unit classes (where they differ from the base):"
    )
    base_rules = _rules(base, zh)
    for name, policy in book.classes.items():
        marker = (
            ("，未设类别的单位默认用此类" if zh else ", the default for units without a class")
            if name == book.default_class
            else ""
        )
        lines.append(
            f"  {name}（{book.label(name)}{marker}）："
            if zh
            else f"  {name} ({book.label(name)}{marker}):"
        )
        differing = [line for key, line in _rules(policy, zh).items() if line != base_rules[key]]
        lines.extend(f"    {line}" for line in differing)
        if not differing:
            lines.append("    与基本规则相同" if zh else "    same as the base")
    return lines


@policy_app.command("show")
def show(
    file: Annotated[
        Path | None, typer.Option("--file", help="A policy file (default: ZHENGGAI_POLICY_FILE).")
    ] = None,
) -> None:
    """Print the rules in force (Chinese; English with ZHENGGAI_LANGUAGE=en)."""
    language = _language()
    path = file
    if path is None:
        try:
            path = Settings().policy_file
        except ValidationError:
            path = None
    try:
        book = policy_book(path, language)
    except PolicyFileError as exc:
        for line in exc.lines:
            typer.echo(f"zhenggai: {line}", err=True)
        raise typer.Exit(2) from None
    source = (
        str(path) if path is not None else ("内置默认" if language != "en" else "built-in defaults")
    )
    for line in describe_policy(book, source, language):
        typer.echo(line)


@policy_app.command("check")
def check(file: Annotated[Path, typer.Argument(help="The policy file to check.")]) -> None:
    """Check a policy file: one line per problem and exit 2, or exit 0 when it can be used."""
    language = _language()
    try:
        book = read_policy_file(file, language)
    except PolicyFileError as exc:
        for line in exc.lines:
            typer.echo(f"zhenggai: {line}", err=True)
        raise typer.Exit(2) from None
    classes = len(book.classes)
    if language == "en":
        typer.echo(f"{file}: valid (version {book.base.version}, {classes} unit classes)")
    else:
        typer.echo(f"{file}：有效（版本 {book.base.version}，{classes} 个单位类别）")
