"""Domain errors: every refusal has a stable code and a message in Chinese and English.

DomainError
├── PermissionDenied      the actor's role or unit may not do this
├── InvalidCommand        the command's content breaks a rule (e.g. a past deadline)
└── InvalidState          the case is not in a state that allows the command
"""

from __future__ import annotations

__all__ = ["DomainError", "InvalidCommand", "InvalidState", "PermissionDenied"]


class DomainError(Exception):
    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en

    def message(self, language: str = "zh-CN") -> str:
        return self.message_en if language == "en" else self.message_zh


class PermissionDenied(DomainError):
    pass


class InvalidCommand(DomainError):
    pass


class InvalidState(DomainError):
    pass
