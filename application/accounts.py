"""People of the web console: accounts, signing in and out, sessions, passwords.

A person signs in with user name and password (an argon2 hash is stored); five
failures in a row lock the account for 15 minutes. A session is a random value
in an HttpOnly cookie (only its SHA-256 is stored) with a CSRF secret that every
form of the session carries; it ends after ``console_session_idle_minutes``
without a request, at logout, or when the account is disabled. The person is
the actor of every command they send (``Caller`` with principal ``account:<id>``);
API tokens stay for machines.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from application.access import ensure_role
from application.caller import Caller
from application.errors import Refusal
from application.services import Services
from domain.vocabulary import Actor, Role
from store.accounts import AccountExists, AccountRecord, Accounts, AccountUnitNotFound

__all__ = [
    "LOCKOUT",
    "MAX_FAILURES",
    "AccountOut",
    "ConsoleSession",
    "SessionStarted",
    "account_list",
    "change_password",
    "create_account",
    "end_session",
    "new_account",
    "open_session",
    "set_account_disabled",
    "sign_in",
]

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 10
_HASHER = PasswordHasher()
# Checked against when the user name is unknown, so both take the same time.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")
CONSOLE_ROLES = (Role.SUPERVISOR, Role.UNIT, Role.INSPECTOR, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class AccountOut:
    account_id: str
    username: str
    display_name: str
    role: Role
    unit_id: str | None
    locked_until: datetime | None
    created_at: datetime
    disabled: bool
    unit_name: str | None = None


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A signed-in person: who acts, and the CSRF token of their forms."""

    caller: Caller
    account: AccountOut
    csrf_token: str


@dataclass(frozen=True, slots=True)
class SessionStarted:
    cookie_value: str  # shown to the browser only, never stored
    session: ConsoleSession


def _out(record: AccountRecord) -> AccountOut:
    return AccountOut(
        account_id=record.account_id,
        username=record.username,
        display_name=record.display_name,
        role=Role(record.role),
        unit_id=record.unit_id,
        locked_until=record.locked_until,
        created_at=record.created_at,
        disabled=record.disabled_at is not None,
        unit_name=record.unit_name,
    )


def _caller(record: AccountRecord, request_id: str | None) -> Caller:
    actor = Actor(user_id=record.username, role=Role(record.role), unit_id=record.unit_id)
    return Caller(actor=actor, principal=f"account:{record.account_id}", request_id=request_id)


def _password_problem(password: str) -> Refusal | None:
    if len(password) < MIN_PASSWORD:
        return Refusal(
            422,
            "password_too_short",
            f"密码至少 {MIN_PASSWORD} 个字符",
            f"the password needs at least {MIN_PASSWORD} characters",
            errors=[{"field": "password", "message": "too short"}],
        )
    return None


def new_account(
    accounts: Accounts,
    *,
    username: str,
    display_name: str,
    role: Role,
    unit_id: str | None,
    password: str | None = None,
) -> tuple[AccountOut, str]:
    """Creates the account; returns it and its first password (generated when None)."""
    username, display_name = username.strip(), display_name.strip()
    if role not in CONSOLE_ROLES:
        raise Refusal(422, "role_unknown", f"无此角色：{role}", f"no such role: {role}")
    if not username or not display_name:
        raise Refusal(
            422, "account_incomplete", "用户名和姓名不能为空", "user name and name needed"
        )
    if role is not Role.ADMIN and not unit_id:
        raise Refusal(422, "unit_required", f"角色 {role} 需要单位", f"role {role} needs a unit")
    first = password if password is not None else secrets.token_urlsafe(12)
    problem = _password_problem(first)
    if problem is not None:
        raise problem
    try:
        record = accounts.create(
            account_id=secrets.token_hex(6),
            username=username,
            display_name=display_name,
            role=role.value,
            unit_id=unit_id if role is not Role.ADMIN else None,
            password_hash=_HASHER.hash(first),
        )
    except AccountExists as exc:
        raise Refusal(
            409, "username_taken", f"用户名 {username} 已被使用", f"user name {username} is taken"
        ) from exc
    except AccountUnitNotFound as exc:
        raise Refusal(
            422, "unit_not_found", f"单位 {unit_id} 不存在", f"unit {unit_id} does not exist"
        ) from exc
    return _out(record), first


async def create_account(
    services: Services,
    caller: Caller,
    *,
    username: str,
    display_name: str,
    role: Role,
    unit_id: str | None,
) -> tuple[AccountOut, str]:
    """An admin creates an account; the generated first password is shown to them once."""
    ensure_role(caller.actor, Role.ADMIN)
    return await asyncio.to_thread(
        new_account,
        services.accounts,
        username=username,
        display_name=display_name,
        role=role,
        unit_id=unit_id,
    )


async def account_list(services: Services, caller: Caller) -> list[AccountOut]:
    ensure_role(caller.actor, Role.ADMIN)
    return [_out(r) for r in await asyncio.to_thread(services.accounts.all_accounts)]


async def set_account_disabled(
    services: Services, caller: Caller, account_id: str, disabled: bool
) -> None:
    ensure_role(caller.actor, Role.ADMIN)
    if caller.principal == f"account:{account_id}":
        raise Refusal(409, "own_account", "不能停用自己的账号", "you cannot disable yourself")
    if not await asyncio.to_thread(services.accounts.set_disabled, account_id, disabled):
        raise Refusal(404, "account_not_found", "账号不存在", "no such account")


def _bad_login() -> Refusal:
    return Refusal(401, "login_failed", "用户名或密码不正确", "wrong user name or password")


def _locked(until: datetime) -> Refusal:
    return Refusal(
        423,
        "account_locked",
        "连续登录失败次数过多，账号已暂时锁定，请 15 分钟后再试",
        "too many failed sign-ins: the account is locked for 15 minutes",
        locked_until=until.isoformat(),
    )


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _sign_in(
    accounts: Accounts, username: str, password: str, idle: timedelta, request_id: str | None
) -> SessionStarted:
    now = datetime.now(UTC)
    record = accounts.by_username(username.strip())
    if record is None or record.disabled_at is not None:
        _verify(_DUMMY_HASH, password)
        raise _bad_login()
    if record.locked_until is not None and record.locked_until > now:
        raise _locked(record.locked_until)
    if not _verify(record.password_hash, password):
        count = accounts.record_failure(record.account_id, MAX_FAILURES, now + LOCKOUT)
        if count >= MAX_FAILURES:
            raise _locked(now + LOCKOUT)
        raise _bad_login()
    accounts.record_success(record.account_id)
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    accounts.start_session(cookie, record.account_id, csrf, now + idle)
    return SessionStarted(cookie, ConsoleSession(_caller(record, request_id), _out(record), csrf))


async def sign_in(
    services: Services, username: str, password: str, request_id: str | None = None
) -> SessionStarted:
    """401 for a wrong name or password (the same for both), 423 while locked."""
    idle = timedelta(minutes=services.settings.console_session_idle_minutes)
    return await asyncio.to_thread(
        _sign_in, services.accounts, username, password, idle, request_id
    )


def _open(
    accounts: Accounts, cookie: str, idle: timedelta, request_id: str | None
) -> ConsoleSession | None:
    found = accounts.session(cookie)
    now = datetime.now(UTC)
    if found is None or found.expires_at <= now or found.account.disabled_at is not None:
        return None
    # Idle expiry: each request moves the end; written at most once a minute.
    if now - found.last_seen_at > timedelta(minutes=1):
        accounts.touch_session(cookie, now, now + idle)
    return ConsoleSession(
        _caller(found.account, request_id), _out(found.account), found.csrf_secret
    )


async def open_session(
    services: Services, cookie: str, request_id: str | None = None
) -> ConsoleSession | None:
    """The live session of a cookie value, or None (unknown, expired, ended, disabled)."""
    idle = timedelta(minutes=services.settings.console_session_idle_minutes)
    return await asyncio.to_thread(_open, services.accounts, cookie, idle, request_id)


async def end_session(services: Services, cookie: str) -> None:
    await asyncio.to_thread(services.accounts.end_session, cookie)


def _change(accounts: Accounts, account_id: str, cookie: str, old: str, new: str) -> None:
    record = accounts.by_id(account_id)
    if record is None or not _verify(record.password_hash, old):
        raise Refusal(
            422,
            "password_wrong",
            "当前密码不正确",
            "the current password is wrong",
            errors=[{"field": "old_password", "message": "wrong"}],
        )
    problem = _password_problem(new)
    if problem is not None:
        raise problem
    accounts.set_password_hash(account_id, _HASHER.hash(new))
    accounts.end_sessions_of(account_id, keep=cookie)


async def change_password(
    services: Services, session: ConsoleSession, cookie: str, old: str, new: str
) -> None:
    """The person's own password; their other sessions end."""
    await asyncio.to_thread(
        _change, services.accounts, session.account.account_id, cookie, old, new
    )
