"""The package as a user installs it: the wheel built from pyproject, installed into a
fresh virtual environment outside the source tree, runs `zhenggai` from elsewhere.

Nothing of the source tree is importable there (the working directory is a temporary
folder, PYTHONPATH is unset), so a module, migration or template the wheel left out
fails here: `zhenggai --help` imports the command, `zhenggai migrate` runs every
Alembic migration from the installed files, `zhenggai api` imports the app and serves
/health (Temporal is not running: 503 is the expected answer, the point is that it
starts and answers).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from store.engine import make_engine
from tests.postgres import fresh_database

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
BOOT_TIMEOUT_S = 60
STEP_TIMEOUT_S = 300


def _uv() -> str:
    found = shutil.which("uv") or shutil.which("uv", path=str(Path.home() / ".local" / "bin"))
    if found is None:
        pytest.skip("uv is not installed")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(**extra: str) -> dict[str, str]:
    """The environment without the project's settings or a path into the source tree."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS", "PYTHONPATH", "VIRTUAL_ENV")
        and not k.startswith("ZHENGGAI_")
    }
    env.update(extra)
    return env


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        args,
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([_uv(), "build", "--wheel", "-o", str(out), str(ROOT)], cwd=ROOT)
    (built,) = out.glob("zhenggai-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment outside the tree with the wheel installed; its bin/."""
    home = tmp_path_factory.mktemp("installed")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    _run([_uv(), "venv", str(home / "venv"), "--python", version], cwd=home)
    python = home / "venv" / "bin" / "python"
    _run([_uv(), "pip", "install", "--python", str(python), str(wheel)], cwd=home)
    return home / "venv" / "bin"


def test_the_wheel_holds_every_package_pyproject_lists_and_the_migrations(wheel: Path) -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    target = config["tool"]["hatch"]["build"]["targets"]["wheel"]
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in target["packages"]:
        assert f"{package}/__init__.py" in names, package
        source = {
            p.relative_to(ROOT).as_posix()
            for p in (ROOT / package).rglob("*.py")
            if "__pycache__" not in p.parts
        }
        assert source <= names, sorted(source - names)
    assert set(target.get("force-include", {}).values()) <= names
    assert "worker.py" in names
    migrations = {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "store/migrations/versions").glob("*.py")
    }
    assert migrations, "no migration found in the source tree"
    assert migrations <= names, sorted(migrations - names)
    assert {"store/migrations/env.py", "store/migrations/script.py.mako"} <= names


@pytest.fixture
def database(pg_server: str) -> Iterator[str]:
    with fresh_database(pg_server, migrate=False) as url:
        yield url


def test_the_installed_command_migrates_and_serves_from_outside_the_tree(
    venv: Path, database: str, tmp_path: Path
) -> None:
    zhenggai = str(venv / "zhenggai")
    assert not tmp_path.is_relative_to(ROOT)
    shown = _run([zhenggai, "--help"], cwd=tmp_path)
    assert "migrate" in shown.stdout
    assert "projections" in shown.stdout

    _run([zhenggai, "migrate"], cwd=tmp_path, DATABASE_URL=database)
    engine = make_engine(database, pool_size=1)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM events")).scalar_one() == 0
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()

    port = _free_port()
    log = tmp_path / "api.log"
    with log.open("w") as output:
        api = subprocess.Popen(
            [zhenggai, "api", "--port", str(port)],
            cwd=tmp_path,
            env=_env(DATABASE_URL=database, TEMPORAL_ADDRESS=f"127.0.0.1:{_free_port()}"),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + BOOT_TIMEOUT_S
        answer = None
        while answer is None:
            assert api.poll() is None, f"zhenggai api exited: {log.read_text()}"
            assert time.monotonic() < deadline, "zhenggai api did not answer /health in time"
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=10)
            except httpx.TransportError:
                time.sleep(0.3)
        # The database is up, Temporal is not: the API says so rather than failing.
        assert answer.status_code == 503, answer.text
        body = answer.json()
        assert body["database"]["ok"] is True
        assert body["temporal"]["ok"] is False
    finally:
        api.terminate()
        try:
            api.wait(timeout=15)
        except subprocess.TimeoutExpired:
            api.kill()
            api.wait()
