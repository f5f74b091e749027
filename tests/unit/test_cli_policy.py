"""`zhenggai policy show|check` and `zhenggai calendar`, through typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from domain.policy import DEFAULT_POLICY

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "policy.example.toml"

CLASSES = """
version = "2027-01"
[[calendar.years]]
year = 2031
holidays = [2031-01-01, 2031-01-24]
[classes.township]
label = "乡镇"
reminder_working_days = [3, 1]
[classes.township.deadlines]
immediate = 7
"""


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("ZHENGGAI_POLICY_FILE", "ZHENGGAI_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def test_policy_check_accepts_the_example_file(runner: CliRunner) -> None:
    result = runner.invoke(app, ["policy", "check", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "有效" in result.output


def test_policy_check_lists_each_problem_and_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("extension_cap = -1\nbogus = 1\n", encoding="utf-8")
    result = runner.invoke(app, ["policy", "check", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"zhenggai: {bad}: extension_cap: 不能小于 0",
        f"zhenggai: {bad}: bogus: 未知的键",
    ]
    english = runner.invoke(app, ["policy", "check", str(bad)], env={"ZHENGGAI_LANGUAGE": "en"})
    assert f"zhenggai: {bad}: bogus: unknown key" in english.stderr.splitlines()


def test_policy_show_prints_the_built_in_rules_in_chinese(runner: CliRunner) -> None:
    result = runner.invoke(app, ["policy", "show"])
    assert result.exit_code == 0, result.output
    assert "内置默认" in result.output
    assert "立行立改 10 个工作日" in result.output
    assert "4 问责建议（逾期 20 个工作日）" in result.output
    assert DEFAULT_POLICY.fingerprint()[:16] in result.output


def test_policy_show_prints_a_files_classes_in_english(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(CLASSES, encoding="utf-8")
    result = runner.invoke(
        app, ["policy", "show", "--file", str(path)], env={"ZHENGGAI_LANGUAGE": "en"}
    )
    assert result.exit_code == 0, result.output
    assert "version: 2027-01" in result.output
    assert "township (乡镇):" in result.output
    assert "default deadlines: immediate 7, time-limited 60" in result.output
    assert "reminders: 3, 1 working days before the deadline" in result.output
    assert "years from the policy file: 2031" in result.output


def test_policy_show_uses_the_settings_file_and_exits_2_when_it_is_broken(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[deadlines]\nimmediate = 0\n", encoding="utf-8")
    result = runner.invoke(app, ["policy", "show"], env={"ZHENGGAI_POLICY_FILE": str(path)})
    assert result.exit_code == 2
    assert result.stderr.strip() == f"zhenggai: {path}: deadlines.immediate: 不能小于 1"


def test_calendar_lists_each_year_by_where_its_days_come_from(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(CLASSES, encoding="utf-8")
    result = runner.invoke(app, ["calendar"], env={"ZHENGGAI_POLICY_FILE": str(path)})
    assert result.exit_code == 0, result.output
    rows = dict(line.split("  ", 1) for line in result.output.splitlines())
    assert rows["2025"].startswith("官方")
    assert rows["2031"].startswith("运营方")
    assert rows["2030"].startswith("临时")
    english = runner.invoke(app, ["calendar"], env={"ZHENGGAI_LANGUAGE": "en"})
    assert "2025  official (chinese-calendar package)" in english.output.splitlines()


def test_worker_and_api_refuse_to_start_on_a_broken_policy_file(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[[escalation]]\nlevel = 3\nworking_days_after_deadline = 1\n")
    for command in ("worker", "api"):
        env = {
            "ZHENGGAI_POLICY_FILE": str(path),
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none",  # checked later
        }
        result = runner.invoke(app, [command], env=env)
        assert result.exit_code == 2, result.output
        assert f"{path}: escalation: " in result.stderr
