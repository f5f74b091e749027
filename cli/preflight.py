"""Checks that turn a predictable failure into a one-line error and exit code 2."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import typer

from cli.messages import text

__all__ = ["UsageProblem", "exit_with", "port_free", "require_port", "writable_dir"]


class UsageProblem(Exception):
    """Something the user can fix; printed as one line, exit code 2."""


def exit_with(problem: UsageProblem) -> typer.Exit:
    typer.echo(f"zhenggai: {problem}", err=True)
    return typer.Exit(code=2)


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def require_port(host: str, port: int, what: str, env: str, language: str) -> None:
    if not port_free(host, port):
        raise UsageProblem(text("port_in_use", language, port=port, what=what, env=env))


def writable_dir(path: Path, language: str) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageProblem(
            text("data_dir_unwritable", language, path=path, reason=exc.strerror or exc)
        ) from exc
    return path.resolve()
