"""`zhenggai audit` finds its database as the other commands do (cli.database):
DATABASE_URL, else the PostgreSQL a running `zhenggai up` keeps in the data dir;
and its witness file defaults to the data dir for that embedded database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import database
from cli.audit import audit_app, witness_file
from settings import Settings

runner = CliRunner()


def _env(data_dir: Path) -> dict[str, str | None]:
    return {
        "DATABASE_URL": None,
        "ZHENGGAI_DATABASE_URL": None,
        "ZHENGGAI_DATA_DIR": str(data_dir),
        "ZHENGGAI_AUDIT_KEY": "k" * 32,
        "ZHENGGAI_AUDIT_WITNESS_FILE": None,
        "ZHENGGAI_LANGUAGE": "en",
        "ZHENGGAI_ENVIRONMENT": "development",
    }


def _running_up(data_dir: Path, socket_dir: Path) -> None:
    """The postmaster.pid of an embedded server: line 5 is its socket directory."""
    (data_dir / "pg").mkdir(parents=True)
    (data_dir / "pg" / "postmaster.pid").write_text(
        f"12345\n{data_dir / 'pg'}\n1700000000\n5432\n{socket_dir}\nlocalhost\n"
    )


@pytest.mark.parametrize("command", ["seal", "verify"])
def test_without_database_url_the_audit_uses_the_running_up_of_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    resolved: list[str] = []
    real = database.resolve_database_url

    def spy(settings: Settings) -> str:
        resolved.append(real(settings))
        return resolved[-1]

    monkeypatch.setattr(database, "resolve_database_url", spy)
    _running_up(tmp_path, tmp_path / "no-socket-here")
    result = runner.invoke(audit_app, [command], env=_env(tmp_path))
    # No server listens there: the one-line answer names the embedded database.
    assert result.exit_code == 2, result.output
    assert resolved == [f"postgresql://postgres@/zhenggai?host={tmp_path / 'no-socket-here'}"]
    assert "cannot reach the database postgresql://postgres@/zhenggai?host=" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_without_database_url_nor_up_the_audit_says_how_to_get_one(tmp_path: Path) -> None:
    result = runner.invoke(audit_app, ["verify"], env=_env(tmp_path))
    assert result.exit_code == 2
    assert "DATABASE_URL is not set" in result.output
    assert "zhenggai up" in result.output


def test_the_witness_file_defaults_to_the_data_dir_only_for_the_embedded_database(
    tmp_path: Path,
) -> None:
    embedded = Settings(data_dir=tmp_path, database_url=None)
    assert witness_file(embedded) == tmp_path / "audit" / "witness.jsonl"
    external = Settings(data_dir=tmp_path, database_url="postgresql://u@h/db")
    assert witness_file(external) is None
    chosen = tmp_path / "elsewhere.jsonl"
    configured = Settings(database_url="postgresql://u@h/db", audit_witness_file=chosen)
    assert witness_file(configured) == chosen
