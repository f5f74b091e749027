"""One login per process, each a member of its group role (migration 0011).

``ensure_process_logins(owner_url, secrets_file)`` makes, where missing, the
login role of each process (``zhenggai_worker_login`` IN ROLE
``zhenggai_worker``, and so on), gives each the password kept in
``secrets_file`` (generated on first use; the file is written with mode 0600),
and returns the URL each process connects with: the owner's URL with the
login's name and password. Run it as the owner after migrating, on every
start: it is idempotent, and it sets the password again each time, so the file
and the server cannot drift apart (a server with ``trust`` authentication
ignores the passwords). The password is sent already hashed (SCRAM or MD5, as
the server's ``password_encryption`` says), never in clear text.

The owner needs CREATEROLE (and, on PostgreSQL 16 and later, ADMIN OPTION on
the group roles, which it has when its migration created them). Roles belong
to the whole server: two deployments sharing a server should use two
``prefix``\\ es.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import make_url

__all__ = ["GROUP_ROLES", "PROCESSES", "ensure_process_logins", "login_role"]

# The processes `zhenggai up` runs, each with the group role whose grants it needs.
PROCESSES = ("worker", "api", "projector", "dispatcher")
GROUP_ROLES: Mapping[str, str] = {
    "worker": "zhenggai_worker",
    "api": "zhenggai_api",
    "projector": "zhenggai_projector",
    "dispatcher": "zhenggai_dispatcher",
    "reader": "zhenggai_reader",
    "auditor": "zhenggai_auditor",
}

_TOO_MUCH = ("rolsuper", "rolbypassrls", "rolcreaterole", "rolcreatedb", "rolreplication")


def login_role(process: str, prefix: str = "zhenggai") -> str:
    return f"{prefix}_{process}_login"


def ensure_process_logins(
    owner_url: str,
    secrets_file: Path,
    *,
    processes: Iterable[str] = PROCESSES,
    prefix: str = "zhenggai",
) -> dict[str, str]:
    """The database URL of each process (``{"worker": "postgresql://zhenggai_worker_login:…"}``),
    its login made or brought up to date first."""
    chosen = list(processes)
    unknown = [p for p in chosen if p not in GROUP_ROLES]
    if unknown:
        raise ValueError(f"no group role for process {', '.join(unknown)}")
    passwords = _load(secrets_file)
    logins = {p: login_role(p, prefix) for p in chosen}
    missing = [name for name in logins.values() if name not in passwords]
    if missing:
        passwords.update({name: secrets.token_urlsafe(24) for name in missing})
        _save(secrets_file, passwords)
    libpq_url = make_url(owner_url).set(drivername="postgresql")
    with psycopg.connect(
        libpq_url.render_as_string(hide_password=False), autocommit=True, connect_timeout=5
    ) as conn:
        for process, name in logins.items():
            _ensure_login(conn, name, GROUP_ROLES[process], passwords[name])
    return {
        process: make_url(owner_url)
        .set(username=name, password=passwords[name])
        .render_as_string(hide_password=False)
        for process, name in logins.items()
    }


def _ensure_login(conn: psycopg.Connection[Any], name: str, group: str, password: str) -> None:
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (group,)).fetchone() is None:
        raise LookupError(f"group role {group} is missing: run the migrations first")
    row = conn.execute(
        f"SELECT {', '.join(_TOO_MUCH)} FROM pg_roles WHERE rolname = %s",  # noqa: S608
        (name,),
    ).fetchone()
    if row is None:
        with contextlib.suppress(psycopg.errors.DuplicateObject):  # made by another just now
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN INHERIT IN ROLE {}").format(
                    sql.Identifier(name), sql.Identifier(group)
                )
            )
    elif any(row):
        granted = ", ".join(a for a, on in zip(_TOO_MUCH, row, strict=True) if on)
        raise PermissionError(f"login {name} has more than its process needs: {granted}")
    # On every start, for a login that lost its membership or was made NOINHERIT.
    conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(name)))
    hashed = conn.pgconn.encrypt_password(password.encode(), name.encode(), None)
    conn.execute(
        sql.SQL("ALTER ROLE {} LOGIN INHERIT PASSWORD {}").format(
            sql.Identifier(name), sql.Literal(hashed.decode())
        )
    )


def _load(path: Path) -> dict[str, str]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    if not isinstance(loaded, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in loaded.items()
    ):
        raise ValueError(f"{path} is not a JSON object of login names to passwords")
    return loaded


def _save(path: Path, passwords: dict[str, str]) -> None:
    """Written whole to a 0600 file beside it, then moved over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(passwords, out, indent=2, sort_keys=True)
            out.write("\n")
        os.chmod(scratch, 0o600)
        os.replace(scratch, path)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
