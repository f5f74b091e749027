"""CSRF: a token on every form, checked on every POST (403 page otherwise).

Double submit bound to the session: the token is the session's CSRF secret,
sent in the ``zg_csrf`` cookie and in each form's ``csrf_token`` field; a POST
must carry both, equal to each other and to the session's secret. Before sign-in
(the login form) the cookie holds a random value and the form must repeat it.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

__all__ = ["COOKIE", "FIELD", "CsrfFailed", "check_csrf", "fresh_token"]

COOKIE = "zg_csrf"
FIELD = "csrf_token"


class CsrfFailed(Exception):
    pass


def fresh_token() -> str:
    return secrets.token_urlsafe(32)


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


async def check_csrf(request: Request, expected: str | None) -> None:
    """``expected``: the session's secret (None before sign-in: the cookie's value)."""
    form = await request.form()
    sent = form.get(FIELD)
    cookie = request.cookies.get(COOKIE, "")
    if not isinstance(sent, str) or not _same(sent, cookie):
        raise CsrfFailed
    if expected is not None and not _same(sent, expected):
        raise CsrfFailed
