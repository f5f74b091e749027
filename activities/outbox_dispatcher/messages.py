"""The words of a notice, in Chinese (default) or English, rendered at delivery time.

Rows keep facts (case, unit, deadline, kind, level, working days left, light as
of the event), not text, so the language and the link base can change without
rewriting the outbox. Links go to the page for people (``/cases/{id}``, not the
JSON API): a base ending in ``/api/v1`` (the old default) is cut back to the site.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.chinese_dates import zh_date

__all__ = ["Message", "case_link", "light_for", "render", "render_digest"]

# kind: (zh subject tag, en subject tag)
_TAGS: dict[str, tuple[str, str]] = {
    "reminder": ("整改提醒", "Rectification reminder"),
    "warning": ("黄灯预警", "Yellow warning"),
    "milestone_due": ("阶段节点到期", "Milestone due"),
    "milestone_behind": ("阶段节点滞后", "Milestone behind"),
    "overdue": ("红灯：整改逾期", "Red: rectification overdue"),
    "escalation": ("逾期升级", "Escalation"),
    "decision_reminder": ("问责建议待决定", "Accountability decision pending"),
    "extension_requested": ("延期申请待审批", "Extension requested"),
    "extension_granted": ("延期申请已批准", "Extension granted"),
    "extension_denied": ("延期申请未批准", "Extension denied"),
    "closure_requested": ("销号申请待验收", "Closure waits for verification"),
    "closure_rejected": ("销号申请被退回", "Closure sent back"),
    "closure_verified": ("验收通过，已销号", "Closure verified"),
    "reassigned": ("责任单位调整", "Responsibility transferred"),
}
_LEVELS: dict[int, tuple[str, str]] = {
    1: ("催办", "urge"),
    2: ("督办", "formal supervision"),
    3: ("挂牌督办", "listed supervision"),
    4: ("问责建议", "accountability recommendation"),
}
_LIGHTS = {
    "green": ("绿灯", "green"),
    "yellow": ("黄灯", "yellow"),
    "red": ("红灯", "red"),
    "grey": ("灰灯（已结束）", "grey (finished)"),
}
# The light a kind of notice is sent under with the default policy (reminders fall
# inside the yellow window); the activity cannot see the case's own policy.
_KIND_LIGHT = {
    "reminder": "yellow",
    "warning": "yellow",
    "milestone_due": "green",
    "milestone_behind": "yellow",
    "overdue": "red",
    "escalation": "red",
    "decision_reminder": "red",
}


def light_for(kind: str) -> str:
    return _KIND_LIGHT.get(kind, "yellow")


def _day(value: object, en: bool) -> str:
    """A payload's ISO date as the language writes it (text that is not one, as it is)."""
    text = "" if value is None else str(value)
    if en:
        return text
    try:
        return zh_date(date.fromisoformat(text))
    except ValueError:
        return text


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    text: str  # plain text: email body
    markdown: str  # robots (DingTalk, WeCom)
    link: str


def case_link(base_url: str, case_id: str) -> str:
    """The page for people of a case (never the JSON API, which answers 401 to a browser)."""
    base = base_url.rstrip("/")
    if base.endswith("/api/v1"):
        base = base[: -len("/api/v1")]
    return f"{base}/cases/{case_id}"


def _lead(p: dict[str, Any], en: bool) -> str:
    kind, level = p.get("kind", ""), p.get("level")
    before, overdue = p.get("working_days_left"), p.get("working_days_overdue")
    if before is None:
        before = p.get("working_days_before")
    detail: dict[str, Any] = p.get("detail") or {}
    reason = detail.get("reason", "")
    milestone = p.get("milestone_id") or ""
    previous = p.get("previous_unit_name") or detail.get("previous_unit_id", "")
    zh_level, en_level = _LEVELS.get(int(level or 0), ("", ""))
    leads = {
        "reminder": (
            f"距整改期限还有 {before} 个工作日（含期限当日），请抓紧推进整改。"
            if before
            else "今天是整改期限，请抓紧完成整改。"
            if before == 0
            else "整改期限临近，请抓紧推进整改。",
            f"{before} working day{'s' if before != 1 else ''} remain before the deadline "
            "(the deadline day included)."
            if before
            else "The deadline is today."
            if before == 0
            else "The deadline is near.",
        ),
        "warning": ("案件已临近整改期限，亮黄灯预警。", "The case is close to its deadline."),
        "milestone_due": (
            f"阶段节点 {milestone} 今日到期，请按时报告进展。",
            f"Milestone {milestone} is due today; please report on it.",
        ),
        "milestone_behind": (
            f"阶段节点 {milestone} 已过期未报告。",
            f"Milestone {milestone} has passed without a report.",
        ),
        "overdue": ("案件已超过整改期限，亮红灯。", "The case is past its deadline."),
        "escalation": (
            f"案件逾期 {overdue} 个工作日，升级为第 {level} 级：{zh_level}。",
            f"The case is {overdue} working days overdue: level {level}, {en_level}.",
        ),
        "decision_reminder": (
            "问责建议仍待决定，请及时作出问责或容错免责决定。",
            "The accountability recommendation still waits for a decision.",
        ),
        "extension_requested": (
            f"责任单位申请延期至 {_day(detail.get('proposed_deadline'), en)}，理由：{reason}。"
            "请审批。",
            f"The unit asks to extend the deadline to {detail.get('proposed_deadline', '')}: "
            f"{reason}. Please decide.",
        ),
        "extension_granted": (
            f"延期申请已批准，新的整改期限为 {_day(detail.get('new_deadline'), en)}。",
            f"The extension was granted; the new deadline is {detail.get('new_deadline', '')}.",
        ),
        "extension_denied": (
            f"延期申请未获批准，理由：{reason}。整改期限不变。",
            f"The extension was denied: {reason}. The deadline is unchanged.",
        ),
        "closure_requested": (
            "责任单位已申请销号，请组织验收。",
            "The unit submitted the case for closure; please verify it.",
        ),
        "closure_rejected": (
            f"销号申请被退回，理由：{reason}。请继续整改，整改期限不变。",
            f"The closure was sent back: {reason}. Work goes on; the deadline is unchanged.",
        ),
        "closure_verified": (
            "整改已验收通过，案件销号。",
            "The rectification was verified; the case is closed.",
        ),
        "reassigned": (
            f"案件责任单位已调整（原单位 {previous}），理由：{reason}。",
            f"Responsibility moved from unit {previous}: {reason}.",
        ),
    }
    zh, english = leads.get(kind, ("案件有新的提醒。", "The case has a new notice."))
    return english if en else zh


def render(payload: dict[str, Any], language: str, base_url: str) -> Message:
    en = language == "en"
    kind = str(payload.get("kind", ""))
    tag = _TAGS.get(kind, ("整改通知", "Rectification notice"))[1 if en else 0]
    level = payload.get("level")
    if level and kind in ("escalation", "decision_reminder"):
        tag += f" {_LEVELS[int(level)][1]}" if en else f"·{_LEVELS[int(level)][0]}"
    title, unit = payload.get("title", ""), payload.get("unit_name") or payload.get("unit_id", "")
    case_id = str(payload.get("case_id", ""))
    link = case_link(base_url, case_id)
    light = _LIGHTS.get(str(payload.get("light", "")), ("", ""))[1 if en else 0]
    deadline = _day(payload.get("deadline"), en) or ("none" if en else "未设定")
    if payload.get("deadline") and payload.get("deadline_provisional"):
        deadline += (
            " (counted on a provisional calendar: it may move when the year's official"
            " holidays are published)"
            if en
            else "（按临时工作日历计算，国务院公布该年放假安排后可能调整）"
        )
    if en:
        subject = f"[{tag}] {title} ({unit})"
        rows = [
            ("Case", f"{title} (no. {case_id})"),
            ("Responsible unit", unit),
            ("Deadline", deadline),
            ("Light", light),
        ]
        if level:
            rows.append(("Escalation level", f"{level} ({_LEVELS[int(level)][1]})"))
        rows.append(("Open the case", link))
        footer = "Sent automatically by zhenggai; please do not reply."
    else:
        subject = f"【{tag}】{title}（{unit}）"
        rows = [
            ("案件", f"{title}（编号 {case_id}）"),
            ("责任单位", unit),
            ("整改期限", deadline),
            ("亮灯", light),
        ]
        if level:
            rows.append(("督办等级", f"第 {level} 级（{_LEVELS[int(level)][0]}）"))
        rows.append(("查看案件", link))
        footer = "本消息由整改跟踪系统自动发送，请勿直接回复。"
    lead = _lead(payload, en)
    greeting = f"{unit}:" if en else f"{unit}："
    colon = ": " if en else "："
    text = "\n".join([greeting, "", lead, "", *(f"{k}{colon}{v}" for k, v in rows), "", footer])
    markdown = "\n\n".join(
        [
            f"### {subject}",
            lead,
            *(f"**{k}**{colon}{v}" for k, v in rows[:-1]),
            f"[{rows[-1][0]}]({link})",
        ]
    )
    return Message(subject=subject, text=text + "\n", markdown=markdown, link=link)


def render_digest(payload: dict[str, Any], language: str, base_url: str) -> Message:
    """One message for a contact's day: a line per notice, each with its link."""
    en = language == "en"
    items: list[dict[str, Any]] = list(payload.get("items") or [])
    day = payload.get("day", "")
    subject = (
        f"[Daily digest] {len(items)} rectification notices ({day})"
        if en
        else f"【每日汇总】{day} 共 {len(items)} 条整改通知"
    )
    lines: list[str] = []
    for n, item in enumerate(items, 1):
        one = render(item, language, base_url)
        lines.append(f"{n}. {one.subject}\n   {_lead(item, en)}\n   {one.link}")
    footer = (
        "Sent automatically by zhenggai; please do not reply."
        if en
        else "本消息由整改跟踪系统自动发送，请勿直接回复。"
    )
    text = "\n\n".join([subject, *lines, footer]) + "\n"
    markdown = "\n\n".join(
        [f"### {subject}"]
        + [
            f"{n}. [{render(item, language, base_url).subject}]"
            f"({case_link(base_url, str(item.get('case_id', '')))})"
            for n, item in enumerate(items, 1)
        ]
    )
    return Message(subject=subject, text=text, markdown=markdown, link=case_link(base_url, ""))
