"""The dependency rules of DESIGN.md, checked on the source: dependencies point inward."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = {
    "domain",
    "store",
    "activities",
    "workflows",
    "settings",
    "application",
    "api",
    "cli",
    "worker",
}

# What each part may import of the project; everything else of the project is forbidden.
# The entry points (cli/, worker.py) sit on top: nothing imports them.
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "store": {"domain"},
    "activities": {"domain", "store"},
    "workflows": {"domain", "activities"},
    "settings": {"domain", "store"},
    "application": {"domain", "store", "workflows", "settings"},
    "api": {"domain", "store", "workflows", "settings", "application"},
    "worker": {"domain", "store", "activities", "workflows", "settings"},
    "cli": PROJECT - {"cli"},
}
FORBIDDEN_LIBRARIES: dict[str, set[str]] = {
    "domain": {"temporalio", "sqlalchemy", "fastapi", "psycopg", "alembic", "structlog"},
    "store": {"temporalio", "fastapi"},
    "workflows": {"sqlalchemy", "psycopg", "fastapi", "httpx"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _files(package: str) -> list[Path]:
    single = ROOT / f"{package}.py"
    return [single] if single.is_file() else sorted((ROOT / package).rglob("*.py"))


def _violations(package: str) -> list[str]:
    problems = []
    for path in _files(package):
        imported = _imports(path)
        for name in imported & PROJECT - ALLOWED[package] - {package}:
            problems.append(f"{path.relative_to(ROOT)} imports {name}")
        for name in imported & FORBIDDEN_LIBRARIES.get(package, set()):
            problems.append(f"{path.relative_to(ROOT)} imports {name}")
    return problems


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_part_imports_only_what_the_design_allows(package: str) -> None:
    assert _violations(package) == []


def test_no_two_parts_import_each_other_even_through_others() -> None:
    """The parts' import graph has no cycle (api <-> cli, worker <-> cli were one)."""
    graph = {
        part: {name for path in _files(part) for name in _imports(path) & PROJECT} - {part}
        for part in PROJECT
    }

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(nxt == goal or reaches(nxt, goal, seen | {nxt}) for nxt in graph[start] - seen)

    assert [part for part in sorted(PROJECT) if reaches(part, part, set())] == []


def test_the_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import sqlalchemy\nfrom store.tables import events\nfrom . import x\n")
    assert _imports(bad) == {"sqlalchemy", "store"}


def test_domain_imports_only_the_standard_library_pydantic_and_its_calendar_data() -> None:
    import sys

    allowed = set(sys.stdlib_module_names) | {"pydantic", "domain", "chinese_calendar"}
    for path in (ROOT / "domain").rglob("*.py"):
        assert _imports(path) <= allowed, path


def test_the_policy_file_reader_needs_only_the_domain() -> None:
    """The API, the worker and the CLI all read the policy file through settings.policy_file."""
    assert _imports(ROOT / "settings" / "policy_file.py") & PROJECT <= {"domain"}


def test_the_domain_reads_no_files() -> None:
    """Parsing a policy's content is the domain's; reading the file is settings.policy_file's."""
    for path in (ROOT / "domain").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "pathlib" not in _imports(path), path
        assert "read_text(" not in source, path
        assert re.search(r"(?<![\w.])open\(", source) is None, path
