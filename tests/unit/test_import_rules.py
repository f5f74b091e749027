"""The dependency rules of DESIGN.md, checked on the source: dependencies point inward."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = {"domain", "store", "activities", "workflows", "api", "cli", "worker"}

# What each part may import of the project; everything else of the project is forbidden.
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "store": {"domain"},
    "activities": {"domain", "store"},
    "workflows": {"domain", "activities"},
    "api": {"domain", "store", "workflows", "cli"},
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


def _violations(package: str) -> list[str]:
    problems = []
    for path in sorted((ROOT / package).rglob("*.py")):
        imported = _imports(path)
        for name in imported & PROJECT - ALLOWED[package] - {package}:
            problems.append(f"{path.relative_to(ROOT)} imports {name}")
        for name in imported & FORBIDDEN_LIBRARIES.get(package, set()):
            problems.append(f"{path.relative_to(ROOT)} imports {name}")
    return problems


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_part_imports_only_what_the_design_allows(package: str) -> None:
    assert _violations(package) == []


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
    """The API, the worker and the CLI all read the policy file through cli.policy_file."""
    assert _imports(ROOT / "cli" / "policy_file.py") & PROJECT <= {"domain"}


def test_the_domain_reads_no_files() -> None:
    """Parsing a policy's content is the domain's; reading the file is cli.policy_file's."""
    for path in (ROOT / "domain").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "pathlib" not in _imports(path), path
        assert "read_text(" not in source, path
        assert re.search(r"(?<![\w.])open\(", source) is None, path
