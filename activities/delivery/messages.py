"""The words of a notice, in Chinese (default) or English, rendered at delivery time.

Rows keep facts (case, unit, deadline, kind, level), not text, so the language
and the link base can change without rewriting the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Message", "light_for", "render"]

# kind: (zh subject tag, en subject tag)
_TAGS: dict[str, tuple[str, str]] = {
    "reminder": ("整改提醒", "Rectification reminder"),
    "warning": ("黄灯预警", "Yellow warning"),
    "milestone_due": ("阶段节点到期", "Milestone due"),
    "milestone_behind": ("阶段节点滞后", "Milestone behind"),
    "overdue": ("红灯：整改逾期", "Red: rectification overdue"),
    "escalation": ("逾期升级", "Escalation"),
    "decision_reminder": ("问责建议待决定", "Accountability decision pending"),
}
_LEVELS: dict[int, tuple[str, str]] = {
    1: ("催办", "urge"),
    2: ("督办", "formal supervision"),
    3: ("挂牌督办", "listed supervision"),
    4: ("问责建议", "accountability recommendation"),
}
_LIGHTS = {"green": ("绿灯", "green"), "yellow": ("黄灯", "yellow"), "red": ("红灯", "red")}
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


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    text: str  # plain text: email body
    markdown: str  # robots (DingTalk, WeCom)
    link: str


def _lead(p: dict[str, Any], en: bool) -> str:
    kind, level = p.get("kind", ""), p.get("level")
    before, overdue = p.get("working_days_before"), p.get("working_days_overdue")
    milestone = p.get("milestone_id") or ""
    zh_level, en_level = _LEVELS.get(int(level or 0), ("", ""))
    leads = {
        "reminder": (
            f"距整改期限还有 {before} 个工作日，请抓紧推进整改。"
            if before
            else "整改期限临近，请抓紧推进整改。",
            f"{before} working days remain before the deadline."
            if before
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
    case_id = payload.get("case_id", "")
    link = f"{base_url.rstrip('/')}/cases/{case_id}"
    light = _LIGHTS.get(str(payload.get("light", "")), ("", ""))[1 if en else 0]
    deadline = payload.get("deadline") or ("none" if en else "未设定")
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
