"""The domain imports only the standard library, pydantic and (lazily) chinese_calendar."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[3] / "domain"
ALLOWED = {"pydantic", "domain", "__future__"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_domain_imports_nothing_but_the_standard_library_and_pydantic() -> None:
    for path in DOMAIN.rglob("*.py"):
        foreign = _imports(path) - ALLOWED - set(sys.stdlib_module_names)
        if path.name == "workdays.py":
            foreign -= {"chinese_calendar"}  # pure data, imported inside a function
        assert not foreign, f"{path.name} imports {foreign}"
