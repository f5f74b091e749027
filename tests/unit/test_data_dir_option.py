"""`--data-dir` after any command: the command finds a running `up`'s database there."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app, hoist_data_dir


def test_the_option_moves_to_the_front_wherever_it_is_written() -> None:
    assert hoist_data_dir(["token", "list", "--data-dir", "/srv/zg"]) == [
        "--data-dir",
        "/srv/zg",
        "token",
        "list",
    ]
    assert hoist_data_dir(["audit", "verify", "--data-dir=/d", "--stream", "s"]) == [
        "--data-dir=/d",
        "audit",
        "verify",
        "--stream",
        "s",
    ]
    assert hoist_data_dir(["token", "list"]) == ["token", "list"]


def test_a_command_given_a_data_dir_looks_for_that_up_s_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A postmaster.pid as a running `up` leaves it, naming a socket folder where no
    server listens: the command tries that database (and says so), not DATABASE_URL."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("ZHENGGAI_DATA_DIR", raising=False)
    socket_dir = tmp_path / "sockets"
    socket_dir.mkdir()
    (tmp_path / "pg").mkdir()
    (tmp_path / "pg" / "postmaster.pid").write_text(
        f"99999\n{tmp_path / 'pg'}\n1700000000\n5432\n{socket_dir}\n\n"
    )
    result = CliRunner().invoke(app, hoist_data_dir(["token", "list", "--data-dir", str(tmp_path)]))
    assert result.exit_code == 2
    assert str(socket_dir) in result.output + (result.stderr or "")
    monkeypatch.delenv("ZHENGGAI_DATA_DIR", raising=False)


def test_without_a_data_dir_or_a_url_the_command_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("ZHENGGAI_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./.zhenggai here
    result = CliRunner().invoke(app, ["token", "list"])
    assert result.exit_code == 2
    assert "DATABASE_URL" in result.output + (result.stderr or "")
