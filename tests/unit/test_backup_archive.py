"""`zhenggai backup` / `restore` / `restore-drill` on bad input: one line, exit 2, nothing
written. (The real round trip, with `up`, is tests/e2e/test_restore_drill_both.py.)"""

from __future__ import annotations

import json
import tarfile
from io import BytesIO
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.backup import MANIFEST
from cli.main import app


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ZHENGGAI_LANGUAGE", "en")
    for name in ("ZHENGGAI_DATA_DIR", "DATABASE_URL", "ZHENGGAI_AUDIT_KEY"):
        # Recorded, then removed: the root's --data-dir sets ZHENGGAI_DATA_DIR in this
        # process, and the teardown takes it away again.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    return CliRunner()


def _archive(path: Path, manifest: dict[str, object], extra: str | None = None) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, blob in ((MANIFEST, json.dumps(manifest).encode()), (extra, b"x")):
            if name is None:
                continue
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            archive.addfile(info, BytesIO(blob))
    return path


def test_backup_of_a_data_dir_without_data_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "backup", str(tmp_path / "b.tar.gz")])
    assert result.exit_code == 2
    assert "holds no data of zhenggai up" in result.output
    assert list(tmp_path.iterdir()) == []


def test_restore_refuses_what_backup_did_not_make(runner: CliRunner, tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("not an archive")
    foreign = _archive(tmp_path / "foreign.tar.gz", {"format": "other"})
    escaping = _archive(
        tmp_path / "escaping.tar.gz",
        {"format": "zhenggai-data-dir", "contents": ["pg", "temporal.sqlite"]},
        extra="../outside",
    )
    for archive in (plain, foreign, escaping):
        target = tmp_path / f"into-{archive.stem}"
        result = runner.invoke(app, ["--data-dir", str(target), "restore", str(archive)])
        assert result.exit_code == 2, result.output
        assert "is not an archive made by zhenggai backup" in result.output
        assert not (tmp_path / "outside").exists()
        assert not target.exists() or not any(target.iterdir())


def test_restore_into_a_data_dir_in_use_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    archive = _archive(
        tmp_path / "ok.tar.gz",
        {"format": "zhenggai-data-dir", "contents": ["pg", "temporal.sqlite"], "made_at": "-"},
    )
    used = tmp_path / "used"
    used.mkdir()
    (used / "temporal.sqlite").write_text("live")
    result = runner.invoke(app, ["--data-dir", str(used), "restore", str(archive)])
    assert result.exit_code == 2
    assert "is not empty" in result.output
    assert (used / "temporal.sqlite").read_text() == "live"


def test_the_drill_needs_an_archive_or_a_restored_copy_and_the_audit_key(
    runner: CliRunner, tmp_path: Path
) -> None:
    neither = runner.invoke(app, ["restore-drill"])
    assert neither.exit_code == 2
    assert "either an archive" in neither.output
    no_key = runner.invoke(app, ["restore-drill", str(tmp_path / "x.tar.gz")])
    assert no_key.exit_code == 2
    assert "ZHENGGAI_AUDIT_KEY" in no_key.output
