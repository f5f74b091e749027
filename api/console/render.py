"""Pages from the Jinja2 templates: one base layout, one partial per repeated block.

Every page gets the person (``me``), the CSRF token of their forms, the language,
``t`` (a word of the console), ``label`` (a domain code in words), and the date
filters: ``cn_date`` (2027年3月31日) and ``days_left`` (还剩 5 个工作日).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.console.i18n import LABELS, translate
from domain.chinese_dates import zh_date

__all__ = ["page"]

TEMPLATES = Path(__file__).parent / "templates"
CHINA = ZoneInfo("Asia/Shanghai")
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _cn_date(value: date | datetime | str | None, language: str = "zh-CN") -> str:
    if value is None:
        return "—"
    if isinstance(value, str):  # a date as events keep it (ISO), e.g. a proposed deadline
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            return value
        return _cn_date(parsed, language)
    if isinstance(value, datetime):
        local = value.astimezone(CHINA)
        if language == "en":
            return local.strftime("%Y-%m-%d %H:%M")
        return f"{zh_date(local)} {local:%H:%M}"
    if language == "en":
        return value.isoformat()
    return zh_date(value)


def _days_left(n: int | None, language: str = "zh-CN") -> str:
    if n is None:
        return "—"
    if n > 0:
        return translate("days_left", language).format(n=n)
    if n == 0:
        return translate("days_today", language)
    return translate("days_over", language).format(n=-n)


def page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    language: str = request.state.console_language
    session = getattr(request.state, "console_session", None)

    def t(key: str, **values: Any) -> str:
        text = translate(key, language)
        return text.format(**values) if values else text

    def label(kind: str, code: object) -> str:
        key = str(getattr(code, "value", code))
        pair = LABELS.get(kind, {}).get(key)
        if pair is None:
            return key
        return pair[1] if language == "en" else pair[0]

    shown = {
        "request": request,
        "lang": language,
        "t": t,
        "label": label,
        "cn_date": lambda v: _cn_date(v, language),
        "days_left": lambda n: _days_left(n, language),
        "me": None if session is None else session.account,
        "csrf": getattr(request.state, "csrf_token", ""),
        "path": request.url.path,
        "new_key": lambda: uuid.uuid4().hex,
        **context,
    }
    html = _env.get_template(template).render(shown)
    return HTMLResponse(html, status_code=status_code)
