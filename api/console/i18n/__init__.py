"""The console's words in Chinese (the default) and English, and the language of a request.

The language is the ``zg_lang`` cookie (the switch in the header), else
``ZHENGGAI_LANGUAGE=en``, else an ``Accept-Language`` that prefers English,
else Chinese.
"""

from __future__ import annotations

from api.console.i18n.messages import LABELS, MESSAGES

__all__ = ["LABELS", "MESSAGES", "choose_language", "translate"]

LANGUAGES = ("zh-CN", "en")


def choose_language(cookie: str | None, configured: str, accept: str) -> str:
    if cookie in LANGUAGES:
        return str(cookie)
    if configured == "en":
        return "en"
    first = accept.split(",")[0].strip().lower()
    if first.startswith("en"):
        return "en"
    return "zh-CN"


def translate(key: str, language: str) -> str:
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    return pair[1] if language == "en" else pair[0]
